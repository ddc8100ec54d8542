//! gentraceback: the one frame-pointer walker, used by the profiler's signal handler, by
//! `grt_traceback`, and by fatal-error stack dumps (and by the GC's stack scan to come).
//!
//! # Algorithm
//!
//! A walk starts from a pc and a frame pointer on a stack whose bounds `[lo, hi)` the caller
//! knows (a goroutine's stack, an M's system stack). Each step reads the frame record at fp
//! through the architecture's `read_frame_record` (saved fp, return address) and moves to the
//! saved fp. The record is read only if fp is 8-byte aligned and the whole record lies inside
//! `[lo, hi)`; the walk ends when the saved fp is 0 (the bottom of a grt stack: every context
//! starts with fp 0), when it does not strictly increase (a loop, or garbage), when a return
//! address is 0, or after `max` frames. So it never faults and always ends, whatever the
//! stack holds.
//!
//! From a signal ([`TRACE_FROM_SIGNAL`]) the interrupted function may not have its own frame
//! record yet (in its prologue), any more (at its `ret`), or at all (a frameless leaf, libc's
//! assembly). Then fp is still its caller's and a plain walk would skip the caller. The
//! architecture's `frameless_return` reads the code at pc (which must be known code, see
//! codemap.rs) and says where the return address is: in the link register (aarch64) or at a
//! fixed offset from sp (x86_64). That caller is added unless it is what the fp chain gives
//! next anyway.
//!
//! With [`TRACE_CHECK_CALLS`] (the profiler) the unwind tables say where the frame-pointer
//! chain cannot be followed: a caller that keeps no frame record at its call, or an
//! interrupted function that keeps data in the register. The walk then takes unwind steps
//! (`unwind_steps`: the CFA, return address and caller's frame pointer by the function's
//! row, every read inside `[lo, hi)`) until a caller that keeps a record, and goes on along
//! the chain from the frame pointer the steps restored.
//!
//! Jumping between stacks (signal or system stack to the goroutine's, `syscallpc`) is the
//! caller's business: sigprof.rs walks each stack with its own bounds.
//!
//! # Stack barriers
//!
//! Given the G whose stack it walks (whose stack lock the caller holds), the walk substitutes
//! `saved_lr_val` for every return address that is the barrier trampoline's, in order,
//! checking that each comes from the frame its entry names (the frame pointer the frame
//! returns with: the saved fp beside the return address, wherever a sibling call moved the
//! record); a mismatch is Go's "missed stack barrier", a fatal error (it means someone changed
//! the barriers under the walk: the race the seeds fixed). A walk from a signal whose
//! interrupted function has already left the chain (an epilogue or a sibling call restored
//! the caller's frame pointer) consumes that function's barrier in its first step, or passes
//! over it when the first step takes no caller (`Cursor::skip_popped`). A walk that starts inside the trampoline itself (a profiling signal
//! between a `ret` and the jump to the real caller) resolves where the trampoline is going
//! (Go commit 3a2fc068). Without a G, a trampoline address ends the walk: no walk ever
//! reports the trampoline as a frame.

use grt_arch as arch;

use crate::runtime2::G;
use crate::stkbar::{self, Cursor};
use crate::{codemap, maps, printerr};

/// At most this many frames are printed.
pub const MAX_FRAMES: usize = 64;

/// `pc`, `sp`, `fp` and `lr` are an interrupted thread's registers (from a ucontext).
pub const TRACE_FROM_SIGNAL: u32 = 1;
/// Every return address read from a frame record must be proven one, or the walk ends there:
/// in known code (the profiler's `codemap` snapshot) and right after a call instruction.
/// Frame-pointer-less code (glibc's) keeps data in the frame-pointer register, so past such
/// a frame the "chain" may be any words of the stack; the profiler must never report them as
/// callers.
/// And past a caller whose unwind table says it keeps no frame record at the call, the walk
/// goes on by unwind steps (`unwind::frame_for_walk`, `unwind::rule_for_walk`), or ends.
pub const TRACE_CHECK_CALLS: u32 = 2;

/// Every frame after the first is reported as a return address: an interrupted pc met inside
/// the walk (a preempted goroutine's, past the preemption stub; not when it is the walk's
/// first frame, a walk that starts in the stub) is reported as `pc + 1`, so a
/// reader that takes every caller as `address - 1` (the profile writer, pprof, addr2line
/// users of `grt_traceback`) lands on the interrupted instruction, not on the end of the
/// function before it when the pc is a function's first instruction (Go's `tracebackPCs`
/// does the same).
pub const TRACE_CALLERS_AS_RET: u32 = 8;

/// Return addresses below this are garbage (the first page is never mapped), and would clash
/// with the profile's pseudo-frames.
pub const MIN_CODE_ADDR: usize = 4096;

