//! The CPU profiler: SIGPROF timers per thread, a signal handler that walks stacks without
//! allocating or waiting, and profiles that pprof and flame-graph tools read.
//!
//! What lives here: start/stop, the timers and the `grt_prof_*` C API (`cpuprof`), the
//! SIGPROF handler (`sigprof`: whose signal it is, which stack to walk, pseudo-stacks), the
//! lock-free sample buffer (`profbuf`), profile.proto encoding (`profile`) and gzip's stored
//! blocks (`gzip`).
//!
//! Invariants: nothing reachable from the handler allocates, takes a lock that the
//! interrupted thread may hold, or loops without a bound; the handler tries a goroutine's
//! `stack_lock` once and records a pseudo-stack if the collector holds it; a signal carrying
//! grt's timer cookie is never forwarded to the program's handler.
//!
//! May call: `sched` (the current M and G, their stacks), `gc` (the barrier cursor, to walk
//! through stack barriers), `os`, the shared pieces at the crate root (`traceback`,
//! `unwind`). Against the direction: `api` (test hooks only, in the test-only build).

pub mod cpuprof;
pub mod gzip;
pub mod profbuf;
pub mod profile;
pub mod sigprof;
