// Command sched is Go's side of the scheduler benchmark of `cargo xtask bench`: the same
// three benchmarks as tests/bench/c/sched_bench.c (grt), timed the same way.
//
// Usage:
//
//	sched <create|pingpong|yield> <iters> [runs]
//	sched wait_<gc|syscall|cgocall|alloc|pingpong|spin> <ms> [runs]
//
// The benchmarks:
//
//   - create: goroutine create + run + exit. Goroutines are started in batches of 1000
//     (wg.Add(1000), 1000 times `go worker(&wg)`, wg.Wait(), repeat), so the live set stays
//     bounded; each worker adds 1 to a counter and calls wg.Done. ns per goroutine; iters
//     is rounded up to whole batches.
//   - pingpong: the main goroutine sends on an unbuffered channel, a second goroutine
//     receives the value and sends it back (plus one) on another. ns per round trip.
//   - yield: two goroutines each call runtime.Gosched() iters times. ns per Gosched call
//     (one switch). Meant for GOMAXPROCS=1.
//   - wait_<load>: GOMAXPROCS load goroutines (pingpong: a pair per P) run the load while the
//     main goroutine loops on runtime.Gosched for <ms> milliseconds; "ns per op" is its
//     longest wait between two turns. Loads: gc (runtime.GC back to back), syscall
//     (syscall.Nanosleep of 100 us), cgocall (an empty C function through cgo), alloc (lists
//     of 300 objects), pingpong (an unbuffered channel pair), spin (a loop that calls
//     nothing: Go preempts it asynchronously). grt's side: tests/bench/c/sched_bench.c.
//
// A warm-up of iters/10 comes first, once; then each run prints one line:
//
//	<bench> procs=<GOMAXPROCS> iters=<n> ns_per_op=<x>
//
// GOMAXPROCS comes from the environment, as usual; xtask sets it.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const batch = 1000

var counter int64

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "sched: "+format+"\n", args...)
	os.Exit(1)
}

func worker(wg *sync.WaitGroup) {
	atomic.AddInt64(&counter, 1)
	wg.Done()
}

// create returns ns per goroutine over iters goroutines (a whole number of batches).
func create(iters int) float64 {
	var wg sync.WaitGroup
	atomic.StoreInt64(&counter, 0)
	t := time.Now()
	for b := 0; b < iters/batch; b++ {
		wg.Add(batch)
		for i := 0; i < batch; i++ {
			go worker(&wg)
		}
		wg.Wait()
	}
	el := time.Since(t)
	if n := atomic.LoadInt64(&counter); n != int64(iters) {
		fail("create: %d goroutines ran, expected %d", n, iters)
	}
	return float64(el.Nanoseconds()) / float64(iters)
}

func ponger(ping <-chan int64, pong chan<- int64, wg *sync.WaitGroup) {
	for v := range ping {
		pong <- v + 1
	}
	wg.Done()
}

// pingpong returns ns per round trip.
func pingpong(iters int) float64 {
	ping := make(chan int64)
	pong := make(chan int64)
	var wg sync.WaitGroup
	wg.Add(1)
	go ponger(ping, pong, &wg)
	var v int64
	t := time.Now()
	for i := 0; i < iters; i++ {
		ping <- v
		v = <-pong
	}
	el := time.Since(t)
	close(ping)
	wg.Wait()
	if v != int64(iters) {
		fail("pingpong: got %d back, expected %d", v, iters)
	}
	return float64(el.Nanoseconds()) / float64(iters)
}

func yielder(n int, wg *sync.WaitGroup) {
	for i := 0; i < n; i++ {
		runtime.Gosched()
	}
	wg.Done()
}

// yield returns ns per Gosched call.
func yield(iters int) float64 {
	var wg sync.WaitGroup
	wg.Add(2)
	t := time.Now()
	go yielder(iters, &wg)
	go yielder(iters, &wg)
	wg.Wait()
	el := time.Since(t)
	return float64(el.Nanoseconds()) / float64(2*iters)
}

