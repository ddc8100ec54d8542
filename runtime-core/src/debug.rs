//! `GRTDEBUG`: comma-separated `name=value` knobs, as Go's `GODEBUG` (Go's names where the
//! knob is Go's).
//!
//! Read once, in ordinary code (the first [`get`]); signal handlers only read the parsed
//! values that were in force when the code that arms them started. Unknown names are reported
//! once on stderr and otherwise ignored, so a typo is visible.
//!
//! | knob | what it does |
//! |---|---|
//! | `profsetitimer=1` | the profiler uses process-wide `setitimer(ITIMER_PROF)` instead of a timer per thread |
//! | `profalloc=1` | test-only build (`testhooks`): the SIGPROF handler allocates, so the test that proves it does not can be seen to fail |
//! | `gcstackbarrieroff=1` | no stack barriers: mark termination rescans every stack in full (Go's knob) |
//! | `gcstackbarrierall=1` | a stack barrier in every frame (Go's knob; stacks reserve a larger barrier array) |
//! | `asyncpreempt=1` | asynchronous preemption for every goroutine that does not choose for itself (`grt_async_preempt`): sysmon's slice mark also sends the suspend signal, and a goroutine interrupted in its own code yields (preempt.rs) |
//! | `gcnoassist=1` | no mark assists: an allocation past the heap goal while a cycle marks does not scan a batch itself (it only waits at the hard limit), to compare |
//! | `gcnorootwp=1` | the kernel does not track stores into the data and bss while a cycle marks (dirtyroots.rs): mark termination reads them whole (to compare pauses); nor, in plain-store mode's kernel form, into the heap |
//! | `gcnorootrescan=1` | test-only build: the data and bss and the registered roots are read once, at the start of a cycle: neither the concurrent re-read of the pages written since (dirtyroots.rs) nor mark termination reads them again, tracked or not, so gc_rootwp_teeth can be seen to fail |
//! | `gcrootnocheck=1` | test-only build: registered root ranges in shared mappings are write-tracked too (a store through another mapping of the same memory is not seen), mark termination lists a range's written pages without checking that its mappings are still registered (a mapping made over it since is not, and its pages are never listed), and a range removed and added back while a cycle marks still counts as tracked, so gc_rootwp_remap and gc_rootwp_readd can be seen to fail (by hand: natively only) |
//! | `gcfinatmarkterm=1` | what finalizable objects (and disclaimed ones whose contents are marked) point to is marked at mark termination only, with the world stopped, as before the concurrent pass (mfinal.rs `markroot_spans`; to compare) |
//! | `gcfinpassalways=1` | test-only build: the concurrent pass over the finalizable objects runs even while short links or weak cells exist, so what only a dropped finalizable object reaches is marked before they are cleared, and gc_links_finpass_teeth can be seen to fail |
//! | `gcnofincand=1` | test-only build: a finalizer set after the concurrent pass does not make its FinSpan a candidate for mark termination's pass 2, which walks the candidates only, so its object is never found due (and is freed with its finalizer still set) and gc_finalizer_contents_cand_teeth can be seen to fail |
//! | `gcnofinpass=1` | test-only build: the concurrent pass over the finalizable objects (mfinal.rs `markroot_spans`) greys nothing, yet mark termination trusts it, so gc_finalizer_contents_pass_teeth and gc_disclaim_pass_teeth can be seen to fail |
//! | `gcfinpasswiden=1` | test-only build: the collector sleeps 5 ms after its concurrent pass over the finalizable objects, before mark termination (gc_finalizer_contents' window; grt_test_fin_pass_windows counts them) |
//! | `gcnofinsetgrey=1` | test-only build: a finalizer (or a disclaim that marks its object's contents) set after the concurrent pass over the finalizable objects does not grey its object's contents, although mark termination trusts the pass, so gc_finalizer_contents_teeth can be seen to fail |
//! | `gcnoheapwp=1` | plain-store mode's kernel form (GRT_PLAIN_STORES_KERNEL) tracks nothing: every mark termination rescans every marked object, as the rescan form (to compare) |
//! | `gcheapwpnolist=1` | test-only build: the kernel form lists no written page of the heap, neither in its rounds before mark termination nor at it (nothing is rescanned), so gc_plainstore_kernel can be seen to lose objects where the kernel tracks (by hand: natively only) |
//! | `gcrootswiden=1` | test-only build: the collector sleeps 20 ms after the concurrent read of the roots, and again after the concurrent re-read of the data and bss written since (dirtyroots.rs), the windows of gc_rootwp_widen for stores into globals already read |
//! | `gcnoidlemark=1` | Ms with nothing to run do not mark while a cycle marks (gcwork.rs; to compare) |
//! | `gcidlemarkwiden=1` | test-only build: a marker beside the collector (an idle M, an assist) sleeps 2 ms before each step of marking, holding its grey work (gc_idlemark's window) |
//! | `gcidlemarknowait=1` | test-only build: the collector waits for no marker beside it: its "mark everything" ends when the pool is empty although markers hold work, and it neither closes the markers' gate nor waits for them before mark termination, so gc_idlemark_teeth can be seen to fail |
//! | `gcnorescanrounds=1` | no concurrent rescan rounds before mark termination: it rescans every stack that ran since its scan (to compare pauses) |
//! | `gcnoroundyield=1` | an M does not yield its CPU before running a goroutine while the rescan rounds fall behind or mark termination is about to stop the world (mgc.rs `ROUNDS_BEHIND`; to compare pauses) |
//! | `gctrace=1` | one line per collection on stderr |
//! | `gcnostacklock=1` | test-only build: nobody takes `G.stack_lock`, so the race tests can be seen to fail |
//! | `gcsuspendlockfirst=1` | test-only build: the collector's world lock takes SUSPEND_LOCK second, as it did, so gc_suspend_locks can be seen to deadlock |
//! | `gcrescanpushslow=1` | test-only build: a push to the rescan list holds its lock 20 µs (gc_suspend_locks' window) |
//! | `gcparall=1` | test-only build: every mark termination job wakes the helper thread, and the collector waits for it to join (gc_parmark) |
//! | `gcparlose=1` | test-only build: mark termination's helper claims items and marks nothing from them (gc_parmark's teeth) |
//! | `gcnochanbarrier=1` | test-only build: channel copies do not shade, so gc_chan_wb can be seen to fail |
//! | `gctrustframes=1` | test-only build: stack barriers go into frame records whose return address is not proven one, so gc_fpless can be seen to fail |
//! | `gcnounwindcheck=1` | test-only build: frame records are not checked against the unwind tables (return addresses still are), so gc_fpless_teeth_unwind can be seen to fail |
//! | `gcnounwindfloor=1` | test-only build: grt_gc_unwind does not keep barriers out of the frames its jump skips, so gc_unwind_scan can be seen to fail |
//! | `gcnolibroots=1` | test-only build: the collector does not scan shared libraries' data, so gc_libroots can be seen to fail |
//! | `gcnoreallocshade=1` | test-only build: grt_realloc does not shade what it copies into a new object while a cycle marks, so gc_realloc can be seen to fail |
//! | `gcnoregcache=1` | test-only build: the slots a registered thread's allocation cache holds are not marked at mark termination, so the sweep frees them and they are handed out twice (gc_bdwgc_cache_teeth) |
//! | `gcnoselfstop=1` | test-only build: stopping the world signals every M and every registered thread; none stops itself in its allocation path (gc_regthread_regs_signal, gc_survive_signal: the signal's way alone) |
//! | `gcnoregthreadregs=1` | test-only build: the registers of a stopped registered thread are not scanned, neither its signal's ucontext nor what a self-stop spilled onto its stack, so gc_regthread_regs_teeth can be seen to fail |
//! | `gcnorescanlist=1` | test-only build: a goroutine that runs after its scan does not put itself on the rescan list (rescanlist.rs), so mark termination skips it and gc_rescan_ran_list_teeth can be seen to fail |
//! | `gcrounddrop=1` | test-only build: a concurrent rescan round takes the rescan list off and puts nothing back, also not the goroutines mark termination may not skip (running, in a system call), so gc_rescan_ran_rounds_teeth can be seen to fail |
//! | `gcnewprocsplit=1` | test-only build: a new goroutine is pushed onto the rescan list before it turns runnable and again after, in separate holds of the list's lock with 200 µs between (the old form), so a concurrent rescan round can drop it in between and gc_rescan_ran_spawn_teeth can be seen to fail |
//! | `gcrescancheck=1` | test-only build: mark termination checks that every goroutine off the rescan list is skippable (a fatal error if not) |
//! | `gcblackstale=1` | test-only build: mark termination does not empty the Ms' black windows (mcache.rs), so the write barrier drops stores of objects white in the next cycle and gc_wb_black_teeth can be seen to fail |
//! | `gcgrowrevived=1` | test-only build: the heap goal grows over the bytes kept only for finalizers too (Go's way), so gc_finalizer_pacing_teeth sees it grow without bound |
//! | `gcnodirty=1` | test-only build: plain-store mode tracks no writes (no page is protected or rescanned), so gc_plainstore can be seen to fail |
//! | `gcnolinkclear=1` | test-only build: disappearing links to dead objects are dropped without being cleared, so gc_links can be seen to fail |
//! | `gcnosysstack=1` | test-only build: mark termination does not scan the system stacks (g0) of stopped Ms, where a grt_cgocall function runs, so gc_cgocall_alloc can be seen to fail |
//! | `gcnodisclaimrevive=1` | test-only build: while an object's disclaim is pending, its mark reads 0 even after grt_gc_set_mark_bit revived it, so gc_disclaim can be seen to fail |
//! | `gcnofinshade=1` | test-only build: a finalizer's arg set while a cycle marks is not shaded, although mark termination does not collect the finalizers' args again, so gc_finalizer_shade can be seen to fail |
//! | `gcnofinmark=1` | test-only build: an object kept alive for its finalizer is marked but not scanned, so what it points to is freed and gc_finalizer can be seen to fail |
//! | `gcnoregthreads=1` | test-only build: registered threads that are not goroutines are neither stopped nor scanned, so gc_regthread can be seen to fail |
//! | `gcnoscandone=1` | test-only build: mark termination trusts the barriers of stacks not scanned in the cycle, so gc_scandone can be seen to fail |
//! | `gcnosweepgen=1` | test-only build: after a cycle, allocation goes on in spans not yet swept (the sweep-generation check is skipped), so gc_sweep can be seen to fail |
//! | `gcnopaceidle=1` | test-only build: an allocation past the heap goal while no cycle marks (one asked for but not started, or the last one sweeping) goes on without yielding or waiting (the pacer before it held the goal), so gc_pacing can be seen to fail |
//! | `gcnosweepbudget=1` | test-only build: an allocation that finds no room in its size class sweeps that class's spans until one has room, however many (no budget), so gc_sweep_budget can be seen to fail |
//! | `gcscanvalidkeep=1` | test-only build: a goroutine that runs keeps its stack's "scanned and unchanged" mark (`G.gcscanvalid`), so mark termination skips stacks that ran since their scan and gc_rescan_ran can be seen to fail |
//! | `schedwidensetaside=1` | test-only build: an M that finds the goroutine it was to run held by grt_suspend waits 200 µs before it lets go of it (suspend_setaside's window) |
//! | `schedplainsetaside=1` | test-only build: and then clears the goroutine's M with a plain store, as before, so suspend_setaside can be seen to fail |
//! | `schedslowretake=1` | test-only build: sysmon takes a P from a system call only after seeing the same call twice, however many goroutines wait on it (the old rule), so sched_fair_gc can be seen to fail (with schednoslice=1; x86_64 natively) |
//! | `netpollnoclosewait=1` | test-only build: grt_fd_close releases the descriptor number at once, without waiting for calls in flight on it, so net_close can be seen to fail |
//! | `schednoslice=1` | test-only build: sysmon marks no goroutine that has held its P for a time slice, so sched_slice can be seen to fail |
//! | `schednofpctl=1` | test-only build: g0 does not take back FP control words a goroutine changed (`proc::carry_control_words`), so sched_fpctl can be seen to fail |
//! | `asyncpreemptclobber=1` | test-only build: a preempted goroutine resumes with one general register changed (x86_64 r8, aarch64 x0), as a stub that failed to save it would, so sched_async_regs can be seen to fail |
//! | `asyncpreemptanywhere=1` | test-only build: asynchronous preemption does not check that the pc is the program's own code (libc, grt's assembly) nor its frame, so sched_async_refuse can be seen to fail |
//! | `asyncpreemptnowalk=1` | test-only build: walkers treat the preemption stub as an ordinary frame (read at profiler start), so gc_async can be seen to fail |
//! | `gcnojumps=1` | test-only build: the trampoline does not pass over barriers a jump skipped (a longjmp without grt_gc_unwind is a fatal error again), so gc_jump can be seen to fail |
//! | `gcnochaincheck=1` | test-only build: mark termination and barrier removal trust every barrier not hit, whether or not the frame chain still passes it, so gc_longjmp can be seen to fail |