/// The next frame pointer and return address after `fp`, if `fp` is a valid record inside
/// `[lo, hi)`.
pub fn step(fp: usize, lo: usize, hi: usize) -> Option<arch::FrameRecord> {
    if fp % 8 != 0 || fp < lo || fp > hi.saturating_sub(arch::FRAME_RECORD_SIZE) {
        return None;
    }
    // SAFETY: the record lies inside [lo, hi), a mapped stack.
    Some(unsafe { arch::read_frame_record(fp) })
}

/// The word at `addr` if it lies inside `[lo, hi)` and is aligned.
fn stack_word(addr: usize, lo: usize, hi: usize) -> Option<usize> {
    if addr % 8 != 0 || addr < lo || addr > hi.saturating_sub(8) {
        return None;
    }
    // SAFETY: inside the mapped stack [lo, hi).
    Some(unsafe { core::ptr::read_volatile(addr as *const usize) })
}

/// Whether `ret` is in known code, right after a call instruction (the profiler's snapshot;
/// never faults).
fn after_call(ret: usize) -> bool {
    ret.checked_sub(arch::CALL_SCAN_BYTES)
        .and_then(codemap::read_array::<{ arch::CALL_SCAN_BYTES }>)
        .is_some_and(|code| arch::ends_with_call(&code))
}

/// The target of the direct call that returns to `ret`, read safely.
fn call_target(ret: usize) -> Option<usize> {
    let call =
        codemap::read_array::<{ arch::CALL_INSN_LEN }>(ret.checked_sub(arch::CALL_INSN_LEN)?)?;
    arch::direct_call_target(&call, ret)
}

/// The caller of an interrupted function that has no frame record at pc (see the module
/// comment), if there is one and the fp chain would not give it next anyway. Every read of
/// code goes through `codemap::read` (never faults); every candidate return address must
/// come right after a direct call to the function that contains pc. `raw` receives the
/// candidate before that last check (where the code says the return address is).
#[allow(clippy::too_many_arguments)]
fn frameless_caller(
    pc: usize,
    sp: usize,
    fp: usize,
    lr: Option<usize>,
    lo: usize,
    hi: usize,
    cur: &mut Option<Cursor<'_>>,
    raw: &mut Option<usize>,
) -> Option<usize> {
    let (code_lo, _) = codemap::find(pc)?;
    let start = pc.saturating_sub(arch::FRAMELESS_SCAN_BYTES).max(code_lo);
    let mut buf = [0u8; arch::FRAMELESS_SCAN_BYTES + 4];
    let code = &mut buf[..pc.checked_add(4)? - start];
    if !codemap::read(start, code) {
        return None;
    }
    let mut reloaded_lr = false;
    let (ret, min_target, frameless_only) = match arch::frameless_return(code, pc)? {
        arch::RetLoc::Lr {
            min_target,
            reloaded,
        } => {
            reloaded_lr = reloaded;
            // The epilogue may have loaded a barrier's slot into the link register already.
            let ret = match lr? {
                r if r == stkbar::stack_barrier_pc() => cur.as_mut()?.resolve_popped(fp)?,
                r => r,
            };
            (ret, min_target, false)
        }
        arch::RetLoc::Stack {
            off,
            max_back,
            frameless_only,
        } => {
            let slot = sp.checked_add(off)?;
            let ret = match stack_word(slot, lo, hi)? {
                // Popped by its epilogue (x86_64 at `ret`) or handed on by a sibling call:
                // the frame pointer is already the caller's.
                r if r == stkbar::stack_barrier_pc() => cur.as_mut()?.resolve(slot, r, fp).ok()?,
                r => r,
            };
            (ret, pc.saturating_sub(max_back), frameless_only)
        }
    };
    *raw = Some(ret);
    if ret < MIN_CODE_ADDR || codemap::find(ret).is_none() {
        return None;
    }
    let target = call_target(ret)?;
    if target < min_target || target > pc {
        return None;
    }
    // Past a reload found by scanning back, x30 may be a leftover of a call this function
    // made (code after a tail call's `ldp x29, x30 ; b f`, reached by a branch, with the
    // record in place): only the return address of a call into this very function, as its
    // unwind table bounds it, from outside it, is its caller (a recursive call's is refused
    // too: it may be the leftover). Without a table, none.
    if reloaded_lr {
        match crate::unwind::function_range_for_walk(pc) {
            Some((start, end)) if target == start && !(start..end).contains(&ret) => {}
            _ => return None,
        }
    }
    if frameless_only && arch::opens_frame(&codemap::read_array::<8>(target)?) {
        return None;
    }
    let next = step(fp, lo, hi).map(|r| match cur.as_ref() {
        Some(c) => c.peek(r.ret, r.fp),
        None => r.ret,
    });
    (Some(ret) != next).then_some(ret)
}

