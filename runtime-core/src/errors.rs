//! Error codes of the C API and how bad input is reported: every public function that can
//! fail returns 0 or a negative errno-style code, and says what was wrong on stderr first.

use core::ffi::c_char;
use core::fmt;

/// Success.
pub const GRT_OK: i32 = 0;
/// Out of memory (or address space).
pub const GRT_ENOMEM: i32 = -12;
/// An argument is invalid (NULL where a value is needed, a size out of range, a handle that
/// grt did not make).
pub const GRT_EINVAL: i32 = -22;
/// The system refused for another reason (the message says which errno).
pub const GRT_ESYS: i32 = -5;

/// Prints `grt: <func>: <message>` on stderr and returns `code`.
pub fn report(code: i32, func: &str, args: fmt::Arguments<'_>) -> i32 {
    crate::printerr!("grt: {}: {}\n", func, args);
    code
}

/// Text for an error code, for `grt_strerror`.
pub fn describe(code: i32) -> &'static [u8] {
    match code {
        GRT_OK => b"success\0",
        GRT_ENOMEM => b"out of memory\0",
        GRT_EINVAL => b"invalid argument\0",
        GRT_ESYS => b"system call failed\0",
        _ => b"unknown grt error code\0",
    }
}

/// `const char *` of a NUL-terminated static.
pub fn c_str(s: &'static [u8]) -> *const c_char {
    s.as_ptr() as *const c_char
}
