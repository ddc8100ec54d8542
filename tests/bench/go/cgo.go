package main

// An empty C function, for the wait_cgocall load (grt's side calls an empty function
// through grt_cgocall).

// static void nothing(void) {}
import "C"

func cgoNothing() { C.nothing() }
