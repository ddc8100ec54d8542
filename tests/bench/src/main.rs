//! Context switch cost: a resume + yield pair between the main context and a coroutine, in
//! the same process, interleaved run by run so that all see the same machine noise: grt's
//! runtime switch (`arch::switch`, what the scheduler uses), grt's C API switch
//! (`grt_context_switch`, the whole psABI promise) and corosensei's `resume`/`suspend`.
//! Prints medians and the ratios.

use std::ffi::c_void;
use std::hint::black_box;
use std::time::Instant;

use corosensei::Coroutine;
use grt_arch::{grt_context_switch, init_context, switch, Context};

const PAIRS: u64 = 2_000_000;
const RUNS: usize = 15;

struct Pair {
    main: Context,
    co: Context,
}

unsafe extern "C" fn grt_co(arg: *mut c_void) {
    let p = arg as *mut Pair;
    loop {
        // SAFETY: the Pair outlives the loop; the main side resumes us.
        unsafe { grt_context_switch(&mut (*p).co, &(*p).main) };
    }
}

unsafe extern "C" fn fast_co(arg: *mut c_void) {
    let p = arg as *mut Pair;
    loop {
        // SAFETY: as in grt_co.
        unsafe { switch(&mut (*p).co, &(*p).main) };
    }
}

/// ns per pair for grt's runtime switch.
fn fast_run(p: *mut Pair) -> f64 {
    let t = Instant::now();
    for _ in 0..PAIRS {
        // SAFETY: the coroutine is parked in p.co.
        unsafe { switch(&mut (*p).main, &(*p).co) };
    }
    t.elapsed().as_nanos() as f64 / PAIRS as f64
}

/// ns per pair for grt's C API switch.
fn grt_run(p: *mut Pair) -> f64 {
    let t = Instant::now();
    for _ in 0..PAIRS {
        // SAFETY: the coroutine is parked in p.co.
        unsafe { grt_context_switch(&mut (*p).main, &(*p).co) };
    }
    t.elapsed().as_nanos() as f64 / PAIRS as f64
}

/// ns per pair for corosensei.
fn coro_run(c: &mut Coroutine<(), (), ()>) -> f64 {
    let t = Instant::now();
    for _ in 0..PAIRS {
        black_box(c.resume(()));
    }
    t.elapsed().as_nanos() as f64 / PAIRS as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn new_pair(stack: &mut [u128], entry: grt_arch::EntryFn) -> Box<Pair> {
    let top = stack.as_mut_ptr() as usize + std::mem::size_of_val(stack);
    let mut pair = Box::new(Pair {
        main: Context::default(),
        co: Context::default(),
    });
    let p: *mut Pair = &mut *pair;
    // SAFETY: the stack is given to this coroutine alone and outlives it.
    pair.co = unsafe { init_context(top, entry, p as *mut c_void, std::ptr::null()) };
    pair
}

fn main() {
    // 64 KiB each, 16-byte aligned; like corosensei's default stack touched only at the top.
    let mut stack = vec![0u128; 4096];
    let mut fast_stack = vec![0u128; 4096];
    let mut pair = new_pair(&mut stack, grt_co);
    let mut fast_pair = new_pair(&mut fast_stack, fast_co);
    let p: *mut Pair = &mut *pair;
    let fp: *mut Pair = &mut *fast_pair;

    let mut coro: Coroutine<(), (), ()> = Coroutine::new(|y, ()| loop {
        y.suspend(());
    });

    // Warm up all three.
    fast_run(fp);
    grt_run(p);
    coro_run(&mut coro);
    let (mut f, mut g, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        f.push(fast_run(fp));
        g.push(grt_run(p));
        c.push(coro_run(&mut coro));
    }
    let (f, g, c) = (median(f), median(g), median(c));
    println!("context switch, resume + yield pair (median of {RUNS} runs of {PAIRS} pairs):");
    println!(
        "  grt runtime switch   {f:8.2} ns/pair   contract: the callee-saved registers; the FP \
         control words are thread state, carried per goroutine by the scheduler only when a \
         goroutine changed them"
    );
    println!(
        "  grt_context_switch   {g:8.2} ns/pair   contract: the whole psABI (+ MXCSR and x87 \
         control word on x86_64)"
    );
    println!("  corosensei           {c:8.2} ns/pair");
    println!(
        "  ratio runtime/corosensei = {:.3} (goal <= 1.0 on x86_64 natively), \
         psABI/corosensei = {:.3}",
        f / c,
        g / c
    );
    // Dropping a suspended corosensei coroutine unwinds its stack, which panic=abort forbids.
    std::mem::forget(coro);
    std::mem::forget(pair);
    std::mem::forget(fast_pair);
}

/// grt-arch's entry trampoline calls this if an entry function returns; ours never does.
#[no_mangle]
extern "C" fn grt_context_exit(_link: *const Context) -> ! {
    std::process::abort()
}

/// grt-arch's signal trampoline calls this; the bench installs no handlers.
#[no_mangle]
extern "C" fn grt_sighandler(_sig: i32, _info: *mut c_void, _uc: *mut c_void) {}
