//! The C API: every function `include/grt.h` declares that is not better kept beside its
//! subsystem, with its argument checks, error codes and messages.
//!
//! What lives here: stacks, contexts, threads, writing and time (`capi`); goroutines,
//! channels, select, mutexes, wait groups, suspension (`capi_go`); and the test-only build's
//! hooks and counters (`testhooks`). (The collector's and the profiler's C functions live in
//! `gc::mgc` and `prof::cpuprof`.)
//!
//! Invariants: every exported function lives in the `grt_text` section and holds
//! `preempt::NoPreempt` while it runs (asynchronous preemption never lands in grt); bad
//! input gets an error code and a message on stderr, never undefined behaviour.
//!
//! May call: everything; nothing calls it (but the test hooks, in the test-only build).

pub mod capi;
pub mod capi_go;
pub mod capi_net;
#[cfg(feature = "testhooks")]
pub mod testhooks;
