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

/// A non-blocking operation would have blocked.
pub const GRT_EAGAIN: i32 = -11;
/// The object is in use.
pub const GRT_EBUSY: i32 = -16;
/// The other side did not answer in time.
pub const GRT_ETIMEDOUT: i32 = -110;
/// The scheduler is not running (call grt_main first).
pub const GRT_ENOTINIT: i32 = -1000;
/// Called from a thread that is not running a goroutine.
pub const GRT_ENOTG: i32 = -1001;
/// The channel is closed.
pub const GRT_ECLOSED: i32 = -1002;

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
        GRT_EAGAIN => b"operation would block\0",
        GRT_EBUSY => b"object is in use\0",
        GRT_ETIMEDOUT => b"timed out\0",
        GRT_ENOTINIT => b"grt is not running (call grt_main first)\0",
        GRT_ENOTG => b"not called from a goroutine\0",
        GRT_ECLOSED => b"channel is closed\0",
        _ => b"unknown grt error code\0",
    }
}

/// `const char *` of a NUL-terminated static.
pub fn c_str(s: &'static [u8]) -> *const c_char {
    s.as_ptr() as *const c_char
}
