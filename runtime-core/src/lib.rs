//! grt: a goroutine runtime kernel for C programs (`libgrt.a`, `include/grt.h`).
//!
//! See ARCHITECTURE.md at the repository root for the map of the code. In short:
//! `grt-arch` (arch/ + asm/) is everything that differs between x86_64 and aarch64; this crate
//! holds the architecture-free runtime and the C API.
//!
//! `no_std` always, except in host unit tests.

#![cfg_attr(not(any(test, feature = "fuzzing")), no_std)]

// The subsystems, each a folder whose mod.rs says what it does and what it may call.
pub mod api;
pub mod gc;
pub mod os;
pub mod prof;
pub mod sched;

// The shared pieces every subsystem uses. They call `os`, and upwards only: `traceback` walks
// a goroutine's stack through its barriers (`sched::runtime2`, `gc::stkbar`); `lock` asks the
// scheduler how many CPUs there are (spin or not); `rtalloc` and `traceback` call the test
// hooks in the test-only build.
pub mod debug;
pub mod errors;
pub mod fatal;
pub mod lock;
pub mod print;
pub mod rtalloc;
pub mod rtvec;
pub mod traceback;
pub mod unwind;

// Every module also by its Go-style name at the crate root (`crate::proc`, `crate::stkbar`),
// as the code names them.
#[cfg(feature = "testhooks")]
pub use api::testhooks;
pub use api::{capi, capi_go};
pub use gc::{
    dirty, dirtyroots, gcwork, libroots, mcache, mfinal, mgc, mgcmark, mgcpar, mheap, objects,
    rescanlist, stkbar,
};
#[cfg(feature = "freestanding")]
pub use os::freestanding;
pub use os::{auxv, codemap, emulator, env, maps, signals, stack, stackreg, sys, sysnet, thread};
pub use prof::{cpuprof, gzip, profbuf, profile, sigprof};
pub use sched::{
    chan, context, netpoll, preempt, proc, regthreads, runtime2, sema, stw, suspend, sync, time,
};

pub use grt_arch as arch;

/// A Rust panic inside grt is a runtime bug: report it as a fatal error (never unwind into C).
#[cfg(not(any(test, feature = "fuzzing")))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    fatal::throw(format_args!("grt internal error: {}", info))
}

/// The precompiled `core` carries a reference to the unwinding personality routine even when
/// everything is built with `panic = "abort"`. grt never unwinds, so it is never called; this
/// definition only satisfies the linker of a C program (which has no Rust std to supply it).
#[cfg(not(any(test, feature = "fuzzing")))]
#[no_mangle]
extern "C" fn rust_eh_personality() {
    signals::abort()
}
