//! The scheduler: goroutines on OS threads, and everything that parks or wakes them.
//!
//! What lives here: the G, M and P structures and their status transitions (`runtime2`, Go's
//! names), the scheduler itself (`proc`: run queues, `schedule`/`findrunnable`, `mcall`,
//! system calls and `grt_cgocall`, sysmon, time slices, `grt_main`), making and leaving a
//! context (`context`), timers (`time`), goroutines waiting on descriptors (`netpoll`), goroutine futexes and the sync types
//! on them (`sema`, `sync`), channels and select (`chan`), stopping a goroutine or the world
//! from outside (`suspend`, `stw`; threads that are not goroutines, registered with the collector: `regthreads`), and asynchronous preemption (`preempt`).
//!
//! Invariants: a G changes status only by `casgstatus` (the scan bit blocks it); a G runs on
//! at most one M; parks release their lock only after the G is GWAITING (no lost wakeups);
//! nothing here allocates from the garbage-collected heap.
//!
//! May call: `os` (threads, signals, stacks, system calls), the shared pieces at the crate
//! root (`lock`, `rtalloc`, `traceback`, `unwind`, `errors`, `debug`, `fatal`, `print`).
//! Against the direction, each for a reason: `gc` (a channel copy is a write barrier; an M
//! owns its allocation cache; a goroutine's exit and a stop of the world touch its stack
//! barriers and the collector's state), `prof` (a new M arms its profiling timer), `api`
//! (test hooks only, in the test-only build).

pub mod chan;
pub mod context;
pub mod netpoll;
pub mod preempt;
pub mod proc;
pub mod regthreads;
pub mod runtime2;
pub mod sema;
pub mod stw;
pub mod suspend;
pub mod sync;
pub mod time;