/// The return address of a function interrupted at sp (link register `lr`) where its unwind
/// row puts it (`unwind::frame_at_pc_for_walk`), read inside `[lo, hi)`.
pub(crate) fn located_return(
    ra: crate::unwind::RaLoc,
    sp: usize,
    lr: Option<usize>,
    lo: usize,
    hi: usize,
) -> Option<usize> {
    use crate::unwind::RaLoc;
    match ra {
        RaLoc::Lr => lr,
        RaLoc::Stack(off) => sp.checked_add(off).and_then(|a| stack_word(a, lo, hi)),
        RaLoc::Unknown => None,
    }
}

/// Whether the frame-pointer register `fp` of a thread interrupted at `pc` starts a chain of
/// frame records, by the unwind tables (`unwind::frame_at_regs_for_walk`): no if the
/// function at pc saved it without keeping a record (it may hold data), or if the function
/// has not touched it yet or has reloaded it already (it is the caller's) and the caller
/// keeps no record at its call. In that second case, also the caller's return address as the
/// table locates it (the link register, or a word above sp; a barrier's trampoline there is
/// the barrier of the frame that returns with `fp`, whose saved return address is
/// `in_flight`), else where the code at pc says it is (`ret`, already through the barriers).
#[allow(clippy::too_many_arguments)]
fn fp_starts_chain(
    pc: usize,
    sp: usize,
    fp: usize,
    lr: Option<usize>,
    ret: Option<usize>,
    lo: usize,
    hi: usize,
    in_flight: Option<usize>,
) -> (bool, Option<usize>) {
    use crate::unwind::{frame_at_regs_for_walk, frame_for_walk, Frame};
    let tramp = stkbar::stack_barrier_pc();
    match frame_at_regs_for_walk(pc, sp, fp) {
        (Frame::NoRecord, _) => (false, None),
        (Frame::CallersFp, ra) => {
            let caller = match located_return(ra, sp, lr, lo, hi) {
                Some(r) if r == tramp => ret.or(in_flight),
                Some(r) => Some(r),
                None => ret,
            };
            let chain = caller.is_none_or(|r| frame_for_walk(r) != Frame::NoRecord);
            (chain, caller)
        }
        _ => (true, None),
    }
}

/// The registers an unwind step starts from: the function's address (an interrupted pc, or
/// a return address into it), its sp and fp, and at an interrupted pc the link register.
#[derive(Clone, Copy)]
struct Regs {
    pc: usize,
    sp: usize,
    fp: usize,
    lr: Option<usize>,
    at_pc: bool,
}

/// Steps by the unwind tables through frames that keep no frame record, from `r` (whose pc
/// is already reported), reporting each caller, until one that keeps a record, or whose
/// table is unknown: returns its frame pointer (restored by the steps: the register's value
/// in that function) and its address, to go on along the frame-pointer chain. None where no
/// rule covers a frame, a value is not on the stack, or a return address is not proven (in
/// known code, right after a call): the walk ends there. A trampoline's address (the first
/// step from a function at its `ret`, a record the collector barriered) goes through the
/// barrier cursor; one it cannot place ends the walk.
fn unwind_steps(
    mut r: Regs,
    lo: usize,
    hi: usize,
    n: &mut usize,
    max: usize,
    cur: &mut Option<Cursor<'_>>,
    f: &mut impl FnMut(usize),
) -> Option<(usize, usize)> {
    use crate::unwind::{frame_for_walk, rule_for_walk, Frame, Loc};
    while *n < max {
        let rule = rule_for_walk(r.pc, r.at_pc)?;
        let base = if rule.cfa_from_fp { r.fp } else { r.sp };
        let cfa = base.checked_add_signed(rule.cfa_off as isize)?;
        // The caller's sp at the call: above this frame's sp (at an interrupted pc of an
        // aarch64 function that has pushed nothing, sp itself), inside the stack.
        if cfa < r.sp || (cfa == r.sp && !r.at_pc) || cfa > hi {
            return None;
        }
        // Saved registers lie in the frame, at or above sp; at an interrupted pc also in the
        // red zone below it (x86_64), where a leaf may save them, and where gcc's `leave`
        // leaves the popped rbp's rule pointing (the word still holds the value the register
        // got back: nothing below sp but a signal frame, which starts below the red zone,
        // is written there).
        let low = match r.at_pc {
            true => r.sp.saturating_sub(arch::RED_ZONE).max(lo),
            false => r.sp,
        };
        let word = |o: i16| {
            cfa.checked_add_signed(o as isize)
                .and_then(|a| stack_word(a, low, hi))
        };
        let (ret, slot) = match rule.ra {
            Loc::Same => (r.lr?, 0),
            Loc::Cfa(o) => (word(o)?, cfa.checked_add_signed(o as isize)?),
        };
        let fp = match rule.fp {
            Loc::Same => r.fp,
            Loc::Cfa(o) => word(o)?,
        };
        let ret = match cur.as_mut() {
            Some(c) if ret == stkbar::stack_barrier_pc() => match slot {
                0 => c.resolve_popped(fp)?,
                s => c.resolve(s, ret, fp).ok()?,
            },
            _ => ret,
        };
        if ret == stkbar::stack_barrier_pc() || ret < MIN_CODE_ADDR || !after_call(ret) {
            return None;
        }
        f(ret);
        *n += 1;
        match frame_for_walk(ret) {
            Frame::NoRecord => {
                r = Regs {
                    pc: ret,
                    sp: cfa,
                    fp,
                    lr: None,
                    at_pc: false,
                }
            }
            _ => return (fp >= cfa).then_some((fp, ret)),
        }
    }
    None
}

