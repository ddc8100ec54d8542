//! Go 1.7's rescan list (`work.rescan`): the goroutines mark termination must look at, so
//! that its pause does not grow with the number of goroutines that did nothing.
//!
//! # What is on it
//!
//! Mark termination skips a goroutine whose stack was scanned in this cycle while parked
//! and has not run since (`G.gcscanvalid`, with `G.gcscan_cycle` the current cycle): its
//! stack holds what the scan collected. Every other live goroutine must be rescanned. The
//! list holds (at least) every goroutine that may not be skippable, so that mark
//! termination walks it instead of all goroutines:
//!
//! - a goroutine whose `gcscanvalid` goes from true to false (it starts running:
//!   `G::ran`) pushes itself;
//! - a goroutine made by `newproc` is pushed before and after it becomes runnable (it was
//!   not scanned);
//! - the collector's scan pass pushes each goroutine it leaves not skippable (running or
//!   in a system call at its scan, or not scanned at all).
//!
//! A thread can be stopped anywhere, also between a state change and its push, so mark
//! termination also looks at what every M runs (`M.curg`, set before the goroutine's
//! status says GRUNNING, so before `G::ran`'s push): a goroutine that starts running is
//! covered by its M until its push is done. A new goroutine is pushed before it is
//! runnable (a stop after that push finds it listed) and again after (the barrier-on
//! pause may fall between the two and start a new list; the scan pass may have found it
//! dead).
//!
//! A goroutine neither on the list nor any M's was therefore in the scan pass, skippable
//! after it, and has not run since: skippable still. `GRTDEBUG=gcrescancheck=1` (test-only
//! build) checks this at every mark termination.
//!
//! # Who touches what
//!
//! [`RESCAN_LOCK`] guards the list's head, its epoch and every G's `rescan_next` and
//! `rescan_epoch`. A push takes it for a few instructions and takes nothing else under it;
//! the collector takes it in its world lock (mgc.rs), so with the world stopped no
//! thread is inside a push, and both pauses may read and reset the list. Each G is on it
//! at most once per epoch (its stamp), so the list never holds more entries than there are
//! goroutines. The epoch starts anew when the barrier goes on (the scan pass looks at every
//! goroutine after that).

use core::sync::atomic::Ordering;

use crate::lock::Lock;
use crate::runtime2::G;

/// Guards the list (see the module comment). Taken in the collector's world lock, after every
/// other lock but SUSPEND_LOCK.
pub static RESCAN_LOCK: Lock = Lock::new();

/// `GRTDEBUG=gcrescanpushslow=1` (test-only build): how long a push holds the lock, in ns.
const PUSH_SLOW_NS: u64 = 20_000;

struct List {
    head: *mut G,
    epoch: u64,
}

static mut LIST: List = List {
    head: core::ptr::null_mut(),
    epoch: 1,
};

fn list() -> &'static mut List {
    // SAFETY: the callers hold RESCAN_LOCK.
    unsafe { &mut *core::ptr::addr_of_mut!(LIST) }
}

/// Puts `g` on the list unless it is there already in this epoch.
pub fn push(g: &G) {
    RESCAN_LOCK.lock();
    if cfg!(feature = "testhooks") && crate::debug::get().gcrescanpushslow {
        // Test-only: a wide window in which a stop finds this thread holding the lock.
        let t0 = crate::sys::nanotime();
        while crate::sys::nanotime() - t0 < PUSH_SLOW_NS {
            core::hint::spin_loop();
        }
    }
    let l = list();
    // (Relaxed: the G's list fields are only touched under RESCAN_LOCK, held.)
    if g.rescan_epoch.load(Ordering::Relaxed) != l.epoch {
        g.rescan_epoch.store(l.epoch, Ordering::Relaxed);
        g.rescan_next.store(l.head, Ordering::Relaxed);
        l.head = g as *const G as *mut G;
    }
    RESCAN_LOCK.unlock();
}

/// Empties the list and starts a new epoch (the barrier-on pause; RESCAN_LOCK held).
pub fn reset_locked() {
    let l = list();
    l.head = core::ptr::null_mut();
    l.epoch += 1;
}

/// Calls `f` for every G on the list (RESCAN_LOCK held).
pub fn for_each_locked(mut f: impl FnMut(*mut G)) {
    let mut gp = list().head;
    while !gp.is_null() {
        f(gp);
        // SAFETY: Gs are never freed; the link is under RESCAN_LOCK, held.
        gp = unsafe { (*gp).rescan_next.load(Ordering::Relaxed) };
    }
}

/// Calls `f` for every G on the list as it is now, without holding RESCAN_LOCK through the
/// walk (the collector's concurrent rescan rounds, which must not hold up goroutines that
/// start running). Safe because a G's link is written once per epoch, before the push
/// publishes it, and only the collector's own barrier-on pause starts a new epoch; Gs
/// pushed after the head is read are not seen.
pub fn for_each_concurrent(mut f: impl FnMut(*mut G) -> bool) {
    RESCAN_LOCK.lock();
    let mut gp = list().head;
    RESCAN_LOCK.unlock();
    while !gp.is_null() {
        if !f(gp) {
            return;
        }
        // SAFETY: Gs are never freed; the link was written before the G was published as
        // head (under the lock taken above) and does not change within the epoch.
        gp = unsafe { (*gp).rescan_next.load(Ordering::Relaxed) };
    }
}

/// Whether `g` is on the list (RESCAN_LOCK held).
pub fn listed_locked(g: &G) -> bool {
    g.rescan_epoch.load(Ordering::Relaxed) == list().epoch
}

/// The list's epoch (RESCAN_LOCK held).
pub fn epoch_locked() -> u64 {
    list().epoch
}
