//! Flag sets passed to the kernel. The values are the same on x86_64 and aarch64.

use bitflags::bitflags;
use linux_raw_sys::general as g;

bitflags! {
    /// `prot` of mmap / mprotect.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ProtFlags: usize {
        const NONE = g::PROT_NONE as usize;
        const READ = g::PROT_READ as usize;
        const WRITE = g::PROT_WRITE as usize;
    }

    /// `flags` of mmap.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct MapFlags: usize {
        const PRIVATE = g::MAP_PRIVATE as usize;
        const ANONYMOUS = g::MAP_ANONYMOUS as usize;
        const NORESERVE = g::MAP_NORESERVE as usize;
        const STACK = g::MAP_STACK as usize;
    }

    /// `flags` of clone.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct CloneFlags: usize {
        const VM = g::CLONE_VM as usize;
        const FS = g::CLONE_FS as usize;
        const FILES = g::CLONE_FILES as usize;
        const SIGHAND = g::CLONE_SIGHAND as usize;
        const THREAD = g::CLONE_THREAD as usize;
        const SYSVSEM = g::CLONE_SYSVSEM as usize;
        const SETTLS = g::CLONE_SETTLS as usize;
        const PARENT_SETTID = g::CLONE_PARENT_SETTID as usize;
        const CHILD_CLEARTID = g::CLONE_CHILD_CLEARTID as usize;
        const CHILD_SETTID = g::CLONE_CHILD_SETTID as usize;
    }

    /// `sa_flags` of rt_sigaction.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct SaFlags: usize {
        const SIGINFO = g::SA_SIGINFO as usize;
        const ONSTACK = g::SA_ONSTACK as usize;
        const RESTART = g::SA_RESTART as usize;
        const NODEFER = g::SA_NODEFER as usize;
        const RESTORER = g::SA_RESTORER as usize;
    }
}

impl CloneFlags {
    /// A thread sharing everything with its creator. QEMU user mode accepts CLONE_VM only
    /// together with all of VM|FS|FILES|SIGHAND|THREAD|SYSVSEM, so this is the one set we use.
    pub const NEW_THREAD: CloneFlags = CloneFlags::VM
        .union(CloneFlags::FS)
        .union(CloneFlags::FILES)
        .union(CloneFlags::SIGHAND)
        .union(CloneFlags::THREAD)
        .union(CloneFlags::SYSVSEM)
        .union(CloneFlags::SETTLS)
        .union(CloneFlags::PARENT_SETTID)
        .union(CloneFlags::CHILD_CLEARTID);
}
