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
//! - a goroutine made by `newproc` is pushed as it becomes runnable, in the same hold of
//!   the lock (it was not scanned; [`push_new`]);
//! - the collector's scan pass pushes each goroutine it leaves not skippable (running or
//!   in a system call at its scan, or not scanned at all).
//!
//! A thread can be stopped anywhere, also between a state change and its push, so mark
//! termination also looks at what every M runs (`M.curg`, set before the goroutine's
//! status says GRUNNING, so before `G::ran`'s push): a goroutine that starts running is
//! covered by its M until its push is done. A new goroutine turns runnable under the
//! list's lock and is pushed in that same hold: a stop (the world lock takes the list's
//! lock), the barrier-on pause's new list, or a round's detach comes before both or after
//! both, and a scan pass that found it dead finds it listed.
//!
//! A goroutine neither on the list nor any M's was therefore in the scan pass, skippable
//! after it, and has not run since: skippable still. `GRTDEBUG=gcrescancheck=1` (test-only
//! build) checks this at every mark termination.
//!
//! # Rounds take the list off
//!
//! A goroutine stays on the list for the rest of its epoch, so a list that only grew would
//! hold, by mark termination, every goroutine that ran at any time in the cycle: with
//! 10,000 goroutines, 1,000 of them churning, mark termination walked 1,000 entries to
//! rescan 15, and the walk (a cache miss per G) was a third of its rescan time. So each
//! concurrent rescan round takes the whole list off ([`detach`]) and starts a new epoch
//! with an empty one, rescans what it can, and puts back ([`push`]) each goroutine it took
//! off that mark termination still may not skip (running, in a system call, or not
//! rescanned); the rest are skippable, or dead, and one that runs after the round saw it
//! pushes itself again, into the new epoch (`G::ran`). A goroutine on the old list that
//! lost its mark (`gcscanvalid`) before the detach is read as not skippable: the round
//! keeps it (the detach, under the lock its push took, orders those reads after the
//! clearing). One that clears its mark before the detach but pushes after it is covered
//! by its M (below) until its push lands on the new list. A dead goroutine made
//! runnable again is pushed under the lock it turns runnable in (`newproc`): a round
//! finds it either dead and not listed, or runnable and listed. So the invariant above
//! holds at every stop.
//!
//! # Who touches what
//!
//! [`RESCAN_LOCK`] guards the list's head, its epoch and every G's `rescan_next` and
//! `rescan_epoch`. A push takes it for a few instructions and takes nothing else under it;
//! the collector takes it in its world lock (mgc.rs), so with the world stopped no
//! thread is inside a push, and both pauses may read and reset the list. Each G is on it
//! at most once per epoch (its stamp), so the list never holds more entries than there are
//! goroutines. The epoch starts anew when the barrier goes on (the scan pass looks at every
//! goroutine after that) and at each round's [`detach`]. A G has one link per epoch parity:
//! pushes in the new epoch write the other link, so the round walks the list it took off
//! while goroutines push themselves onto the new one; only the collector moves the epoch,
//! so the old list is walked to its end before its links are written again (two epochs on).

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
    push_locked(g);
    RESCAN_LOCK.unlock();
}

/// [`push`] for a new goroutine (`newproc`), with `make_runnable` run first under the
/// list's lock: what it stores into the G (its start argument) and its change from dead to
/// runnable, which no round's detach, stop or barrier-on pause may then come between.
/// Before it, the start argument is only the caller's (in its frames and registers, which
/// a stop scans); after it, the G's, listed. `make_runnable` takes no lock and does not wait.
pub fn push_new(gp: *mut G, make_runnable: impl FnOnce(&mut G)) {
    RESCAN_LOCK.lock();
    // SAFETY: a dead G its creator owns until it is runnable (newproc).
    make_runnable(unsafe { &mut *gp });
    // SAFETY: as above; now runnable, the G is read only here.
    push_locked(unsafe { &*gp });
    RESCAN_LOCK.unlock();
}

fn push_locked(g: &G) {
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
        g.rescan_next[link(l.epoch)].store(l.head, Ordering::Relaxed);
        l.head = g as *const G as *mut G;
    }
}

/// Which of a G's two links holds its successor on the list of `epoch`.
#[inline]
fn link(epoch: u64) -> usize {
    (epoch & 1) as usize
}

/// A list taken off by [`detach`], walked by the collector alone. Dropped unwalked, its
/// goroutines would be off every list.
#[must_use]
pub struct Detached {
    head: *mut G,
    epoch: u64,
}

/// Takes the whole list off for a concurrent rescan round and starts a new epoch with an
/// empty list (the collector's thread, with the world running). See the module comment.
pub fn detach() -> Detached {
    RESCAN_LOCK.lock();
    let l = list();
    let d = Detached {
        head: l.head,
        epoch: l.epoch,
    };
    l.head = core::ptr::null_mut();
    l.epoch += 1;
    RESCAN_LOCK.unlock();
    d
}

impl Detached {
    /// Calls `f` for every G on the list taken off (which `f` may [`push`] again).
    pub fn for_each(self, mut f: impl FnMut(*mut G)) {
        let mut gp = self.head;
        while !gp.is_null() {
            // SAFETY: Gs are never freed. This epoch's link was written before the G was
            // published as head under RESCAN_LOCK (taken in detach, after), and is written
            // again only by a push two epochs on, which cannot start before this walk ends:
            // only the collector's thread, which walks, moves the epoch.
            let next = unsafe { (*gp).rescan_next[link(self.epoch)].load(Ordering::Relaxed) };
            f(gp);
            gp = next;
        }
    }
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
        gp = unsafe { (*gp).rescan_next[link(list().epoch)].load(Ordering::Relaxed) };
    }
}

/// Calls `f` for every G on the list as it is now, without holding RESCAN_LOCK through the
/// walk (the collector's thread, which must not hold up goroutines that start running),
/// while `f` says go on. Safe because a G's link for an epoch is written once, before the
/// push publishes it, and only the collector's own thread starts a new epoch; Gs pushed
/// after the head is read are not seen.
pub fn for_each_concurrent(mut f: impl FnMut(*mut G) -> bool) {
    RESCAN_LOCK.lock();
    let l = list();
    let (mut gp, epoch) = (l.head, l.epoch);
    RESCAN_LOCK.unlock();
    while !gp.is_null() {
        if !f(gp) {
            return;
        }
        // SAFETY: Gs are never freed; the link was written before the G was published as
        // head (under the lock taken above) and does not change within the epoch.
        gp = unsafe { (*gp).rescan_next[link(epoch)].load(Ordering::Relaxed) };
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
