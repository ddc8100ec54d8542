//! The goroutine half of the C API (`include/grt.h`: goroutines, syscalls, channels, select,
//! mutex, wait group, suspend/resume): argument checks and error reports around proc.rs,
//! chan.rs, sync.rs and suspend.rs.

use core::ffi::c_void;

use crate::chan::{self, ChanError, Hchan, SelectCase};
use crate::errors::*;
use crate::proc;
use crate::runtime2::GKind;
use crate::stack;
use crate::suspend::{self, GRegs};
use crate::sync::{Mutex, WaitGroup};
use crate::time;

type GoFn = unsafe extern "C" fn(*mut c_void);

macro_rules! on_goroutine {
    ($f:expr) => {
        match proc::current_user_g($f) {
            Ok(g) => g,
            Err(e) => return e,
        }
    };
}

/// `int grt_main(void (*fn)(void *), void *arg)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_main(f: Option<GoFn>, arg: *mut c_void) -> i32 {
    let Some(f) = f else {
        return report(GRT_EINVAL, "grt_main", format_args!("fn is NULL"));
    };
    proc::main(f, arg)
}

/// `int grt_init(void)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_init() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    proc::init_background()
}

fn go(func: &str, f: Option<GoFn>, arg: *mut c_void, size: usize) -> i32 {
    let Some(f) = f else {
        return report(GRT_EINVAL, func, format_args!("fn is NULL"));
    };
    if size != 0 && !(stack::MIN_STACK_SIZE..=stack::MAX_STACK_SIZE).contains(&size) {
        return report(
            GRT_EINVAL,
            func,
            format_args!(
                "stack size {} is outside {}..={} bytes (0 selects the default; a negative size passed as size_t?)",
                size,
                stack::MIN_STACK_SIZE,
                stack::MAX_STACK_SIZE
            ),
        );
    }
    on_goroutine!(func);
    match proc::newproc(f, arg, size) {
        GRT_OK => GRT_OK,
        e => report(
            e,
            func,
            format_args!("cannot make a goroutine: out of memory"),
        ),
    }
}

/// `int grt_go(void (*fn)(void *), void *arg)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_go(f: Option<GoFn>, arg: *mut c_void) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    go("grt_go", f, arg, 0)
}

/// `int grt_go_stack(void (*fn)(void *), void *arg, size_t stack_size)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_go_stack(f: Option<GoFn>, arg: *mut c_void, size: usize) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    go("grt_go_stack", f, arg, size)
}

/// `int grt_yield(void)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_yield() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    on_goroutine!("grt_yield");
    proc::gosched();
    GRT_OK
}

/// `int grt_sleep_ns(int64_t ns)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_sleep_ns(ns: i64) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    let g = on_goroutine!("grt_sleep_ns");
    if ns <= 0 {
        proc::gosched();
    } else {
        time::sleep(g, ns as u64);
    }
    GRT_OK
}

/// `uint64_t grt_goid(void)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_goid() -> u64 {
    let _np = crate::preempt::NoPreempt::enter();
    let g = proc::getg();
    // SAFETY: null or a live G.
    match unsafe { g.as_ref() } {
        Some(g) if g.kind == GKind::User => g.goid(),
        _ => 0,
    }
}

/// `int grt_async_preempt(int on)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_async_preempt(on: i32) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    on_goroutine!("grt_async_preempt");
    crate::preempt::set_for_current(on).unwrap_or(GRT_ENOTG)
}

/// `int grt_preempt_stats(struct grt_preempt_stats *out)`
///
/// # Safety
/// `out` must be null or point at a `struct grt_preempt_stats`.
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_preempt_stats(out: *mut crate::preempt::CStats) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    if out.is_null() {
        return report(GRT_EINVAL, "grt_preempt_stats", format_args!("out is NULL"));
    }
    // SAFETY: the caller's struct.
    unsafe { out.write(crate::preempt::snapshot()) };
    GRT_OK
}

/// `int grt_maxprocs(void)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_maxprocs() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    proc::gomaxprocs() as i32
}

/// `int grt_exitsyscall(void)` (grt_entersyscall is in asm/<arch>/syscall.S: it needs its
/// caller's registers).
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_exitsyscall() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    let r = proc::exitsyscall();
    if r == GRT_OK {
        proc::preempt_point();
    }
    r
}

// ---- channels --------------------------------------------------------------------------------

fn chan_arg(func: &str, c: *mut Hchan) -> Result<&'static mut Hchan, i32> {
    // SAFETY: a C handle is null, a channel, or garbage the magic check will most likely
    // reject (it is documented as undefined to pass a freed or foreign pointer).
    if unsafe { chan::is_chan(c) } {
        // SAFETY: checked to be a live channel.
        Ok(unsafe { &mut *c })
    } else if c.is_null() {
        Err(report(GRT_EINVAL, func, format_args!("channel is NULL")))
    } else {
        Err(report(
            GRT_EINVAL,
            func,
            format_args!(
                "{:p} is not a live channel (freed, or not from grt_chan_make)",
                c
            ),
        ))
    }
}

