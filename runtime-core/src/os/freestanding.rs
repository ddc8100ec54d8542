//! The freestanding build: process start without libc, and TLS blocks for grt's threads.
//!
//! `_start` (asm/<arch>/start.S) calls [`grt_start_c`] with the initial stack pointer. It
//! finds argc/argv/envp/auxv, gives the main thread a TLS block laid out as the ELF TLS ABI
//! of the architecture wants (variant II below %fs on x86_64, variant I above TPIDR_EL0 on
//! aarch64), so that initial-exec TLS such as `grt_tls` works exactly as under glibc, then
//! calls the program's `main(argc, argv, envp)` and exits with its result.

use core::sync::atomic::{AtomicUsize, Ordering};

use grt_arch::{self as arch, MapFlags, ProtFlags};

use crate::{auxv, sys};

/// The program's TLS segment: initialisation image and sizes.
#[derive(Clone, Copy, Default)]
struct TlsSegment {
    image: usize,
    filesz: usize,
    memsz: usize,
    align: usize,
}

static ENVIRON: AtomicUsize = AtomicUsize::new(0);
static AUXV_PTR: AtomicUsize = AtomicUsize::new(0);

fn tls_segment() -> TlsSegment {
    let bias = auxv::load_bias();
    auxv::program_headers()
        .iter()
        .filter(|ph| ph.p_type == auxv::PT_TLS)
        .last()
        .map_or(
            TlsSegment {
                align: 16,
                ..Default::default()
            },
            |ph| TlsSegment {
                image: bias.wrapping_add(ph.p_vaddr as usize),
                filesz: ph.p_filesz as usize,
                memsz: ph.p_memsz as usize,
                align: (ph.p_align as usize).max(16),
            },
        )
}

/// A thread's TLS block and thread control block, in one mapping.
#[derive(Clone, Copy, Debug, Default)]
pub struct TlsBlock {
    pub tp: usize,
    base: usize,
    len: usize,
}

impl TlsBlock {
    /// Maps and initialises a TLS block; `tp` is the value for the thread pointer.
    pub fn new() -> Option<TlsBlock> {
        let seg = tls_segment();
        let page = auxv::page_size();
        let tls_len = (seg.memsz + seg.align - 1) & !(seg.align - 1);
        let len = (tls_len + arch::TLS_TCB_SIZE + 2 * seg.align + page - 1) & !(page - 1);
        let base =
            sys::mmap_anon(len, ProtFlags::READ | ProtFlags::WRITE, MapFlags::empty()).ok()?;
        let (tp, image_at) = if arch::TLS_ABOVE_TP {
            // Variant I: tp -> TCB, the block starts at tp + TCB size rounded to the alignment.
            let tp = (base + seg.align - 1) & !(seg.align - 1);
            (
                tp,
                tp + ((arch::TLS_TCB_SIZE + seg.align - 1) & !(seg.align - 1)),
            )
        } else {
            // Variant II: the block ends at tp; tp -> TCB whose first word points to itself.
            let tp = (base + tls_len + seg.align - 1) & !(seg.align - 1);
            (tp, tp - tls_len)
        };
        // SAFETY: the image is the loaded .tdata; the destination is our fresh mapping (the
        // .tbss part is already zero).
        unsafe {
            core::ptr::copy_nonoverlapping(seg.image as *const u8, image_at as *mut u8, seg.filesz);
            if !arch::TLS_ABOVE_TP {
                (tp as *mut usize).write(tp);
            }
        }
        Some(TlsBlock { tp, base, len })
    }

    /// Unmaps the block.
    ///
    /// # Safety
    /// No thread may still use it.
    pub unsafe fn free(&self) {
        if self.len != 0 {
            // SAFETY: per the contract.
            unsafe { sys::munmap(self.base, self.len).ok() };
        }
    }
}

extern "C" {
    fn main(argc: i32, argv: *const *const u8, envp: *const *const u8) -> i32;
}

/// Entered from `_start` with the kernel's initial stack pointer.
///
/// # Safety
/// Only `_start` calls it, once.
#[no_mangle]
pub unsafe extern "C" fn grt_start_c(sp: *const usize) -> ! {
    // SAFETY: the kernel's initial stack: argc, argv[argc], NULL, envp..., NULL, auxv...
    unsafe {
        let argc = *sp;
        let argv = sp.add(1) as *const *const u8;
        let envp = argv.add(argc + 1);
        let mut p = envp;
        while !(*p).is_null() {
            p = p.add(1);
        }
        auxv::init_from_ptr(p.add(1) as *const usize);
        AUXV_PTR.store(p.add(1) as usize, Ordering::Relaxed);
        ENVIRON.store(envp as usize, Ordering::Relaxed);
        let Some(tls) = TlsBlock::new() else {
            crate::printerr!("fatal error: cannot map the main thread's TLS block\n");
            sys::exit_group(2)
        };
        if arch::set_thread_pointer(tls.tp) < 0 {
            crate::printerr!("fatal error: cannot set the thread pointer\n");
            sys::exit_group(2)
        }
        let code = main(argc as i32, argv, envp);
        sys::exit_group(code)
    }
}

/// The environment `_start` found (NULL-terminated array of `NAME=value`).
pub fn environ() -> *const *const u8 {
    ENVIRON.load(Ordering::Relaxed) as *const *const u8
}

/// `getauxval(3)` for the freestanding build: compiler-builtins' aarch64 CPU-feature probes
/// call it (glibc supplies it in the libc build). Returns 0 for a key that is not there.
#[no_mangle]
pub extern "C" fn getauxval(key: usize) -> usize {
    let p = AUXV_PTR.load(Ordering::Relaxed) as *const usize;
    if p.is_null() {
        return 0;
    }
    // Bounded: the kernel's auxv has a few dozen entries; stop at AT_NULL or 512 pairs.
    for i in 0..512 {
        // SAFETY: the array _start found, terminated by AT_NULL (key 0).
        let (k, v) = unsafe { (*p.add(2 * i), *p.add(2 * i + 1)) };
        if k == 0 {
            break;
        }
        if k == key {
            return v;
        }
    }
    0
}
