//! Host unit tests of the architecture layer: they run the real assembly on the build machine.

extern crate std;

use super::*;
use core::ffi::c_void;
use std::vec;
use std::vec::Vec;

struct Pong {
    main: Context,
    co: Context,
    log: Vec<u32>,
}

unsafe extern "C" fn pong_entry(arg: *mut c_void) {
    let p = arg as *mut Pong;
    for i in 0..3 {
        // SAFETY: `p` outlives the coroutine; only one side runs at a time.
        unsafe {
            (*p).log.push(100 + i);
            grt_context_switch(&mut (*p).co, &(*p).main);
        }
    }
}

#[test]
fn switch_ping_pong_on_the_real_assembly() {
    let mut stack = vec![0u128; 4096]; // 64 KiB, 16-byte aligned
    let top = stack.as_mut_ptr() as usize + stack.len() * 16;
    let mut p = std::boxed::Box::new(Pong {
        main: Context::default(),
        co: Context::default(),
        log: Vec::new(),
    });
    let pp: *mut Pong = &mut *p;
    // SAFETY: the stack is ours, aligned, and outlives the coroutine.
    unsafe {
        (*pp).co = init_context(top, pong_entry, pp as *mut c_void, core::ptr::null());
        for i in 0..3 {
            (*pp).log.push(i);
            grt_context_switch(&mut (*pp).main, &(*pp).co);
        }
    }
    assert_eq!(p.log, [0, 100, 1, 101, 2, 102]);
}

#[test]
fn initial_frame_is_a_clean_end_of_chain() {
    let mut stack = vec![0u128; 64];
    let top = stack.as_mut_ptr() as usize + stack.len() * 16;
    // SAFETY: the stack is ours and aligned.
    let ctx = unsafe { init_context(top, pong_entry, core::ptr::null_mut(), core::ptr::null()) };
    assert!(
        ctx.sp % 16 == PARKED_SP_MOD16,
        "a new context's sp is aligned as a parked one is"
    );
    assert_eq!(top - ctx.sp, INITIAL_FRAME_SIZE);
    // SAFETY: the record lies inside the stack we just wrote.
    let rec = unsafe { read_frame_record(parked_frame_pointer(ctx.sp)) };
    assert_eq!(rec.fp, 0, "the chain ends above the entry function");
    assert_eq!(rec.ret, grt_context_entry as *const () as usize);
    assert_eq!(
        return_address_slot(parked_frame_pointer(ctx.sp)),
        parked_frame_pointer(ctx.sp) + 8
    );
}

#[test]
fn tls_slots_are_per_thread() {
    setg(0x1111);
    setm(0x2222);
    let other = std::thread::spawn(|| {
        let before = (getg(), getm());
        setg(0x3333);
        (before, getg())
    })
    .join()
    .unwrap();
    assert_eq!(other, ((0, 0), 0x3333));
    assert_eq!((getg(), getm()), (0x1111, 0x2222));
    setg(0);
    setm(0);
}

#[test]
fn raw_syscalls_reach_the_kernel() {
    // SAFETY: getpid and gettid take no arguments.
    let (pid, tid) = unsafe { (syscall0(nr::__NR_getpid), syscall0(nr::__NR_gettid)) };
    assert_eq!(pid as u32, std::process::id());
    assert!(tid > 0);
    // A bad fd gives -EBADF, not a crash.
    // SAFETY: writing 0 bytes from a null buffer to fd -1 is harmless.
    let r = unsafe { syscall3(nr::__NR_write, usize::MAX, 0, 0) };
    assert_eq!(r, -9 /* EBADF */);
}

#[test]
fn sigreturn_bytes_match_glibc_restore_rt() {
    let p = grt_sigreturn as *const u8;
    // SAFETY: reading the first bytes of our own function's code.
    let code = unsafe { core::slice::from_raw_parts(p, 9) };
    #[cfg(target_arch = "x86_64")]
    assert_eq!(code, [0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05]);
    #[cfg(target_arch = "aarch64")]
    assert_eq!(&code[..8], [0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4]);
}

#[test]
fn cputicks_advance() {
    let a = cputicks();
    std::thread::sleep(std::time::Duration::from_millis(2));
    assert!(cputicks() > a);
}

/// runtime-core supplies this in real builds; the arch tests never let an entry function return.
#[no_mangle]
extern "C" fn grt_context_exit(_link: *const Context) -> ! {
    std::process::abort()
}

/// runtime-core supplies this in real builds (called by grt_sigtramp).
#[no_mangle]
extern "C" fn grt_sighandler(_sig: i32, _info: *mut c_void, _uc: *mut c_void) {}

/// `ends_with_call` on the encodings compilers emit before a return address, and on words
/// that are not.
#[test]
fn recognises_call_instructions_before_return_addresses() {
    fn tail(bytes: &[u8]) -> [u8; CALL_SCAN_BYTES] {
        let mut b = [0x90u8; CALL_SCAN_BYTES]; // nop padding in front
        b[CALL_SCAN_BYTES - bytes.len()..].copy_from_slice(bytes);
        b
    }
    #[cfg(target_arch = "x86_64")]
    {
        let calls: &[&[u8]] = &[
            &[0xe8, 1, 2, 3, 4],             // call rel32
            &[0xff, 0xd0],                   // call rax
            &[0x41, 0xff, 0xd3],             // call r11
            &[0xff, 0x15, 1, 2, 3, 4],       // call [rip + disp32]
            &[0xff, 0x50, 0x08],             // call [rax + 8]
            &[0xff, 0x14, 0x24],             // call [rsp]
            &[0xff, 0x94, 0xc3, 1, 2, 3, 4], // call [rbx + rax*8 + disp32]
            &[0x41, 0xff, 0x54, 0x24, 0x10], // call [r12 + 16]
        ];
        for c in calls {
            assert!(ends_with_call(&tail(c)), "{c:x?}");
        }
        let not_calls: &[&[u8]] = &[
            &[0x48, 0x89, 0xe5],       // mov rbp, rsp
            &[0xff, 0xe0],             // jmp rax
            &[0xff, 0x50],             // call [rax + 8] cut short
            &[0xc3],                   // ret
            &[0x48, 0x8b, 0x45, 0xf8], // mov rax, [rbp - 8]
        ];
        for c in not_calls {
            assert!(!ends_with_call(&tail(c)), "{c:x?}");
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        for w in [0x9400_0010u32, 0x97ff_fff0, 0xd63f_0100, 0xd63f_0a3f] {
            assert!(ends_with_call(&w.to_le_bytes()), "{w:#x}");
        }
        for w in [0xd65f_03c0u32, 0x1400_0010, 0xd61f_0100, 0xa9bf_7bfd, 0] {
            assert!(!ends_with_call(&w.to_le_bytes()), "{w:#x}");
        }
    }
    let _ = tail;
}