/// The CFA of the function at `pc` whose frame record is at `fp`: the sp its caller had at
/// the call (for an unwind step into a caller that keeps no record).
fn record_cfa(fp: usize, pc: usize, at_pc: bool) -> Option<usize> {
    if let Some(off) = arch::RECORD_CFA_OFFSET {
        return fp.checked_add(off);
    }
    match crate::unwind::rule_for_walk(pc, at_pc)?.fp {
        crate::unwind::Loc::Cfa(o) if o < 0 => fp.checked_add(o.unsigned_abs() as usize),
        _ => None,
    }
}

/// Whether a walk from a signal at `pc` must start with unwind steps: the function at pc
/// keeps data in its frame-pointer register, or has not touched it yet (or has restored the
/// caller's) and its caller, where the table locates the return address, keeps no record.
/// `Some(true)` when that return address is the trampoline's (a barriered function at its
/// `ret`, or past an epilogue that loaded the slot into the link register): the caller is
/// then the one the barrier for the frame that returns with `fp` saved, and the first unwind
/// step consumes that barrier.
#[allow(clippy::too_many_arguments)]
fn leaf_unwinds(
    pc: usize,
    sp: usize,
    fp: usize,
    lr: Option<usize>,
    lo: usize,
    hi: usize,
    cur: Option<&Cursor<'_>>,
) -> Option<bool> {
    use crate::unwind::{frame_at_regs_for_walk, frame_for_walk, Frame};
    match frame_at_regs_for_walk(pc, sp, fp) {
        (Frame::NoRecord, _) => Some(false),
        (Frame::CallersFp, ra) => {
            let r = located_return(ra, sp, lr, lo, hi)?;
            let tramp = stkbar::stack_barrier_pc();
            let real = match cur {
                Some(c) if r == tramp => c.peek(r, fp),
                _ => r,
            };
            (real != tramp && frame_for_walk(real) == Frame::NoRecord).then_some(r == tramp)
        }
        _ => None,
    }
}

