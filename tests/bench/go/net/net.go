// Go's side of the network benchmarks of `cargo xtask bench net` (xtask/src/bench_net.rs);
// grt's is tests/bench/c/net_bench.c and examples/httpd.c, the same programs.
//
//	net handoff <iters>    (GOMAXPROCS=1)
//	net httpd <port>       (serves until killed)
//
// handoff: goroutine A makes goroutine B runnable (a send on a buffered channel B waits on),
// notes the time and reads an empty pipe (os.Pipe: Go's poller); B, once it runs, notes the
// time. B then writes the byte that completes A's read. Prints
// "handoff_go iters=<n> mean_ns=<x> max_ns=<y>" after a warm-up of iters/10.
//
// httpd: the minimal HTTP/1.1 keep-alive server of examples/httpd.c, in Go's net package: a
// goroutine per connection, requests read until the blank line, the same fixed response,
// "Connection: close" honoured.
package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

var base = time.Now()

func now() int64 { return int64(time.Since(base)) }

func handoff(iters int) {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	ch := make(chan int, 1)
	var t0 int64
	var sum, max, count int64
	recording := false
	done := make(chan bool)
	go func() {
		one := []byte{'x'}
		for {
			if v := <-ch; v < 0 {
				done <- true
				return
			}
			d := now() - t0
			if recording {
				sum += d
				count++
				if d > max {
					max = d
				}
			}
			if _, err := w.Write(one); err != nil {
				panic(err)
			}
		}
	}()
	buf := make([]byte, 1)
	run := func(n int) {
		for i := 0; i < n; i++ {
			ch <- 1
			t0 = now()
			if k, err := r.Read(buf); k != 1 || err != nil {
				panic(err)
			}
		}
	}
	run(iters/10 + 1)
	recording = true
	run(iters)
	ch <- -1
	<-done
	fmt.Printf("handoff_go iters=%d mean_ns=%.1f max_ns=%d\n", iters, float64(sum)/float64(count), max)
}

var response = []byte("HTTP/1.1 200 OK\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Length: 16\r\n" +
	"\r\n" +
	"Hello from grt!\n")

func serveConn(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 8192)
	have := 0
	for {
		closeAfter := false
		for {
			end := bytes.Index(buf[:have], []byte("\r\n\r\n"))
			if end < 0 {
				break
			}
			end += 4
			closeAfter = bytes.Contains(bytes.ToLower(buf[:end]), []byte("\nconnection: close"))
			if _, err := c.Write(response); err != nil {
				return
			}
			have = copy(buf, buf[end:have])
			if closeAfter {
				return
			}
		}
		if have == len(buf) {
			return
		}
		n, err := c.Read(buf[have:])
		if n <= 0 || err != nil {
			return
		}
		have += n
	}
}

func httpd(port int) {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		panic(err)
	}
	fmt.Printf("httpd: serving on %s\n", l.Addr())
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go serveConn(c)
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: net handoff <iters> | net httpd <port>")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		os.Exit(2)
	}
	switch os.Args[1] {
	case "handoff":
		handoff(n)
	case "httpd":
		httpd(n)
	default:
		os.Exit(2)
	}
}
