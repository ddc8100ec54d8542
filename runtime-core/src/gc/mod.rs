//! The garbage collector: a conservative, concurrent mark-sweep over grt's own heap, with
//! Go 1.5-1.7's concurrent stack scan and return-address stack barriers.
//!
//! What lives here: write-protection tracking of plain stores (`dirty`), the data and bss written while a cycle marks, tracked by the kernel (`dirtyroots`), the shared libraries' data as roots (`libroots`), the heap (`mheap`: size-classed spans, large objects, mark and alloc
//! bits, sweep), per-M allocation caches and write-barrier buffers (`mcache`), marking
//! (`mgcmark`: grey buffers, `scanstack`, `rescanstack`, the write barrier's shade), grey
//! work shared by the collector, idle Ms and assists while the program runs (`gcwork`), mark
//! termination's helper thread (`mgcpar`: the work that grows with the heap, on two CPUs), the
//! cycle, its pacing, its thread and the heap's C API (`mgc`), and stack barriers
//! (`stkbar`, Go's mstkbar.go: placement, install/remove, the rescan limit, the walker's
//! cursor, `G.stack_lock`).
//!
//! Invariants: a stack's barriers change only under its `stack_lock`, by a holder that owns
//! the stack (scan bit) or by the goroutine's own trampoline; no barrier goes into a frame
//! record whose return address is not proven (right after a call in known code, the
//! caller's unwind table saying it keeps a record); mark termination rescans each stack from
//! its lowest barrier not hit, or whole when it cannot tell.
//!
//! May call: `sched` (stopping goroutines and the world, the scheduler's lists of Gs and Ms),
//! `os`, the shared pieces at the crate root (`traceback` and `unwind` prove return
//! addresses). Against the direction: `prof` (the profiler counts the collector's own
//! thread), `api` (test hooks only, in the test-only build).

pub mod dirty;
pub mod dirtyroots;
pub mod gcwork;
pub mod libroots;
pub mod mcache;
pub mod mfinal;
pub mod mgc;
pub mod mgcmark;
pub mod mgcpar;
pub mod mheap;
pub mod objects;
pub mod rescanlist;
pub mod stkbar;