/// `int grt_chan_make(grt_chan **out, size_t elem_size, size_t capacity)`
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_chan_make(out: *mut *mut Hchan, elem: usize, cap: usize) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_chan_make";
    if out.is_null() {
        return report(GRT_EINVAL, F, format_args!("out is NULL"));
    }
    match chan::make(elem, cap) {
        Ok(c) => {
            // SAFETY: out is non-NULL per the check.
            unsafe { out.write(c) };
            GRT_OK
        }
        Err(chan::MakeError::ElemTooLarge) => report(
            GRT_EINVAL,
            F,
            format_args!(
                "element size {} is above {} bytes",
                elem,
                chan::MAX_ELEM_SIZE
            ),
        ),
        Err(chan::MakeError::BufTooLarge) => report(
            GRT_EINVAL,
            F,
            format_args!(
                "buffer of {} x {} bytes is too large (a negative size?)",
                cap, elem
            ),
        ),
        Err(chan::MakeError::NoMemory) => report(GRT_ENOMEM, F, format_args!("out of memory")),
    }
}

/// `int grt_chan_send(grt_chan *ch, const void *elem)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_chan_send(c: *mut Hchan, elem: *const c_void) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_chan_send";
    let c = match chan_arg(F, c) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if elem.is_null() && c.elem_size() != 0 {
        return report(
            GRT_EINVAL,
            F,
            format_args!("elem is NULL and elements are {} bytes", c.elem_size()),
        );
    }
    on_goroutine!(F);
    proc::preempt_point();
    match chan::send(c, elem as *const u8, true) {
        Ok(()) => GRT_OK,
        Err(ChanError::Closed) => GRT_ECLOSED,
        Err(ChanError::WouldBlock) => GRT_EAGAIN,
    }
}

/// `int grt_chan_recv(grt_chan *ch, void *elem)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_chan_recv(c: *mut Hchan, elem: *mut c_void) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_chan_recv";
    let c = match chan_arg(F, c) {
        Ok(c) => c,
        Err(e) => return e,
    };
    on_goroutine!(F);
    proc::preempt_point();
    match chan::recv(c, elem as *mut u8, true) {
        Ok(true) => GRT_OK,
        Ok(false) | Err(ChanError::Closed) => GRT_ECLOSED,
        Err(ChanError::WouldBlock) => GRT_EAGAIN,
    }
}

/// `int grt_chan_close(grt_chan *ch)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_chan_close(c: *mut Hchan) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_chan_close";
    let c = match chan_arg(F, c) {
        Ok(c) => c,
        Err(e) => return e,
    };
    on_goroutine!(F);
    match chan::close(c) {
        Ok(()) => GRT_OK,
        Err(_) => report(
            GRT_ECLOSED,
            F,
            format_args!("the channel is already closed"),
        ),
    }
}

/// `int grt_chan_free(grt_chan *ch)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_chan_free(c: *mut Hchan) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_chan_free";
    let ch = match chan_arg(F, c) {
        Ok(c) => c,
        Err(e) => return e,
    };
    // SAFETY: a live channel; the caller gives it up.
    if unsafe { chan::free(ch) } {
        GRT_OK
    } else {
        report(
            GRT_EBUSY,
            F,
            format_args!("goroutines are still waiting on the channel"),
        )
    }
}

/// `size_t grt_chan_len(grt_chan *ch)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_chan_len(c: *mut Hchan) -> usize {
    let _np = crate::preempt::NoPreempt::enter();
    match chan_arg("grt_chan_len", c) {
        Ok(c) => chan::len(c),
        Err(_) => 0,
    }
}

/// `int grt_select(grt_select_case *cases, size_t ncases, int block)`
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_select(cases: *mut SelectCase, n: usize, block: i32) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_select";
    if cases.is_null() && n > 0 {
        return report(
            GRT_EINVAL,
            F,
            format_args!("cases is NULL and ncases is {}", n),
        );
    }
    if n > chan::MAX_SELECT_CASES {
        return report(
            GRT_EINVAL,
            F,
            format_args!("{} cases; at most {}", n, chan::MAX_SELECT_CASES),
        );
    }
    let cs: &mut [SelectCase] = if n == 0 {
        &mut []
    } else {
        // SAFETY: non-NULL, n entries per the API.
        unsafe { core::slice::from_raw_parts_mut(cases, n) }
    };
    for (i, c) in cs.iter().enumerate() {
        if c.dir != chan::DIR_SEND && c.dir != chan::DIR_RECV {
            return report(
                GRT_EINVAL,
                F,
                format_args!("case {}: dir is {}, not GRT_SEND or GRT_RECV", i, c.dir),
            );
        }
        if !c.chan.is_null() {
            match chan_arg(F, c.chan) {
                Err(e) => return e,
                Ok(ch) if c.dir == chan::DIR_SEND && c.elem.is_null() && ch.elem_size() != 0 => {
                    return report(
                        GRT_EINVAL,
                        F,
                        format_args!(
                            "case {}: sending from a NULL elem ({}-byte elements)",
                            i,
                            ch.elem_size()
                        ),
                    )
                }
                Ok(_) => {}
            }
        }
    }
    on_goroutine!(F);
    // SAFETY: channels checked; elem pointers are the caller's promise.
    let r = match unsafe { chan::select(cs, block != 0) } {
        Ok(i) => i as i32,
        Err(_) => GRT_EAGAIN,
    };
    proc::preempt_point();
    r
}

