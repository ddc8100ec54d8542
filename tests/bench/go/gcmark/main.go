// Go's side of the marking benchmark of `cargo xtask bench gc` (xtask/src/bench_gc.rs): the
// work of tests/bench/c/gc_mark_bench.c in Go, so that grt's marking of a large heap while
// the program has nothing to run is printed beside Go's on the same machine in the same run
// (Go marks on every idle P: its idle mark workers).
//
//	gcmark [depth [cycles]]        defaults: depth 20 (1,048,575 nodes), 10 cycles
//
// main builds a binary tree of 2^depth - 1 nodes of 32 bytes (two pointers, a stamp and a
// pad word) hanging from a package variable, then runs `cycles` runtime.GC() back to back,
// timing each (it returns once the cycle's marking and sweep are over); automatic
// collection is off (debug.SetGCPercent(-1), as grt's side runs with GRTGC=off). xtask runs
// it with GOMAXPROCS=2. At the end every node's stamp is checked: a damaged node, exit 1.
//
// One line on stdout, in the C program's form (its keys that Go can give):
//
//	gc_mark collector=go nodes=<n> cycles=<n> procs=<n> cycle_ns_median=<n>
//	        cycle_ns_min=<n> marked_bytes=<n> check=ok
//
//	marked_bytes  the heap in use after the last cycle (MemStats.HeapAlloc)
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"time"
)

const stamp = 0x3a4c5e0000000000

type node struct {
	left, right *node
	stamp, pad  uint64
}

var (
	root   *node
	nextID uint64
)

func build(depth int) *node {
	n := &node{stamp: stamp + nextID}
	nextID++
	if depth > 1 {
		n.left = build(depth - 1)
		n.right = build(depth - 1)
	}
	return n
}

func check(n *node, depth int, id *uint64) int {
	bad := 0
	if n.stamp != stamp+*id {
		bad++
	}
	*id++
	if depth > 1 {
		bad += check(n.left, depth-1, id) + check(n.right, depth-1, id)
	}
	return bad
}

func arg(i, def, lo, hi int) int {
	if len(os.Args) <= i {
		return def
	}
	v, err := strconv.Atoi(os.Args[i])
	if err != nil || v < lo || v > hi {
		fmt.Fprintln(os.Stderr, "usage: gcmark [depth (2-26) [cycles (1-1000)]]")
		os.Exit(2)
	}
	return v
}

func main() {
	depth := arg(1, 20, 2, 26)
	cycles := arg(2, 10, 1, 1000)
	debug.SetGCPercent(-1)
	root = build(depth)
	runtime.GC() // the build's garbage and first sweep out of the way
	var m0, m runtime.MemStats
	runtime.ReadMemStats(&m0)
	ns := make([]int64, cycles)
	for i := range ns {
		t0 := time.Now()
		runtime.GC()
		ns[i] = int64(time.Since(t0))
	}
	runtime.ReadMemStats(&m)
	if m.NumGC-m0.NumGC != uint32(cycles) {
		fmt.Fprintln(os.Stderr, "gcmark: cycles ran beyond the ones asked for")
		os.Exit(1)
	}
	var id uint64
	if check(root, depth, &id) != 0 || id != nextID {
		fmt.Fprintln(os.Stderr, "gcmark: the tree is damaged")
		os.Exit(1)
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	fmt.Printf("gc_mark collector=go nodes=%d cycles=%d procs=%d cycle_ns_median=%d "+
		"cycle_ns_min=%d marked_bytes=%d check=ok\n",
		nextID, cycles, runtime.GOMAXPROCS(0), ns[cycles/2], ns[0], m.HeapAlloc)
}
