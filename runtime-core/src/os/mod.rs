//! What grt needs from Linux, with libc or without: the lowest layer.
//!
//! What lives here: typed raw system calls (`sys`; descriptors, epoll and sockets in `sysnet`), signal handling through raw
//! `rt_sigaction` with grt's restorer, forwarding to the program's handlers and the fault
//! handler (`signals`), OS threads (`thread`: pthreads or raw clone), guarded stacks and the
//! registry of their bounds (`stack`, `stackreg`), the auxiliary vector (`auxv`),
//! `/proc/self/maps` lookups (`maps`), fault-free reads of code (`codemap`), the environment
//! (`env`), whether a user-mode emulator runs the process (`emulator`), and the freestanding build's start-up (`freestanding`).
//!
//! Invariants: every function here that a signal handler reaches is async-signal-safe (no
//! allocation, no lock); nothing here knows about goroutines.
//!
//! May call: nothing of grt's but shared pieces at the crate root: `unwind` (codemap asks it
//! which images have unwind tables), `fatal` (the fault handler's report, `throw!` when a
//! thread cannot be made) and `print` (`printerr!`, at start-up).

pub mod auxv;
pub mod codemap;
pub mod emulator;
pub mod env;
#[cfg(feature = "freestanding")]
pub mod freestanding;
pub mod maps;
pub mod signals;
pub mod stack;
pub mod stackreg;
pub mod sys;
pub mod sysnet;
pub mod thread;