/// Walks from (pc, sp, fp[, lr]) within `[lo, hi)`, calling `f` for each frame: `pc` first
/// (when not 0), then return addresses, at most `max`. Returns how many frames were visited.
/// `g`: the goroutine whose stack this is, when it may carry stack barriers (its stack lock
/// held by the caller).
#[allow(clippy::too_many_arguments)]
pub fn gentraceback(
    pc: usize,
    sp: usize,
    mut fp: usize,
    lr: Option<usize>,
    lo: usize,
    hi: usize,
    flags: u32,
    max: usize,
    g: Option<&G>,
    mut f: impl FnMut(usize),
) -> usize {
    if pc != 0 && arch::in_async_preempt(pc) && !stub_walk_off() {
        // Inside the preemption stub: a signal frame (preempt.rs); its record is at fp. The
        // interrupted pc is then the walk's first frame, an exact pc like any first frame.
        return walk_preempted(fp, lo, hi, flags & !TRACE_CALLERS_AS_RET, max, g, &mut f);
    }
    // Barriers below the walk's start were popped; sp 0 (unknown) keeps them all.
    let mut cur = g.map(|g| Cursor::new(g, sp, fp, lr));
    let mut n = 0;
    let mut pc = pc;
    let mut signal_step = flags & TRACE_FROM_SIGNAL != 0;
    let check_calls = flags & TRACE_CHECK_CALLS != 0;
    let mut from_trampoline = false;
    if pc != 0 && arch::in_stack_barrier(pc) {
        // Between a return and the jump to the real caller: report the caller, whose frame
        // pointer is already restored.
        match (g, cur.as_mut().and_then(|c| c.in_trampoline(pc, sp, fp))) {
            (_, Some(real)) => {
                pc = real;
                signal_step = false;
                from_trampoline = true;
            }
            (Some(g), None) => stkbar::inconsistent_trampoline(g, sp),
            (None, None) => return 0,
        }
    }
    let mut raw_ret = None;
    let mut took_caller = None;
    // The function whose frame record is at fp (its address, and whether that is an
    // interrupted pc): where an unwind step into a caller without a record starts.
    let mut frame_pc = (pc, signal_step);
    // Past unwind steps (a barrier mismatch then ends the walk: see the loop).
    let mut past_unwind = false;
    if pc != 0 && n < max {
        f(pc);
        n += 1;
        // Unwind steps first: from an interrupted pc whose function keeps no record, or
        // from a trampoline on its way back into a caller that keeps none (`pc` is then
        // that caller's return point, `sp` its sp after the return, and the frame-pointer
        // register whatever data it holds: seen as a walk that ended there, on aarch64).
        let leaf = match (signal_step, from_trampoline) {
            (true, _) if check_calls => leaf_unwinds(pc, sp, fp, lr, lo, hi, cur.as_ref()),
            (false, true)
                if check_calls
                    && crate::unwind::frame_for_walk(pc) == crate::unwind::Frame::NoRecord =>
            {
                // The trampoline consumed its barrier already (Cursor::in_trampoline).
                Some(true)
            }
            _ => None,
        };
        if let Some(via_barrier) = leaf {
            if let (Some(c), false) = (cur.as_mut(), via_barrier) {
                c.skip_popped(fp);
            }
            let regs = Regs {
                pc,
                sp,
                fp,
                // In the trampoline the link register is its scratch.
                lr: if from_trampoline { None } else { lr },
                at_pc: !from_trampoline,
            };
            let before = n;
            match unwind_steps(regs, lo, hi, &mut n, max, &mut cur, &mut f) {
                Some((next_fp, at)) => {
                    fp = next_fp;
                    frame_pc = (at, false);
                    past_unwind = true;
                    signal_step = false;
                }
                None if n > before => return n,
                // No rule at pc: the code's own reading below, as without tables.
                None => {}
            }
        }
        if signal_step && n < max {
            if let Some(ret) = frameless_caller(pc, sp, fp, lr, lo, hi, &mut cur, &mut raw_ret) {
                if arch::in_async_preempt(ret) && !stub_walk_off() {
                    // The stub's callee before its own record: fp is still the stub's.
                    return n + walk_preempted(fp, lo, hi, flags, max - n, g, &mut f);
                }
                f(ret);
                n += 1;
                took_caller = Some(ret);
                frame_pc = (ret, false);
            }
        }
    }
    if signal_step {
        // Where the barrier of the frame that returns with `fp` goes back to, if the
        // interrupted function holds it in flight (read before the cursor passes over it).
        let tramp = stkbar::stack_barrier_pc();
        let in_flight = cur
            .as_ref()
            .map(|c| c.peek(tramp, fp))
            .filter(|&r| r != tramp);
        if let Some(c) = cur.as_mut() {
            c.skip_popped(fp);
        }
        if check_calls {
            let (chain, caller) = fp_starts_chain(pc, sp, fp, lr, raw_ret, lo, hi, in_flight);
            // The unwind table located the caller where the code's own reading did not
            // trust it (an indirect call into the function at pc, say): take it.
            if took_caller.is_none() && pc != 0 && n < max {
                if let Some(r) = caller.filter(|&r| r >= MIN_CODE_ADDR && after_call(r)) {
                    let next = step(fp, lo, hi).map(|x| match cur.as_ref() {
                        Some(c) => c.peek(x.ret, x.fp),
                        None => x.ret,
                    });
                    if arch::in_async_preempt(r) && !stub_walk_off() {
                        return n + walk_preempted(fp, lo, hi, flags, max - n, g, &mut f);
                    }
                    if Some(r) != next {
                        f(r);
                        n += 1;
                        frame_pc = (r, false);
                    }
                }
            }
            if !chain {
                return n;
            }
        }
    } else if from_trampoline && check_calls && !past_unwind {
        // The function the trampoline returns into may keep data in its frame pointer (the
        // register is already its own): the same start check, at the pc it resumes at. (Its
        // link register is the trampoline's scratch: no caller from there.) After unwind
        // steps through it, the chain starts at the record they reached instead.
        if !fp_starts_chain(pc, sp, fp, None, None, lo, hi, None).0 {
            return n;
        }
    }
    while n < max {
        if g.is_some() {
            stkbar::widen_for_teeth(n);
        }
        let Some(rec) = step(fp, lo, hi) else { break };
        if arch::in_async_preempt(rec.ret) && !stub_walk_off() {
            // A return into the preemption stub (the goroutine was preempted there): not a
            // frame of its own, a signal frame whose record is the next one (preempt.rs).
            if rec.fp <= fp {
                break;
            }
            return n + walk_preempted(rec.fp, lo, hi, flags, max - n, g, &mut f);
        }
        let ret = match cur.as_mut() {
            Some(c) => match c.resolve(arch::return_address_slot(fp), rec.ret, rec.fp) {
                Ok(r) => r,
                // Past unwind steps the walk may have passed a barrier's record unseen: it
                // ends rather than blame the barrier list.
                Err(_) if past_unwind => break,
                Err(m) => stkbar::missed_stack_barrier(g.expect("a cursor has a G"), m),
            },
            None if rec.ret == stkbar::stack_barrier_pc() => break,
            None => rec.ret,
        };
        if ret < MIN_CODE_ADDR || (check_calls && !after_call(ret)) {
            break;
        }
        f(ret);
        n += 1;
        // The caller keeps no frame record at this call (its unwind table says so): its
        // frame pointer, saved in the record just read, may be data. Go on by its unwind
        // table from the sp it had at the call (this frame's CFA), or stop.
        if check_calls && crate::unwind::frame_for_walk(ret) == crate::unwind::Frame::NoRecord {
            let Some(cfa) = record_cfa(fp, frame_pc.0, frame_pc.1) else {
                break;
            };
            let regs = Regs {
                pc: ret,
                sp: cfa,
                fp: rec.fp,
                lr: None,
                at_pc: false,
            };
            match unwind_steps(regs, lo, hi, &mut n, max, &mut cur, &mut f) {
                Some((next_fp, at)) if next_fp > fp => {
                    fp = next_fp;
                    frame_pc = (at, false);
                    past_unwind = true;
                    continue;
                }
                _ => break,
            }
        }
        if rec.fp <= fp {
            break; // 0 ends the chain; anything else not above fp is garbage
        }
        fp = rec.fp;
        frame_pc = (ret, false);
    }
    n
}

