//! grt: a goroutine runtime kernel for C programs (`libgrt.a`, `include/grt.h`).
//!
//! See ARCHITECTURE.md at the repository root for the map of the code. In short:
//! `grt-arch` (arch/ + asm/) is everything that differs between x86_64 and aarch64; this crate
//! holds the architecture-free runtime and the C API.
//!
//! `no_std` always, except in host unit tests.

#![cfg_attr(not(any(test, feature = "fuzzing")), no_std)]

pub mod auxv;
pub mod capi;
pub mod capi_go;
pub mod chan;
pub mod codemap;
pub mod context;
pub mod cpuprof;
pub mod debug;
pub mod env;
pub mod errors;
pub mod fatal;
pub mod gzip;
pub mod lock;
pub mod maps;
pub mod mcache;
pub mod mgc;
pub mod mgcmark;
pub mod mheap;
pub mod preempt;
pub mod print;
pub mod proc;
pub mod profbuf;
pub mod profile;
pub mod rtalloc;
pub mod rtvec;
pub mod runtime2;
pub mod sema;
pub mod signals;
pub mod sigprof;
pub mod stack;
pub mod stackreg;
pub mod stkbar;
pub mod stw;
pub mod suspend;
pub mod sync;
pub mod sys;
#[cfg(feature = "testhooks")]
pub mod testhooks;
pub mod thread;
pub mod time;
pub mod traceback;
pub mod unwind;

#[cfg(feature = "freestanding")]
pub mod freestanding;

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
