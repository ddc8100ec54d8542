// Go's side of the globals benchmark of `cargo xtask bench gc` (xtask/src/bench_gc.rs): the
// program of tests/bench/c/gc_data_bench.c in Go, so that grt's pause with a large bss is
// printed beside Go's on the same machine in the same run. Go's write barrier covers stores
// into globals, so Go never reads its data and bss with the world stopped.
//
//	gcdata [cycles]        default: 20 cycles
//	gcdata cycles mapped   the table on Go's heap instead (the peer of grt's registered
//	                       roots benchmark, gc_data_bench_mapped: Go has no registered
//	                       roots; memory it allocated is what a Go program keeps such a
//	                       table in, under the same write barrier)
//
// A 64 MiB table of pointers, a package variable (in the bss), every slot set, points into a
// pool of 65,536 16-byte objects. A writer goroutine stores 1,000 pointers a millisecond into
// the table, in order, round and round. main runs `cycles` runtime.GC() back to back;
// automatic collection is off (debug.SetGCPercent(-1), as grt's side runs with GRTGC=off).
// xtask runs it with GOMAXPROCS=2. At the end every slot must point to an intact object.
//
// One line on stdout, in the C program's form (its keys that Go can give):
//
//	gc_data collector=go where=<bss|mapped> table_bytes=<n> cycles=<n> procs=<n>
//	        cycle_pause_ns_median=<n>
//	        cycle_pause_ns_max=<n> check=ok
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
	words       = 64 << 17
	pool        = 65536
	writesPerMs = 1000
	stamp       = 0x6d617461000000
)

type obj struct {
	stamp, pad uint64
}

var (
	bssTable   [words]*obj
	table      []*obj // bssTable, or with `mapped` a slice of Go's heap
	stopWriter atomic.Bool
	writerDone = make(chan struct{})
)

func writer() {
	pos := 0
	for !stopWriter.Load() {
		for k := 0; k < writesPerMs; k++ {
			table[pos] = table[(pos*7+1)%words]
			pos++
			if pos == words {
				pos = 0
			}
		}
		time.Sleep(time.Millisecond)
	}
	close(writerDone)
}

func main() {
	cycles := 20
	where := "bss"
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		mapped := len(os.Args) == 3 && os.Args[2] == "mapped"
		if err != nil || v < 1 || v > 1000 || (len(os.Args) > 2 && !mapped) {
			fmt.Fprintln(os.Stderr, "usage: gcdata [cycles (1-1000) [mapped]]")
			os.Exit(2)
		}
		cycles = v
		if mapped {
			where = "mapped"
		}
	}
	if where == "mapped" {
		table = make([]*obj, words)
	} else {
		table = bssTable[:]
	}
	debug.SetGCPercent(-1)
	objs := make([]*obj, pool)
	for i := range objs {
		objs[i] = &obj{stamp: stamp + uint64(i)}
	}
	for i := range table {
		table[i] = objs[i%pool]
	}
	objs = nil
	go writer()
	runtime.GC() // the set-up's garbage and first sweep out of the way
	var m0, m runtime.MemStats
	runtime.ReadMemStats(&m0)
	pause := make([]uint64, cycles)
	for i := range pause {
		runtime.GC()
		runtime.ReadMemStats(&m)
		pause[i] = m.PauseNs[(m.NumGC+255)%256]
	}
	stopWriter.Store(true)
	<-writerDone
	if m.NumGC-m0.NumGC != uint32(cycles) {
		fmt.Fprintln(os.Stderr, "gcdata: cycles ran beyond the ones asked for")
		os.Exit(1)
	}
	for _, o := range table {
		if o == nil || o.stamp < stamp || o.stamp >= stamp+pool {
			fmt.Fprintln(os.Stderr, "gcdata: a pool object reachable from the table was freed")
			os.Exit(1)
		}
	}
	sort.Slice(pause, func(i, j int) bool { return pause[i] < pause[j] })
	fmt.Printf("gc_data collector=go where=%s table_bytes=%d cycles=%d procs=%d "+
		"cycle_pause_ns_median=%d cycle_pause_ns_max=%d check=ok\n",
		where, words*8, cycles, runtime.GOMAXPROCS(0), pause[cycles/2], pause[cycles-1])
}
