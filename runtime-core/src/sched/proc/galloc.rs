//! G allocation: new Gs, their stacks, and the free lists of dead ones. Part of the scheduler (`proc`, whose mod.rs explains the whole).

use super::*;

pub(crate) fn round_page(n: usize) -> usize {
    let page = crate::auxv::page_size();
    (n + page - 1) & !(page - 1)
}

pub(crate) fn new_g(kind: GKind) -> *mut G {
    let gp = rtalloc::persistentalloc(core::mem::size_of::<G>(), 64) as *mut G;
    if gp.is_null() {
        return gp;
    }
    // SAFETY: fresh zeroed memory of G's size; the zero bit pattern is valid for every field
    // except the enums, which are written here.
    unsafe {
        ptr::addr_of_mut!((*gp).kind).write(kind);
        ptr::addr_of_mut!((*gp).waitreason).write(WaitReason::Zero);
        (*gp).atomicstatus.store(GDEAD, Ordering::Relaxed);
    }
    gp
}

/// Gives `gp` a stack of `size` bytes with its stack-barrier array reserved on top.
pub(crate) fn stkbar_bytes(size: usize) -> usize {
    (stkbar::stack_barrier_cap(size) * core::mem::size_of::<Stkbar>() + 15) & !15
}

pub(crate) fn stackalloc(gp: &mut G, size: usize) -> bool {
    let cap = stkbar::stack_barrier_cap(size);
    let bar_bytes = stkbar_bytes(size);
    let Ok(stk) = stack::alloc(size + bar_bytes) else {
        return false;
    };
    gp.stk = stk;
    gp.stack = GStack {
        lo: stk.lo,
        hi: stk.hi - bar_bytes,
    };
    gp.stkbar = gp.stack.hi as *mut Stkbar;
    gp.stkbar_cap = cap;
    gp.stkbar_len = 0;
    gp.stkbar_pos = 0;
    gp.stkbar_floor = 0;
    true
}

pub(crate) fn stackfree(gp: &mut G) {
    if gp.stk.is_live() {
        // SAFETY: gp is dead and nothing runs on or is parked on its stack.
        unsafe { stack::free(&gp.stk).ok() };
    }
    gp.stk = Stack::default();
    gp.stack = GStack::default();
    gp.stkbar = null_mut();
    gp.stkbar_cap = 0;
}

pub(crate) fn default_stack_size() -> usize {
    round_page(stack::DEFAULT_STACK_SIZE)
}

pub(crate) fn has_default_stack(gp: &G) -> bool {
    let d = default_stack_size();
    gp.stk.is_live() && gp.stk.size() == round_page(d + stkbar_bytes(d))
}

/// A dead G from `pp`'s free list (refilled from the global one); may have no stack.
pub(crate) fn gfget(pp: &mut P) -> *mut G {
    if pp.gfree.is_null() {
        GFREE_LOCK.lock();
        // SAFETY: GFREE is under GFREE_LOCK.
        let gf = unsafe { &mut *ptr::addr_of_mut!(GFREE) };
        while pp.gfreecnt < GFREE_LOCAL_MAX / 2 {
            // SAFETY: dead Gs on the free lists are owned by the lists (under the lock).
            let gp = unsafe {
                if !gf.stack.is_null() {
                    let gp = gf.stack;
                    gf.stack = (*gp).schedlink;
                    gf.nstack -= 1;
                    gp
                } else if !gf.nostack.is_null() {
                    let gp = gf.nostack;
                    gf.nostack = (*gp).schedlink;
                    gp
                } else {
                    break;
                }
            };
            // SAFETY: as above; now pp's.
            unsafe { (*gp).schedlink = pp.gfree };
            pp.gfree = gp;
            pp.gfreecnt += 1;
        }
        GFREE_LOCK.unlock();
    }
    let gp = pp.gfree;
    if !gp.is_null() {
        // SAFETY: owned by pp's list.
        pp.gfree = unsafe { (*gp).schedlink };
        pp.gfreecnt -= 1;
    }
    gp
}

/// Puts a dead G on `pp`'s free list (global when the local one is full).
pub(crate) fn gfput(pp: &mut P, gp: &mut G) {
    if gp.stk.is_live() && !has_default_stack(gp) {
        stackfree(gp);
    }
    gp.schedlink = pp.gfree;
    pp.gfree = gp;
    pp.gfreecnt += 1;
    if pp.gfreecnt < GFREE_LOCAL_MAX {
        return;
    }
    GFREE_LOCK.lock();
    // SAFETY: GFREE is under GFREE_LOCK.
    let gf = unsafe { &mut *ptr::addr_of_mut!(GFREE) };
    while pp.gfreecnt > GFREE_LOCAL_MAX / 2 {
        let g = pp.gfree;
        // SAFETY: owned by pp's list.
        let g = unsafe { &mut *g };
        pp.gfree = g.schedlink;
        pp.gfreecnt -= 1;
        if g.stk.is_live() && gf.nstack < GFREE_GLOBAL_STACKS {
            g.schedlink = gf.stack;
            gf.stack = g;
            gf.nstack += 1;
        } else {
            stackfree(g);
            g.schedlink = gf.nostack;
            gf.nostack = g;
        }
    }
    GFREE_LOCK.unlock();
}