type node struct {
	next *node
	v    int
}

var waitStop int32
var waitSink int64

func loadFor(name string) func() {
	switch name {
	case "gc":
		return func() {
			for atomic.LoadInt32(&waitStop) == 0 {
				runtime.GC()
			}
		}
	case "syscall":
		return func() {
			ts := syscall.Timespec{Nsec: 100000}
			for atomic.LoadInt32(&waitStop) == 0 {
				syscall.Nanosleep(&ts, nil)
			}
		}
	case "cgocall":
		return func() {
			for atomic.LoadInt32(&waitStop) == 0 {
				cgoNothing()
			}
		}
	case "alloc":
		return func() {
			for atomic.LoadInt32(&waitStop) == 0 {
				var h *node
				for i := 0; i < 300; i++ {
					h = &node{next: h, v: i}
				}
				atomic.AddInt64(&waitSink, int64(h.v))
			}
		}
	case "spin":
		return func() {
			var x int64
			for atomic.LoadInt32(&waitStop) == 0 {
				x++
			}
			atomic.AddInt64(&waitSink, x)
		}
	}
	return nil
}

// wait returns the main goroutine's longest wait between two Gosched turns, in ns, over ms
// milliseconds next to the load.
func wait(load string, ms int) float64 {
	atomic.StoreInt32(&waitStop, 0)
	procs := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for i := 0; i < procs; i++ {
		if load == "pingpong" {
			ping, pong := make(chan int64), make(chan int64)
			wg.Add(2)
			go func() {
				var v int64
				for atomic.LoadInt32(&waitStop) == 0 {
					ping <- v
					v = <-pong
				}
				close(ping)
				wg.Done()
			}()
			go func() {
				for v := range ping {
					pong <- v + 1
				}
				wg.Done()
			}()
			continue
		}
		f := loadFor(load)
		if f == nil {
			fail("unknown load %q", load)
		}
		wg.Add(1)
		go func() { f(); wg.Done() }()
	}
	start := time.Now()
	last, worst := start, time.Duration(0)
	for {
		now := time.Now()
		if d := now.Sub(last); d > worst {
			worst = d
		}
		last = now
		if now.Sub(start) >= time.Duration(ms)*time.Millisecond {
			break
		}
		runtime.Gosched()
	}
	atomic.StoreInt32(&waitStop, 1)
	wg.Wait()
	return float64(worst.Nanoseconds())
}

func main() {
	if len(os.Args) < 3 || len(os.Args) > 4 {
		fail("usage: sched <create|pingpong|yield> <iters> [runs]")
	}
	name := os.Args[1]
	var bench func(int) float64
	switch name {
	case "create":
		bench = create
	case "pingpong":
		bench = pingpong
	case "yield":
		bench = yield
	default:
		if strings.HasPrefix(name, "wait_") && loadFor(name[5:]) != nil || name == "wait_pingpong" {
			load := name[5:]
			bench = func(ms int) float64 { return wait(load, ms) }
		} else {
			fail("unknown benchmark %q", name)
		}
	}
	iters, err := strconv.Atoi(os.Args[2])
	if err != nil || iters <= 0 {
		fail("bad iteration count %q", os.Args[2])
	}
	runs := 1
	if len(os.Args) == 4 {
		runs, err = strconv.Atoi(os.Args[3])
		if err != nil || runs <= 0 {
			fail("bad run count %q", os.Args[3])
		}
	}
	warm := iters / 10
	if name == "create" {
		iters = (iters + batch - 1) / batch * batch
		warm = (warm + batch - 1) / batch * batch
	} else if warm == 0 {
		warm = 1
	}
	if !strings.HasPrefix(name, "wait_") { // a wait run is its own measurement
		bench(warm)
	}
	for r := 0; r < runs; r++ {
		ns := bench(iters)
		fmt.Printf("%s procs=%d iters=%d ns_per_op=%.1f\n", name, runtime.GOMAXPROCS(0), iters, ns)
	}
}