/// Test-only build, `GRTDEBUG=asyncpreemptnowalk=1`: walkers treat the preemption stub as
/// an ordinary frame, so gc_async can be seen to fail.
fn stub_walk_off() -> bool {
    #[cfg(feature = "testhooks")]
    return crate::testhooks::no_stub_walk();
    #[cfg(not(feature = "testhooks"))]
    false
}

/// A walk inside [`TRACE_IN_PREEMPT`]: a stub met again ends it (one preemption frame per
/// stack: the stub and what it calls are never preempted).
const TRACE_IN_PREEMPT: u32 = 4;

/// Goes on through the asynchronous preemption stub whose frame record is at `record`: from
/// the registers of the ucontext moved onto the stack (preempt.rs; the word beside the
/// record is the sp `rt_sigreturn` will take), as a walk from a signal. Every read inside
/// `[lo, hi)`.
#[allow(clippy::too_many_arguments)]
fn walk_preempted(
    record: usize,
    lo: usize,
    hi: usize,
    flags: u32,
    max: usize,
    g: Option<&G>,
    f: &mut dyn FnMut(usize),
) -> usize {
    if flags & TRACE_IN_PREEMPT != 0 {
        return 0;
    }
    let Some(uc) = record
        .checked_add(16)
        .and_then(|a| stack_word(a, lo, hi))
        .and_then(|s| s.checked_add(arch::SIGRETURN_SP_TO_UC))
        .filter(|&uc| uc > record && uc % 8 == 0 && uc.saturating_add(arch::UCONTEXT_SIZE) <= hi)
    else {
        return 0;
    };
    let p = uc as *const core::ffi::c_void;
    // SAFETY: the ucontext copy lies inside the stack's bounds (checked above).
    let (pc, sp, fp, lr) = unsafe {
        (
            arch::uc_pc(p),
            arch::uc_sp(p),
            arch::uc_fp(p),
            arch::uc_lr(p),
        )
    };
    if sp <= uc || sp > hi {
        return 0;
    }
    // The interrupted pc is the walk's first report here (unless it is the trampoline's, which
    // reports the return address it resolves instead).
    let as_ret = flags & TRACE_CALLERS_AS_RET != 0;
    let mut first = true;
    gentraceback(
        pc,
        sp,
        fp,
        lr,
        lo,
        hi,
        flags | TRACE_FROM_SIGNAL | TRACE_IN_PREEMPT,
        max,
        g,
        |x| {
            let at_pc = first && as_ret && x == pc;
            first = false;
            f(if at_pc { x + 1 } else { x })
        },
    )
}

/// A walk from a return address (or a pc) and a frame pointer, with no signal context.
pub fn walk(pc: usize, fp: usize, lo: usize, hi: usize, max: usize, f: impl FnMut(usize)) -> usize {
    gentraceback(pc, 0, fp, None, lo, hi, 0, max, None, f)
}

/// A walk of goroutine `g`'s stack from a return address (or pc), stack pointer and frame
/// pointer, through its stack barriers. Takes `g`'s stack lock for the walk (never in a
/// signal handler).
pub fn walk_g(
    pc: usize,
    sp: usize,
    fp: usize,
    g: &G,
    flags: u32,
    max: usize,
    f: impl FnMut(usize),
) -> usize {
    stkbar::gc_lock_stack_barriers(g);
    let n = gentraceback(
        pc,
        sp,
        fp,
        None,
        g.stack.lo,
        g.stack.hi,
        flags,
        max,
        Some(g),
        f,
    );
    stkbar::gc_unlock_stack_barriers(g);
    n
}

