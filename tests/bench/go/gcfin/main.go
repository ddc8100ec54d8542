// Go's side of the finalizers benchmark of `cargo xtask bench gc` (xtask/src/bench_gc.rs):
// the program of tests/bench/c/gc_fin_bench.c in Go, so that grt's pause is printed beside
// Go's on the same machine in the same run. Go marks what a finalizable object points to
// during its concurrent mark (markrootSpans), not with the world stopped.
//
//	gcfin [cycles]        default: 20 cycles
//
// First it makes 100,000 objects with a finalizer that stay reachable to the end (one in four
// objects allocated then). Before each cycle main makes 20,000 handles, each with a finalizer
// (runtime.SetFinalizer) and the only pointer to a chain of 8 nodes, and drops them; then
// runtime.GC(). Automatic
// collection is off (debug.SetGCPercent(-1), as grt's side runs with GRTGC=off); xtask runs
// it with GOMAXPROCS=2. Each finalizer walks its chain and checks the sum of its values.
// After the measured cycles, more cycles run until 99% of the finalizers ran (at most 100).
//
// One line on stdout, in the C program's form (its keys that Go can give):
//
//	gc_fin collector=go cycles=<n> procs=<n> live=<n> finalizable=<n> chain=<n>
//	       cycle_pause_ns_median=<n> cycle_pause_ns_max=<n> finalized=<n> check=ok
//
//	cycle_pause_ns_*  a cycle's stop-the-world pauses together (MemStats.PauseNs: Go records
//	                  a cycle's two pauses as one figure), median and most
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"sync/atomic"
	"time"
)

const (
	nfin  = 20000
	chain = 8
	// Objects with a finalizer kept reachable all along, spread over spans.
	nlive = 100000
)

type liveObj struct {
	pad [8]uint64
}

var live []*liveObj

type node struct {
	next *node
	v    uint64
}

type handle struct {
	chain *node
	sum   uint64
}

var finalized, bad, made atomic.Uint64

func fin(h *handle) {
	var s uint64
	n := 0
	for p := h.chain; p != nil && n <= chain; p = p.next {
		s += p.v
		n++
	}
	if n != chain || s != h.sum {
		bad.Add(1)
	}
	finalized.Add(1)
}

//go:noinline
func makeHandles() {
	for i := 0; i < nfin; i++ {
		h := &handle{}
		m := made.Load()
		for k := 0; k < chain; k++ {
			n := &node{next: h.chain, v: m*chain + uint64(k) + 1}
			h.sum += n.v
			h.chain = n
		}
		made.Add(1)
		runtime.SetFinalizer(h, fin)
	}
}

func main() {
	cycles := 20
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 1 || v > 1000 || len(os.Args) > 2 {
			fmt.Fprintln(os.Stderr, "usage: gcfin [cycles (1-1000)]")
			os.Exit(2)
		}
		cycles = v
	}
	debug.SetGCPercent(-1)
	live = make([]*liveObj, nlive)
	var junk []*liveObj
	for i := range live {
		live[i] = &liveObj{}
		runtime.SetFinalizer(live[i], func(*liveObj) { bad.Add(1) }) // must never run
		for k := 0; k < 3; k++ {
			junk = append(junk[:0], &liveObj{})
		}
	}
	_ = junk
	runtime.GC() // the start-up's garbage and first sweep out of the way
	var m0, m runtime.MemStats
	runtime.ReadMemStats(&m0)
	pause := make([]uint64, cycles)
	for i := range pause {
		makeHandles()
		runtime.GC()
		runtime.ReadMemStats(&m)
		pause[i] = m.PauseNs[(m.NumGC+255)%256]
	}
	if m.NumGC-m0.NumGC != uint32(cycles) {
		fmt.Fprintln(os.Stderr, "gcfin: cycles ran beyond the ones asked for")
		os.Exit(1)
	}
	for k := 0; k < 100 && finalized.Load()*100 < made.Load()*99; k++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if bad.Load() != 0 {
		fmt.Fprintln(os.Stderr, "gcfin: a finalizer found its handle's chain damaged, or a reachable object's finalizer ran")
		os.Exit(1)
	}
	if finalized.Load()*100 < made.Load()*99 {
		fmt.Fprintln(os.Stderr, "gcfin: fewer than 99% of the finalizers ran")
		os.Exit(1)
	}
	sort.Slice(pause, func(i, j int) bool { return pause[i] < pause[j] })
	fmt.Printf("gc_fin collector=go cycles=%d procs=%d live=%d finalizable=%d chain=%d "+
		"cycle_pause_ns_median=%d cycle_pause_ns_max=%d finalized=%d check=ok\n",
		cycles, runtime.GOMAXPROCS(0), nlive, nfin, chain, pause[cycles/2], pause[cycles-1],
		finalized.Load())
}
