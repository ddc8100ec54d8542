//! Stacks for contexts (and, later, goroutines): one anonymous mapping each,
//!
//! ```text
//!   hi  +-----------------+  page aligned, so 16-byte aligned
//!       |  usable stack   |  size bytes, read/write, grows down
//!   lo  +-----------------+
//!       |  guard region   |  GUARD_SIZE bytes, PROT_NONE, registered in stackreg
//!       +-----------------+  the mapping's start
//! ```
//!
//! Running into the guard raises SIGSEGV; the handler (signals.rs, on the alternate signal
//! stack) finds the address in the registry and ends the program with "goroutine stack
//! overflow" instead of letting the fault corrupt a neighbouring mapping.

use grt_arch::{MapFlags, ProtFlags};

use crate::stackreg::{self, Guard};
use crate::{auxv, sys};

/// Guard below every stack. 64 KiB because GCC's aarch64 stack-clash probing moves sp by up
/// to 64 KiB between probes (glibc enforces the same minimum guard there).
pub const GUARD_SIZE: usize = 64 * 1024;
/// Smallest stack accepted, in bytes: room for a few C frames and the entry frame.
pub const MIN_STACK_SIZE: usize = 16 * 1024;
/// Stack size when the caller passes 0, in bytes.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;
/// Largest stack accepted, in bytes.
pub const MAX_STACK_SIZE: usize = 1 << 30;

/// A stack: `[lo, hi)` usable, guard below `lo`. Same layout as C's `grt_stack`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stack {
    pub lo: usize,
    pub hi: usize,
    pub guard_size: usize,
    /// Registry slot (a handle the C side cannot forge without it being caught).
    pub id: usize,
}

/// Why a stack could not be made or used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackError {
    TooSmall(usize),
    TooLarge(usize),
    NoMemory(sys::Errno),
    RegistryFull,
    NotAStack,
}

impl Stack {
    fn guard(&self) -> Guard {
        Guard {
            lo: self.lo.wrapping_sub(self.guard_size),
            len: self.guard_size,
            stack_len: self.hi.wrapping_sub(self.lo),
        }
    }

    /// Was this stack made by [`alloc`] and not freed since?
    pub fn is_live(&self) -> bool {
        self.lo < self.hi && stackreg::holds(self.id, self.guard())
    }

    pub fn size(&self) -> usize {
        self.hi - self.lo
    }
}

/// Maps a stack of at least `size` bytes (0: the default), rounded up to whole pages.
pub fn alloc(size: usize) -> Result<Stack, StackError> {
    let size = if size == 0 { DEFAULT_STACK_SIZE } else { size };
    if size < MIN_STACK_SIZE {
        return Err(StackError::TooSmall(size));
    }
    if size > MAX_STACK_SIZE {
        return Err(StackError::TooLarge(size));
    }
    let page = auxv::page_size();
    let size = (size + page - 1) & !(page - 1);
    let guard = GUARD_SIZE.max(page);
    let total = size + guard;
    // Reserve everything inaccessible, then open up the part above the guard.
    let base = sys::mmap_anon(
        total,
        ProtFlags::NONE,
        MapFlags::NORESERVE | MapFlags::STACK,
    )
    .map_err(StackError::NoMemory)?;
    // SAFETY: the range is the mapping we just made.
    if let Err(e) = unsafe { sys::mprotect(base + guard, size, ProtFlags::READ | ProtFlags::WRITE) }
    {
        // SAFETY: still ours, unused.
        unsafe { sys::munmap(base, total).ok() };
        return Err(StackError::NoMemory(e));
    }
    let mut s = Stack {
        lo: base + guard,
        hi: base + total,
        guard_size: guard,
        id: 0,
    };
    match stackreg::register(s.guard()) {
        Some(id) => s.id = id,
        None => {
            // SAFETY: still ours, unused.
            unsafe { sys::munmap(base, total).ok() };
            return Err(StackError::RegistryFull);
        }
    }
    Ok(s)
}

/// Unmaps a stack made by [`alloc`].
///
/// # Safety
/// No context may still run on, or be parked on, this stack.
pub unsafe fn free(s: &Stack) -> Result<(), StackError> {
    if !(s.lo < s.hi && stackreg::unregister(s.id, s.guard())) {
        return Err(StackError::NotAStack);
    }
    // SAFETY: the registry confirmed the mapping is one of ours; the caller says it is unused.
    unsafe { sys::munmap(s.lo - s.guard_size, s.hi - s.lo + s.guard_size).ok() };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_rounds_up_and_registers_the_guard() {
        let s = alloc(MIN_STACK_SIZE + 1).unwrap();
        assert_eq!(s.size() % auxv::page_size(), 0);
        assert!(s.size() > MIN_STACK_SIZE);
        assert!(s.is_live());
        assert_eq!(
            stackreg::find(s.lo - 8).map(|g| g.lo),
            Some(s.lo - s.guard_size)
        );
        assert_eq!(stackreg::find(s.lo), None, "the usable stack is not guard");
        // The top is writable.
        // SAFETY: the top word of the fresh stack is ours.
        unsafe { ((s.hi - 8) as *mut usize).write(7) };
        unsafe { free(&s).unwrap() };
        assert!(!s.is_live());
        assert_eq!(unsafe { free(&s) }, Err(StackError::NotAStack));
    }

    #[test]
    fn sizes_out_of_range_are_refused() {
        assert_eq!(alloc(100), Err(StackError::TooSmall(100)));
        assert_eq!(alloc(usize::MAX), Err(StackError::TooLarge(usize::MAX)));
        assert_eq!(
            alloc(0).map(|s| {
                let n = s.size();
                unsafe { free(&s).unwrap() };
                n
            }),
            Ok(DEFAULT_STACK_SIZE)
        );
    }
}