/// Prints goroutine `g`'s stack (fatal errors): through its barriers if its stack lock is
/// free, else up to the first barrier (the holder may be the thread that is failing).
pub fn print_g(pc: usize, sp: usize, fp: usize, g: &G) {
    let mut i = 0;
    let locked = stkbar::gc_try_lock_stack_barriers(g);
    let (lo, hi) = (g.stack.lo, g.stack.hi);
    let n = gentraceback(
        pc,
        sp,
        fp,
        None,
        lo,
        hi,
        0,
        MAX_FRAMES,
        locked.then_some(g),
        |pc| {
            print_pc(i, pc);
            i += 1;
        },
    );
    if locked {
        stkbar::gc_unlock_stack_barriers(g);
    }
    if n == MAX_FRAMES {
        printerr!("  ...more frames\n");
    }
}

/// Walks a stack made of arbitrary words, as the fuzz target (fuzz/) and the unit tests do:
/// `words` is the stack (its own memory: the bounds), `seed` picks the registers: fp and sp
/// anywhere in or around it, pc and lr either real code addresses of this binary (so the
/// signal step reads real instructions) or garbage. Returns the frames seen; never faults.
pub fn walk_arbitrary(words: &[usize], seed: u64, out: &mut [usize]) -> usize {
    let lo = words.as_ptr() as usize;
    let hi = lo + core::mem::size_of_val(words);
    let mut x = seed | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as usize
    };
    let near = |v: usize| lo.wrapping_sub(64).wrapping_add(v % (hi - lo + 128));
    let code = walk_arbitrary as *const () as usize;
    let pick_code = |v: usize| match v % 4 {
        0 => code.wrapping_add(v % 4096) & !3,
        1 => code.wrapping_sub(v % 4096) & !3,
        2 => v,
        _ => 0,
    };
    let (fp, sp) = (near(next()), near(next()));
    let (pc, lr) = (pick_code(next()), pick_code(next()));
    let max = out.len();
    let mut n = 0;
    gentraceback(
        pc,
        sp,
        fp,
        Some(lr),
        lo,
        hi,
        TRACE_FROM_SIGNAL,
        max,
        None,
        |f| {
            out[n] = f;
            n += 1;
        },
    );
    n
}

/// Prints one frame: `  #n 0xPC binary+0xOFFSET`.
pub fn print_pc(i: usize, pc: usize) {
    match maps::find(pc) {
        Some(m) if !m.path().is_empty() => {
            printerr!(
                "  #{:<2} {:#x} {}+{:#x}\n",
                i,
                pc,
                m.path(),
                pc - m.start + m.offset
            )
        }
        _ => printerr!("  #{:<2} {:#x} ?\n", i, pc),
    }
}

/// Prints the stack from (pc, fp) within `[lo, hi)`.
pub fn print(pc: usize, fp: usize, lo: usize, hi: usize) {
    print_from(pc, 0, fp, None, lo, hi, 0)
}

