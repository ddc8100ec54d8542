// Go's side of the pause benchmark of `cargo xtask bench gc` (xtask/src/bench_gc.rs): the
// workload of tests/bench/c/gc_pause_bench.c in Go, so that grt's pauses are printed beside
// those of Go's collector (no stack barriers since Go 1.8: its mark termination rescans no
// stack) on the same machine in the same run.
//
//	gcpause [goroutines [cycles]]        defaults: 1000 goroutines, 30 cycles
//
// Goroutine i recurses (i % 400) * 3 frames deep (0 to 1197). Every frame is a real,
// noinline frame with a small local array holding the only pointer to a heap object stamped
// with the frame's depth. At the bottom, one goroutine in 10 churns (allocates pairs of
// objects linked into a list held by its frame, checked and dropped every 64 rounds, with a
// runtime.Gosched there); the others park: odd i on a receive from a channel nobody sends
// on, even i on a sync.Mutex main holds.
//
// Once every goroutine has reached its bottom (and 20 ms more), main runs `cycles`
// runtime.GC() back to back; automatic collection is off (debug.SetGCPercent(-1), as grt's
// side runs with GRTGC=off), so these are the only cycles. xtask runs it with GOMAXPROCS=2.
// Then main stops the churn, closes the channel, unlocks the mutex and waits for every
// goroutine to unwind, each checking its frames' objects. A damaged object: exit 1.
//
// One line on stdout, in the C program's form (its keys that Go can give):
//
//	gc_pause collector=go goroutines=<n> churners=<n> max_depth=<n> cycles=<n> procs=<n>
//	         pause_max_ns=<n> pause_max_hi_ns=<n> cycle_pause_median_ns=<n> check=ok
//
//	pause_max_ns           the longest stop-the-world pause of the process, from
//	                       runtime/metrics' /gc/pauses:seconds (each pause on its own): the
//	                       lower bound of the highest bucket in use, so in Go's favour by up
//	                       to the bucket's width (1/16 of its bound in Go 1.19, 1/4 from Go
//	                       1.20); pause_max_hi_ns is that bucket's upper bound
//	cycle_pause_median_ns  both pauses of one cycle (MemStats.PauseNs), median over the cycles
//
// Go's mark termination pause ends before its world restarts (gcMarkTermination reads the
// clock before startTheWorldWithSema), grt's after: a second difference in Go's favour.
package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	frameStamp = 0xf4a3e0000000
	churnStamp = 0xc4c40000000
	depthMod   = 400
	depthStep  = 3
	churnEvery = 10
	chainReset = 64
)

type obj struct {
	stamp uint64
	next  *obj
}

var (
	parkChan = make(chan int)
	parkMu   sync.Mutex
	done     sync.WaitGroup
	ready    int64
	stop     int32
	bad      int64
)

//go:noinline
func newObj(stamp uint64) *obj { return &obj{stamp: stamp} }

//go:noinline
func opaque(p *[3]*obj) {}

//go:noinline
func churnLeaf(prev *obj, k uint64) *obj {
	o := newObj(churnStamp + k)
	o.next = prev
	return o
}

//go:noinline
func churnPair(prev *obj, k uint64) *obj {
	return churnLeaf(churnLeaf(prev, k), k+1)
}

func checkChain(head *obj, rounds int64) int64 {
	var n int64
	k := 2 * uint64(rounds)
	for ; k > 0 && head != nil; head = head.next {
		k--
		if head.stamp != churnStamp+k {
			n++
		}
	}
	if k != 0 || head != nil {
		n++
	}
	return n
}

//go:noinline
func churn() int64 {
	var chain *obj
	var n, r int64
	for atomic.LoadInt32(&stop) == 0 {
		if r == chainReset {
			n += checkChain(chain, r)
			chain, r = nil, 0
			runtime.Gosched()
		}
		chain = churnPair(chain, 2*uint64(r))
		r++
	}
	return n + checkChain(chain, r)
}

//go:noinline
func park(onChan bool) int64 {
	if onChan {
		if _, ok := <-parkChan; ok {
			fmt.Fprintln(os.Stderr, "gcpause: a value on the channel nobody sends on")
			os.Exit(1)
		}
	} else {
		parkMu.Lock()
		parkMu.Unlock()
	}
	return 0
}

//go:noinline
func bottom(i int) int64 {
	atomic.AddInt64(&ready, 1)
	if i%churnEvery == 0 {
		return churn()
	}
	return park(i%2 == 1)
}