use core::sync::atomic::{AtomicU32, Ordering};

use crate::{env, printerr};

#[derive(Clone, Copy, Debug, Default)]
pub struct Knobs {
    pub profsetitimer: bool,
    pub profalloc: bool,
    pub gcstackbarrieroff: bool,
    pub gcstackbarrierall: bool,
    pub gctrace: bool,
    pub asyncpreempt: bool,
    pub gcnostacklock: bool,
    pub gcsuspendlockfirst: bool,
    pub gcrescanpushslow: bool,
    pub gcrounddrop: bool,
    pub gcnewprocsplit: bool,
    pub gcparall: bool,
    pub gcparlose: bool,
    pub gcnochanbarrier: bool,
    pub gcnoscandone: bool,
    pub gcnoregthreads: bool,
    pub gcnofinmark: bool,
    pub gcnofinshade: bool,
    pub gcnolinkclear: bool,
    pub gcnodisclaimrevive: bool,
    pub gcnosysstack: bool,
    pub gcnodirty: bool,
    pub gcnoregcache: bool,
    pub gcnoselfstop: bool,
    pub gcgrowrevived: bool,
    pub gcblackstale: bool,
    pub gcnorescanlist: bool,
    pub gcrescancheck: bool,
    pub gcnoregthreadregs: bool,
    pub gcnoreallocshade: bool,
    pub gcnolibroots: bool,
    pub gcscanvalidkeep: bool,
    pub gcnosweepgen: bool,
    pub gcnosweepbudget: bool,
    pub gcidlemarkwiden: bool,
    pub gcidlemarknowait: bool,
    pub gcnoidlemark: bool,
    pub gcnorootwp: bool,
    pub gcnorootrescan: bool,
    pub gcrootswiden: bool,
    pub gcheapwpnolist: bool,
    pub gcnoheapwp: bool,
    pub gcfinatmarkterm: bool,
    pub gcnofinsetgrey: bool,
    pub gcnofinpass: bool,
    pub gcnofincand: bool,
    pub gcfinpassalways: bool,
    pub gcfinpasswiden: bool,
    pub gcrootnocheck: bool,
    pub gcnopaceidle: bool,
    pub gcnorescanrounds: bool,
    pub gcnoroundyield: bool,
    pub gcnoassist: bool,
    pub gctrustframes: bool,
    pub gcnounwindcheck: bool,
    pub gcnounwindfloor: bool,
    pub gcnojumps: bool,
    pub gcnochaincheck: bool,
    pub schedwidensetaside: bool,
    pub schedplainsetaside: bool,
    pub schedslowretake: bool,
    pub netpollnoclosewait: bool,
    pub schednoslice: bool,
    pub schednofpctl: bool,
    pub asyncpreemptclobber: bool,
    pub asyncpreemptanywhere: bool,
    pub asyncpreemptnowalk: bool,
}