/// Prints the stack from an interrupted thread's registers (see [`gentraceback`]).
pub fn print_from(
    pc: usize,
    sp: usize,
    fp: usize,
    lr: Option<usize>,
    lo: usize,
    hi: usize,
    flags: u32,
) {
    let mut i = 0;
    let n = gentraceback(pc, sp, fp, lr, lo, hi, flags, MAX_FRAMES, None, |pc| {
        print_pc(i, pc);
        i += 1;
    });
    if n == MAX_FRAMES {
        printerr!("  ...more frames\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// A synthetic stack of frame records: words[i] pairs.
    fn chain(words: &mut [usize], links: &[(usize, usize, usize)]) -> usize {
        let base = words.as_ptr() as usize;
        for &(at, next, ret) in links {
            words[at] = if next == usize::MAX {
                0
            } else {
                base + next * 8
            };
            words[at + 1] = ret;
        }
        base
    }

    #[test]
    fn walks_a_chain_to_its_end() {
        let mut w = [0usize; 32];
        let base = chain(
            &mut w,
            &[(2, 8, 0x1100), (8, 20, 0x1200), (20, usize::MAX, 0x1300)],
        );
        let mut pcs = Vec::new();
        let n = walk(0x10, base + 16, base, base + 256, 64, |p| pcs.push(p));
        assert_eq!(pcs, [0x10, 0x1100, 0x1200, 0x1300]);
        assert_eq!(n, 4);
    }

    #[test]
    fn stops_at_loops_bounds_and_misalignment() {
        let mut w = [0usize; 32];
        // A loop back down, an fp outside the bounds, a misaligned fp.
        let base = chain(&mut w, &[(4, 2, 0x1100), (2, 4, 0x1200)]);
        let mut pcs = Vec::new();
        walk(0, base + 32, base, base + 256, 64, |p| pcs.push(p));
        assert_eq!(pcs, [0x1100], "the record pointing down ends the walk");
        pcs.clear();
        walk(0, base + 250, base, base + 256, 64, |p| pcs.push(p));
        assert!(pcs.is_empty());
        walk(0, base + 3, base, base + 256, 64, |p| pcs.push(p));
        assert!(pcs.is_empty());
        walk(0, base - 16, base, base + 256, 64, |p| pcs.push(p));
        assert!(pcs.is_empty());
    }

    #[test]
    fn never_faults_on_random_words() {
        let mut w = [0usize; 512];
        let base = w.as_ptr() as usize;
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for round in 0..2000 {
            for (i, v) in w.iter_mut().enumerate() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mix plausible in-stack pointers with garbage.
                *v = if x % 3 == 0 {
                    base + (x as usize % 4096)
                } else {
                    x as usize ^ i
                };
            }
            let start = base + ((round * 8) % 4096);
            let n = walk(1, start, base, base + 4096, 64, |_| {});
            assert!(n <= 64);
        }
    }

    // ---- Through glibc's frame-pointer-less qsort, by the unwind tables ----

    extern "C" {
        fn qsort(
            base: *mut core::ffi::c_void,
            n: usize,
            size: usize,
            cmp: extern "C" fn(*const core::ffi::c_void, *const core::ffi::c_void) -> i32,
        );
    }

    std::thread_local! {
        /// (hi bound for the walk, the walk's frames, whether the comparator walked yet)
        static QSORT_WALK: core::cell::RefCell<(usize, Vec<usize>)> =
            const { core::cell::RefCell::new((0, Vec::new())) };
    }

    #[inline(never)]
    extern "C" fn walking_cmp(a: *const core::ffi::c_void, b: *const core::ffi::c_void) -> i32 {
        // SAFETY: qsort passes pointers into the u64 array below.
        let (x, y) = unsafe { (*(a as *const u64), *(b as *const u64)) };
        QSORT_WALK.with(|w| {
            let mut w = w.borrow_mut();
            if w.1.is_empty() {
                let fp = arch::frame_pointer();
                let hi = w.0;
                let mut frames = Vec::new();
                gentraceback(
                    walking_cmp as *const () as usize + 1,
                    0,
                    fp,
                    None,
                    fp,
                    hi,
                    TRACE_CHECK_CALLS,
                    MAX_FRAMES,
                    None,
                    |pc| frames.push(pc),
                );
                w.1 = frames;
            }
        });
        x.cmp(&y) as i32
    }

    /// Calls qsort: a function with a frame record whose callee (glibc) keeps none.
    #[inline(never)]
    fn sort_with_qsort(v: &mut [u64]) {
        // SAFETY: a valid array of u64 and a comparator for it.
        unsafe { qsort(v.as_mut_ptr().cast(), v.len(), 8, walking_cmp) };
        core::hint::black_box(v);
    }

    #[test]
    fn walks_through_a_library_without_frame_pointers_by_its_unwind_table() {
        crate::codemap::snapshot_for_tests();
        crate::unwind::profiler_snapshot_for_tests();
        let top = 0u64;
        let hi = core::hint::black_box(&top) as *const u64 as usize;
        QSORT_WALK.with(|w| *w.borrow_mut() = (hi, Vec::new()));
        let mut v: Vec<u64> = (0..64u64).map(|i| (i * 7919) % 64).collect();
        sort_with_qsort(&mut v);
        let frames = QSORT_WALK.with(|w| w.borrow().1.clone());
        // The comparator's caller is qsort's code; the walk must go on through it, by the
        // tables, to the function that called qsort: a return address inside it.
        let f = sort_with_qsort as *const () as usize;
        assert!(
            frames.iter().skip(1).any(|&r| r > f && r < f + 512),
            "no return into sort_with_qsort ({f:#x}) in {frames:x?}"
        );
        assert!(frames.len() >= 4, "{frames:x?}");
    }

    #[test]
    fn signal_walks_never_fault_on_random_stacks_and_code() {
        // The signal step reads instructions at pc and around return addresses: with the code
        // map in place, random pcs and lrs near real code exercise it.
        crate::codemap::snapshot_for_tests();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut words = std::vec![0usize; 1024];
        let base = words.as_ptr() as usize;
        let code = signal_walks_never_fault_on_random_stacks_and_code as *const () as usize;
        let mut out = [0usize; MAX_FRAMES];
        for round in 0..5000u64 {
            for v in words.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *v = match x % 5 {
                    0 => base + (x as usize >> 8) % 8192, // in-stack pointers
                    1 => code.wrapping_add((x as usize >> 8) % 8192), // code addresses
                    2 => 0,
                    _ => x as usize,
                };
            }
            let n = walk_arbitrary(&words, round.wrapping_mul(0x9e37_79b9) ^ x, &mut out);
            assert!(n <= MAX_FRAMES);
        }
    }
}