// ---- mutex and wait group --------------------------------------------------------------------

fn mutex_arg(func: &str, mu: *mut Mutex) -> Result<&'static Mutex, i32> {
    if mu.is_null() || mu as usize % 4 != 0 {
        return Err(report(
            GRT_EINVAL,
            func,
            format_args!("mutex is NULL or misaligned"),
        ));
    }
    // SAFETY: a grt_mutex per the API.
    Ok(unsafe { &*mu })
}

/// `int grt_mutex_lock(grt_mutex *mu)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_mutex_lock(mu: *mut Mutex) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_mutex_lock";
    let mu = match mutex_arg(F, mu) {
        Ok(m) => m,
        Err(e) => return e,
    };
    on_goroutine!(F);
    proc::preempt_point();
    mu.lock();
    GRT_OK
}

/// `int grt_mutex_trylock(grt_mutex *mu)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_mutex_trylock(mu: *mut Mutex) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    match mutex_arg("grt_mutex_trylock", mu) {
        Ok(m) if m.try_lock() => GRT_OK,
        Ok(_) => GRT_EBUSY,
        Err(e) => e,
    }
}

/// `int grt_mutex_unlock(grt_mutex *mu)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_mutex_unlock(mu: *mut Mutex) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_mutex_unlock";
    let mu = match mutex_arg(F, mu) {
        Ok(m) => m,
        Err(e) => return e,
    };
    on_goroutine!(F);
    mu.unlock();
    proc::preempt_point();
    GRT_OK
}

fn wg_arg(func: &str, wg: *mut WaitGroup) -> Result<&'static WaitGroup, i32> {
    if wg.is_null() || wg as usize % 8 != 0 {
        return Err(report(
            GRT_EINVAL,
            func,
            format_args!("wait group is NULL or misaligned"),
        ));
    }
    // SAFETY: a grt_waitgroup per the API.
    Ok(unsafe { &*wg })
}

/// `int grt_wg_add(grt_waitgroup *wg, int64_t delta)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_wg_add(wg: *mut WaitGroup, delta: i64) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_wg_add";
    let wg = match wg_arg(F, wg) {
        Ok(w) => w,
        Err(e) => return e,
    };
    on_goroutine!(F);
    wg.add(delta);
    proc::preempt_point();
    GRT_OK
}

/// `int grt_wg_done(grt_waitgroup *wg)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_wg_done(wg: *mut WaitGroup) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_wg_done";
    let wg = match wg_arg(F, wg) {
        Ok(w) => w,
        Err(e) => return e,
    };
    on_goroutine!(F);
    wg.add(-1);
    proc::preempt_point();
    GRT_OK
}

/// `int grt_wg_wait(grt_waitgroup *wg)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_wg_wait(wg: *mut WaitGroup) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_wg_wait";
    let wg = match wg_arg(F, wg) {
        Ok(w) => w,
        Err(e) => return e,
    };
    on_goroutine!(F);
    wg.wait();
    GRT_OK
}

// ---- looking at other goroutines -------------------------------------------------------------

fn started(func: &str) -> Result<(), i32> {
    if proc::STATE.load(core::sync::atomic::Ordering::Acquire) == proc::STATE_NONE {
        return Err(report(
            GRT_ENOTINIT,
            func,
            format_args!("the scheduler is not running: call grt_main first"),
        ));
    }
    Ok(())
}

/// `int grt_suspend(uint64_t goid, grt_gregs *out)`
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_suspend(goid: u64, out: *mut GRegs) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_suspend";
    if out.is_null() {
        return report(GRT_EINVAL, F, format_args!("out is NULL"));
    }
    if let Err(e) = started(F) {
        return e;
    }
    match suspend::suspend(goid) {
        Ok(r) => {
            // SAFETY: non-NULL per the check.
            unsafe { out.write(r) };
            GRT_OK
        }
        Err(e) => e,
    }
}

/// `int grt_resume(uint64_t goid)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_resume(goid: u64) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    if let Err(e) = started("grt_resume") {
        return e;
    }
    match suspend::resume(goid) {
        Ok(()) => GRT_OK,
        Err(e) => e,
    }
}

/// `int grt_traceback(uint64_t goid, uintptr_t *pcs, int max)`
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_traceback(goid: u64, pcs: *mut usize, max: i32) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_traceback";
    if pcs.is_null() || max < 0 {
        return report(
            GRT_EINVAL,
            F,
            format_args!("pcs is NULL or max is negative"),
        );
    }
    if let Err(e) = started(F) {
        return e;
    }
    // SAFETY: max entries per the API.
    let buf = unsafe { core::slice::from_raw_parts_mut(pcs, max as usize) };
    match suspend::traceback_g(goid, buf) {
        Ok(n) => n as i32,
        Err(e) => e,
    }
}