const UNREAD: u32 = 0;
const READING: u32 = 1;
const READ: u32 = 2;

static STATE: AtomicU32 = AtomicU32::new(UNREAD);
static mut KNOBS: Knobs = Knobs {
    profsetitimer: false,
    profalloc: false,
    gcstackbarrieroff: false,
    gcstackbarrierall: false,
    gctrace: false,
    asyncpreempt: false,
    gcnostacklock: false,
    gcsuspendlockfirst: false,
    gcrescanpushslow: false,
    gcrounddrop: false,
    gcnewprocsplit: false,
    gcparall: false,
    gcparlose: false,
    gcnochanbarrier: false,
    gcnoscandone: false,
    gcnoregthreads: false,
    gcnofinmark: false,
    gcnofinshade: false,
    gcnolinkclear: false,
    gcnodisclaimrevive: false,
    gcnosysstack: false,
    gcnodirty: false,
    gcnoregcache: false,
    gcnoselfstop: false,
    gcgrowrevived: false,
    gcblackstale: false,
    gcnorescanlist: false,
    gcrescancheck: false,
    gcnoregthreadregs: false,
    gcnoreallocshade: false,
    gcnolibroots: false,
    gcscanvalidkeep: false,
    gcnosweepgen: false,
    gcnosweepbudget: false,
    gcidlemarkwiden: false,
    gcidlemarknowait: false,
    gcnoidlemark: false,
    gcnorootwp: false,
    gcnorootrescan: false,
    gcrootswiden: false,
    gcheapwpnolist: false,
    gcnoheapwp: false,
    gcfinatmarkterm: false,
    gcnofinsetgrey: false,
    gcnofinpass: false,
    gcnofincand: false,
    gcfinpassalways: false,
    gcfinpasswiden: false,
    gcrootnocheck: false,
    gcnopaceidle: false,
    gcnorescanrounds: false,
    gcnoroundyield: false,
    gcnoassist: false,
    gctrustframes: false,
    gcnounwindcheck: false,
    gcnounwindfloor: false,
    gcnojumps: false,
    gcnochaincheck: false,
    schedwidensetaside: false,
    schedplainsetaside: false,
    schedslowretake: false,
    netpollnoclosewait: false,
    schednoslice: false,
    schednofpctl: false,
    asyncpreemptclobber: false,
    asyncpreemptanywhere: false,
    asyncpreemptnowalk: false,
};

