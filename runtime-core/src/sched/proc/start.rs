//! grt_main: schedinit, the first M, and waiting for the main goroutine. Part of the scheduler (`proc`, whose mod.rs explains the whole).

use super::*;

pub(crate) fn read_maxprocs() -> usize {
    let n = ncpu().min(MAX_PROCS);
    match env::get_number("GRTMAXPROCS") {
        None => n,
        Some(Ok(v)) if v >= 1 && v as usize <= MAX_PROCS => v as usize,
        Some(_) => {
            printerr!(
                "grt: GRTMAXPROCS must be a number from 1 to {}; using {}\n",
                MAX_PROCS,
                n
            );
            n
        }
    }
}

pub(crate) fn schedinit() -> Result<(), i32> {
    const F: &str = "grt_main";
    // The collector first: its knobs size every goroutine stack's barrier array.
    crate::mgc::init()?;
    let procs = read_maxprocs();
    for i in 0..procs {
        let pp = rtalloc::persistentalloc(core::mem::size_of::<P>(), 64) as *mut P;
        if pp.is_null() {
            return Err(report(
                GRT_ENOMEM,
                F,
                format_args!("out of memory for the Ps"),
            ));
        }
        // SAFETY: fresh zeroed memory is a valid idle P.
        unsafe { (*pp).id = i };
        ALLP[i].store(pp, Ordering::Release);
    }
    GOMAXPROCS.store(procs, Ordering::Release);
    // The preemption handler asks "is this pc the program's own code?" of the main image.
    crate::unwind::init_main_image();
    SCHED_LOCK.lock();
    for i in (0..procs).rev() {
        // SAFETY: just made, not shared yet.
        pidleput(unsafe { &mut *ALLP[i].load(Ordering::Relaxed) });
    }
    SCHED_LOCK.unlock();
    if let Err(e) = signals::install_fault_handlers().and_then(|_| crate::suspend::install()) {
        return Err(report(
            GRT_ESYS,
            F,
            format_args!("cannot install signal handlers: errno {}", e.0),
        ));
    }
    crate::cpuprof::start_from_env();
    if let Err(e) = thread::start(mstarter, null_mut()) {
        return Err(report(
            GRT_ESYS,
            F,
            format_args!("cannot start the thread that starts Ms: errno {}", e.0),
        ));
    }
    if let Err(e) = thread::start(sysmon, null_mut()) {
        return Err(report(
            GRT_ESYS,
            F,
            format_args!("cannot start the sysmon thread: errno {}", e.0),
        ));
    }
    Ok(())
}

/// `grt_init()`: the scheduler's threads and the collector start in the background and the
/// caller goes on as a plain thread. GRT_OK again when already started (by either call).
pub fn init_background() -> i32 {
    INIT_LOCK.lock();
    let r = if STATE.load(Ordering::Acquire) != STATE_NONE {
        GRT_OK
    } else {
        match schedinit() {
            Ok(()) => {
                STATE.store(STATE_BACKGROUND, Ordering::Release);
                GRT_OK
            }
            Err(e) => e,
        }
    };
    INIT_LOCK.unlock();
    r
}

/// `grt_main(fn, arg)`.
pub fn main(f: unsafe extern "C" fn(*mut c_void), arg: *mut c_void) -> i32 {
    const F: &str = "grt_main";
    if !getg().is_null() {
        return report(GRT_EINVAL, F, format_args!("called from a goroutine"));
    }
    INIT_LOCK.lock();
    let r = match STATE.load(Ordering::Acquire) {
        STATE_NONE => schedinit().map(|()| STATE.store(STATE_RUNNING, Ordering::Release)),
        // Started by grt_init: the scheduler runs; only the main goroutine is new.
        STATE_BACKGROUND => {
            STATE.store(STATE_RUNNING, Ordering::Release);
            Ok(())
        }
        _ => Err(report(
            GRT_EINVAL,
            F,
            format_args!("grt_main has already run in this process (it runs once)"),
        )),
    };
    INIT_LOCK.unlock();
    if let Err(e) = r {
        return e;
    }
    let gp = match newproc1(f, arg, 0, null_mut()) {
        Ok(gp) => gp,
        Err(e) => return report(e, F, format_args!("cannot make the main goroutine")),
    };
    MAIN_G.store(gp, Ordering::Release);
    SCHED_LOCK.lock();
    globrunqput(gp);
    SCHED_LOCK.unlock();
    wakep();
    MAIN_DONE.sleep();
    crate::cpuprof::stop_from_env();
    GRT_OK
}
