//! The process environment, read the same way in both builds (glibc's `environ`, or the
//! array the freestanding `_start` found), without allocating.

/// The value of `name` in the environment, if set.
pub fn get(name: &str) -> Option<&'static [u8]> {
    let mut p = environ();
    if p.is_null() {
        return None;
    }
    // Bounded by the NULL terminator the kernel and libc put at the end.
    loop {
        // SAFETY: environ is a NULL-terminated array of NUL-terminated strings that lives as
        // long as the process (grt never modifies the environment).
        let e = unsafe { *p };
        if e.is_null() {
            return None;
        }
        // Our own strlen: the freestanding build has no libc to supply one.
        let mut len = 0;
        // SAFETY: as above; a NUL ends every entry.
        while unsafe { *e.add(len) } != 0 {
            len += 1;
        }
        // SAFETY: the `len` bytes before the NUL.
        let s = unsafe { core::slice::from_raw_parts(e, len) };
        if s.len() > name.len() && s.starts_with(name.as_bytes()) && s[name.len()] == b'=' {
            return Some(&s[name.len() + 1..]);
        }
        // SAFETY: not past the terminator yet.
        p = unsafe { p.add(1) };
    }
}

/// A decimal number from the environment: `None` if unset, `Some(Err(text))` if malformed.
pub fn get_number(name: &str) -> Option<Result<u64, &'static [u8]>> {
    let v = get(name)?;
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return Some(Err(v));
    }
    Some(Ok(v.iter().fold(0u64, |n, d| n * 10 + (d - b'0') as u64)))
}

#[cfg(feature = "freestanding")]
fn environ() -> *const *const u8 {
    crate::freestanding::environ()
}

#[cfg(all(not(feature = "freestanding"), not(test)))]
fn environ() -> *const *const u8 {
    extern "C" {
        static environ: *const *const u8;
    }
    // SAFETY: glibc's environ; read only.
    unsafe { environ }
}

#[cfg(all(not(feature = "freestanding"), test))]
fn environ() -> *const *const u8 {
    core::ptr::null()
}
