//! Output without allocation, usable in signal handlers: `core::fmt` into a fixed buffer on
//! the stack, flushed to a file descriptor with `write(2)`.

use core::fmt;

use crate::sys;

/// A `fmt::Write` that buffers up to 512 bytes and flushes to `fd` with raw writes.
pub struct FdWriter {
    fd: i32,
    len: usize,
    buf: [u8; 512],
}

impl FdWriter {
    pub const fn new(fd: i32) -> Self {
        FdWriter {
            fd,
            len: 0,
            buf: [0; 512],
        }
    }

    pub fn flush(&mut self) {
        sys::write_all(self.fd, &self.buf[..self.len]);
        self.len = 0;
    }
}

impl fmt::Write for FdWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for chunk in s.as_bytes().chunks(self.buf.len()) {
            if self.len + chunk.len() > self.buf.len() {
                self.flush();
            }
            self.buf[self.len..self.len + chunk.len()].copy_from_slice(chunk);
            self.len += chunk.len();
        }
        Ok(())
    }
}

impl Drop for FdWriter {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Prints to stderr without allocating: `eprint!`-like.
#[macro_export]
macro_rules! printerr {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let mut w = $crate::print::FdWriter::new(2);
        let _ = write!(w, $($arg)*);
    }};
}