/// Knobs only the test-only build honours.
const TEST_ONLY: &[&str] = &[
    "gcnorootrescan",
    "gcrootswiden",
    "gcheapwpnolist",
    "gcrootnocheck",
    "profalloc",
    "gcnostacklock",
    "gcsuspendlockfirst",
    "gcrescanpushslow",
    "gcrounddrop",
    "gcnewprocsplit",
    "gcparall",
    "gcparlose",
    "gcnochanbarrier",
    "gcnoscandone",
    "gcnoregthreads",
    "gcnofinmark",
    "gcnofinshade",
    "gcnofinsetgrey",
    "gcnofinpass",
    "gcnofincand",
    "gcfinpassalways",
    "gcfinpasswiden",
    "gcnolinkclear",
    "gcnodisclaimrevive",
    "gcnosysstack",
    "gcnodirty",
    "gcnoregcache",
    "gcnoselfstop",
    "gcgrowrevived",
    "gcblackstale",
    "gcnorescanlist",
    "gcrescancheck",
    "gcnoregthreadregs",
    "gcnoreallocshade",
    "gcnolibroots",
    "gcscanvalidkeep",
    "gcnosweepgen",
    "gcnosweepbudget",
    "gcidlemarkwiden",
    "gcidlemarknowait",
    "gcnopaceidle",
    "gctrustframes",
    "gcnounwindcheck",
    "gcnounwindfloor",
    "gcnojumps",
    "gcnochaincheck",
    "schedwidensetaside",
    "schedplainsetaside",
    "schedslowretake",
    "netpollnoclosewait",
    "schednoslice",
    "schednofpctl",
    "asyncpreemptclobber",
    "asyncpreemptanywhere",
    "asyncpreemptnowalk",
];

