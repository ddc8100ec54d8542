//! A growable array of `Copy` values in [`rtalloc`] memory: what the profile writer needs to
//! build a profile of unknown size without a libc allocator. Ordinary code only (rtalloc
//! takes locks); never from a signal handler.

use core::marker::PhantomData;
use core::mem::size_of;
use core::ptr;

use crate::rtalloc;

/// Out of memory while growing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoMem;

pub struct RtVec<T: Copy> {
    ptr: *mut T,
    len: usize,
    cap: usize,
    _t: PhantomData<T>,
}

// SAFETY: owns its memory, like Vec<T>.
unsafe impl<T: Copy + Send> Send for RtVec<T> {}

impl<T: Copy> Default for RtVec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> RtVec<T> {
    pub const fn new() -> RtVec<T> {
        RtVec {
            ptr: ptr::null_mut(),
            len: 0,
            cap: 0,
            _t: PhantomData,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_slice(&self) -> &[T] {
        if self.ptr.is_null() {
            return &[];
        }
        // SAFETY: the first len elements are initialised.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [T] {
        if self.ptr.is_null() {
            return &mut [];
        }
        // SAFETY: the first len elements are initialised and ours.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    /// Room for `extra` more elements.
    pub fn reserve(&mut self, extra: usize) -> Result<(), NoMem> {
        let need = self.len.checked_add(extra).ok_or(NoMem)?;
        if need <= self.cap {
            return Ok(());
        }
        let cap = need.max(self.cap * 2).max(16);
        let bytes = cap.checked_mul(size_of::<T>()).ok_or(NoMem)?;
        let p = rtalloc::alloc(bytes) as *mut T;
        if p.is_null() {
            return Err(NoMem);
        }
        if !self.ptr.is_null() {
            // SAFETY: both blocks hold at least len elements and do not overlap.
            unsafe {
                ptr::copy_nonoverlapping(self.ptr, p, self.len);
                rtalloc::free(self.ptr as *mut u8, self.cap * size_of::<T>());
            }
        }
        self.ptr = p;
        self.cap = cap;
        Ok(())
    }

    pub fn push(&mut self, v: T) -> Result<(), NoMem> {
        self.reserve(1)?;
        // SAFETY: reserve made room for one more.
        unsafe { self.ptr.add(self.len).write(v) };
        self.len += 1;
        Ok(())
    }

    pub fn extend_from_slice(&mut self, vs: &[T]) -> Result<(), NoMem> {
        self.reserve(vs.len())?;
        // SAFETY: room for vs.len() more; vs cannot alias our spare capacity.
        unsafe { ptr::copy_nonoverlapping(vs.as_ptr(), self.ptr.add(self.len), vs.len()) };
        self.len += vs.len();
        Ok(())
    }

    /// Appends `v` if that needs no allocation (with the world stopped, rtalloc's lock may be
    /// held by a stopped thread); false when full.
    pub fn push_in_capacity(&mut self, v: T) -> bool {
        if self.len == self.cap {
            return false;
        }
        // SAFETY: len < cap.
        unsafe { self.ptr.add(self.len).write(v) };
        self.len += 1;
        true
    }

    /// `n` copies of `v` at the end.
    pub fn resize(&mut self, n: usize, v: T) -> Result<(), NoMem> {
        if n > self.len {
            self.reserve(n - self.len)?;
            for i in self.len..n {
                // SAFETY: within the reserved capacity.
                unsafe { self.ptr.add(i).write(v) };
            }
        }
        self.len = n;
        Ok(())
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl<T: Copy> Drop for RtVec<T> {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: our block, allocated with this capacity.
            unsafe { rtalloc::free(self.ptr as *mut u8, self.cap * size_of::<T>()) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RtVec;

    #[test]
    fn grows_and_keeps_values() {
        let mut v = RtVec::new();
        for i in 0..10_000u32 {
            v.push(i).unwrap();
        }
        v.extend_from_slice(&[1, 2, 3]).unwrap();
        assert_eq!(v.len(), 10_003);
        assert_eq!(v.as_slice()[9_999], 9_999);
        assert_eq!(&v.as_slice()[10_000..], &[1, 2, 3]);
        v.resize(5, 0).unwrap();
        assert_eq!(v.as_slice(), &[0, 1, 2, 3, 4]);
    }
}