//go:noinline
func descend(i, n int) int64 {
	var keep [3]*obj
	keep[0] = newObj(frameStamp + uint64(n))
	keep[1] = keep[0]
	opaque(&keep)
	var b int64
	if n > 0 {
		b = descend(i, n-1)
	} else {
		b = bottom(i)
	}
	opaque(&keep)
	if keep[0].stamp != frameStamp+uint64(n) {
		b++
	}
	if keep[1] != keep[0] {
		b++
	}
	return b
}

func worker(i, depth int) {
	var b int64
	if depth > 0 {
		b = descend(i, depth-1)
	} else {
		b = bottom(i)
	}
	atomic.AddInt64(&bad, b)
	done.Done()
}

func arg(i int, def, lo, hi int, what string) int {
	if len(os.Args) <= i {
		return def
	}
	v, err := strconv.Atoi(os.Args[i])
	if err != nil || v < lo || v > hi {
		fmt.Fprintf(os.Stderr, "gcpause: bad %s %s (%d..%d)\n", what, os.Args[i], lo, hi)
		os.Exit(2)
	}
	return v
}

func die(what string) {
	fmt.Fprintln(os.Stderr, "gcpause:", what)
	os.Exit(1)
}

func main() {
	if len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: gcpause [goroutines [cycles]]")
		os.Exit(2)
	}
	n := arg(1, 1000, 1, 100000, "goroutine count")
	cycles := arg(2, 30, 1, 200, "cycle count")
	debug.SetGCPercent(-1)

	parkMu.Lock()
	done.Add(n)
	churners, maxDepth := 0, 0
	for i := 0; i < n; i++ {
		depth := (i % depthMod) * depthStep
		if i%churnEvery == 0 {
			churners++
		}
		if depth > maxDepth {
			maxDepth = depth
		}
		go worker(i, depth)
	}
	t0 := time.Now()
	for atomic.LoadInt64(&ready) < int64(n) {
		if time.Since(t0) > 30*time.Second {
			die("the goroutines did not all reach their bottom in 30 s")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the last ones to park

	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	if before.NumGC != 0 {
		// The histogram covers the process: it must hold the measured cycles' pauses only.
		die(fmt.Sprintf("%d cycles ran before the measured ones (GOGC off ignored?)", before.NumGC))
	}
	for c := 0; c < cycles; c++ {
		runtime.GC()
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if got := int(after.NumGC - before.NumGC); got != cycles {
		die(fmt.Sprintf("%d cycles ran, %d asked for (GOGC off ignored?)", got, cycles))
	}
	// The cycles' entries of the ring of the last 256 (cycles <= 200).
	pauses := make([]uint64, 0, cycles)
	for g := before.NumGC + 1; g <= after.NumGC; g++ {
		pauses = append(pauses, after.PauseNs[(g+255)%256])
	}
	sort.Slice(pauses, func(a, b int) bool { return pauses[a] < pauses[b] })

	s := []metrics.Sample{{Name: "/gc/pauses:seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		die("runtime/metrics has no /gc/pauses:seconds")
	}
	h := s[0].Value.Float64Histogram()
	// Counts[i] covers [Buckets[i], Buckets[i+1]).
	var maxNs, maxHiNs uint64
	for i := len(h.Counts) - 1; i >= 0; i-- {
		if h.Counts[i] > 0 {
			maxNs = uint64(h.Buckets[i] * 1e9)
			maxHiNs = maxNs
			if hi := h.Buckets[i+1]; !math.IsInf(hi, 1) {
				maxHiNs = uint64(hi * 1e9)
			}
			break
		}
	}

	atomic.StoreInt32(&stop, 1)
	close(parkChan)
	parkMu.Unlock()
	done.Wait()
	if b := atomic.LoadInt64(&bad); b != 0 {
		fmt.Fprintf(os.Stderr, "gcpause: %d objects reachable only from goroutine frames were damaged\n", b)
		die("check failed")
	}
	fmt.Printf("gc_pause collector=go goroutines=%d churners=%d max_depth=%d cycles=%d procs=%d "+
		"pause_max_ns=%d pause_max_hi_ns=%d cycle_pause_median_ns=%d check=ok\n",
		n, churners, maxDepth, cycles, runtime.GOMAXPROCS(0), maxNs, maxHiNs, pauses[len(pauses)/2])
}