fn parse(s: &[u8]) -> Knobs {
    let mut k = Knobs::default();
    for item in s.split(|&c| c == b',').filter(|i| !i.is_empty()) {
        let (name, value) = match item.iter().position(|&c| c == b'=') {
            Some(eq) => (&item[..eq], &item[eq + 1..]),
            None => (item, &b""[..]),
        };
        let on = value == b"1";
        let name = core::str::from_utf8(name).unwrap_or("?");
        if TEST_ONLY.contains(&name) && !cfg!(feature = "testhooks") {
            printerr!(
                "grt: GRTDEBUG: {} works only in the test build of grt; ignored\n",
                name
            );
            continue;
        }
        match name {
            "profsetitimer" => k.profsetitimer = on,
            "profalloc" => k.profalloc = on,
            "gcstackbarrieroff" => k.gcstackbarrieroff = on,
            "gcstackbarrierall" => k.gcstackbarrierall = on,
            "gctrace" => k.gctrace = on,
            "asyncpreempt" => k.asyncpreempt = on,
            "gcnostacklock" => k.gcnostacklock = on,
            "gcsuspendlockfirst" => k.gcsuspendlockfirst = on,
            "gcrescanpushslow" => k.gcrescanpushslow = on,
            "gcrounddrop" => k.gcrounddrop = on,
            "gcnewprocsplit" => k.gcnewprocsplit = on,
            "gcparall" => k.gcparall = on,
            "gcparlose" => k.gcparlose = on,
            "gcnochanbarrier" => k.gcnochanbarrier = on,
            "gcnoscandone" => k.gcnoscandone = on,
            "gcnoregthreads" => k.gcnoregthreads = on,
            "gcnofinmark" => k.gcnofinmark = on,
            "gcnofinshade" => k.gcnofinshade = on,
            "gcnolinkclear" => k.gcnolinkclear = on,
            "gcnodisclaimrevive" => k.gcnodisclaimrevive = on,
            "gcnosysstack" => k.gcnosysstack = on,
            "gcnodirty" => k.gcnodirty = on,
            "gcnoregcache" => k.gcnoregcache = on,
            "gcnoselfstop" => k.gcnoselfstop = on,
            "gcgrowrevived" => k.gcgrowrevived = on,
            "gcblackstale" => k.gcblackstale = on,
            "gcnorescanlist" => k.gcnorescanlist = on,
            "gcrescancheck" => k.gcrescancheck = on,
            "gcnoregthreadregs" => k.gcnoregthreadregs = on,
            "gcnoreallocshade" => k.gcnoreallocshade = on,
            "gcnolibroots" => k.gcnolibroots = on,
            "gcscanvalidkeep" => k.gcscanvalidkeep = on,
            "gcnosweepgen" => k.gcnosweepgen = on,
            "gcnosweepbudget" => k.gcnosweepbudget = on,
            "gcidlemarkwiden" => k.gcidlemarkwiden = on,
            "gcidlemarknowait" => k.gcidlemarknowait = on,
            "gcnoidlemark" => k.gcnoidlemark = on,
            "gcnorootwp" => k.gcnorootwp = on,
            "gcnorootrescan" => k.gcnorootrescan = on,
            "gcrootswiden" => k.gcrootswiden = on,
            "gcheapwpnolist" => k.gcheapwpnolist = on,
            "gcnoheapwp" => k.gcnoheapwp = on,
            "gcfinatmarkterm" => k.gcfinatmarkterm = on,
            "gcnofinsetgrey" => k.gcnofinsetgrey = on,
            "gcnofinpass" => k.gcnofinpass = on,
            "gcnofincand" => k.gcnofincand = on,
            "gcfinpassalways" => k.gcfinpassalways = on,
            "gcfinpasswiden" => k.gcfinpasswiden = on,
            "gcrootnocheck" => k.gcrootnocheck = on,
            "gcnopaceidle" => k.gcnopaceidle = on,
            "gcnorescanrounds" => k.gcnorescanrounds = on,
            "gcnoroundyield" => k.gcnoroundyield = on,
            "gcnoassist" => k.gcnoassist = on,
            "gctrustframes" => k.gctrustframes = on,
            "gcnounwindcheck" => k.gcnounwindcheck = on,
            "gcnounwindfloor" => k.gcnounwindfloor = on,
            "gcnojumps" => k.gcnojumps = on,
            "gcnochaincheck" => k.gcnochaincheck = on,
            "schedwidensetaside" => k.schedwidensetaside = on,
            "schedplainsetaside" => k.schedplainsetaside = on,
            "schedslowretake" => k.schedslowretake = on,
            "netpollnoclosewait" => k.netpollnoclosewait = on,
            "schednoslice" => k.schednoslice = on,
            "schednofpctl" => k.schednofpctl = on,
            "asyncpreemptclobber" => k.asyncpreemptclobber = on,
            "asyncpreemptanywhere" => k.asyncpreemptanywhere = on,
            "asyncpreemptnowalk" => k.asyncpreemptnowalk = on,
            _ => printerr!("grt: GRTDEBUG: unknown setting {:?}; ignored\n", name),
        }
    }
    k
}

/// The knobs (parsing `GRTDEBUG` the first time). Not for signal handlers.
pub fn get() -> Knobs {
    loop {
        match STATE.compare_exchange(UNREAD, READING, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => {
                let k = parse(env::get("GRTDEBUG").unwrap_or(b""));
                // SAFETY: we hold READING: the only writer; readers wait for READ.
                unsafe { KNOBS = k };
                STATE.store(READ, Ordering::Release);
                return k;
            }
            Err(READ) => {
                // SAFETY: written once before READ was published.
                return unsafe { KNOBS };
            }
            Err(_) => core::hint::spin_loop(), // another thread is parsing (microseconds)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_knobs() {
        assert!(parse(b"profsetitimer=1").profsetitimer);
        assert!(!parse(b"profsetitimer=0,other=1").profsetitimer);
        assert!(!parse(b"").profsetitimer);
    }
}
