//! Whether the process runs under a user-mode emulator (qemu-user): its /proc/cpuinfo is the
//! host's, so a field only the other architecture's kernel writes shows it
//! (`arch::CPUINFO_FOREIGN_MARKER`). qemu-user 7.2 restarts a store that faulted on a
//! write-protected page inexactly (dirty.rs), so plain-store mode does without protection
//! there. An emulator that writes a cpuinfo of its own (qemu 8.1 and later on aarch64) is
//! not seen; dirty.rs also probes the one case it can reproduce.

use grt_arch as arch;

use crate::sys;

/// Bytes of /proc/cpuinfo read (the marker is in the first processor's block).
const READ_BYTES: usize = 4096;

/// True when /proc/cpuinfo names the other architecture's fields. Reads the file: not for
/// signal handlers.
pub fn user_mode_emulator() -> bool {
    let Ok(fd) = sys::open_readonly(b"/proc/cpuinfo\0") else {
        return false;
    };
    let mut buf = [0u8; READ_BYTES];
    let mut have = 0;
    while have < buf.len() {
        match sys::read(fd, &mut buf[have..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => have += n,
        }
    }
    sys::close(fd);
    let m = arch::CPUINFO_FOREIGN_MARKER;
    buf[..have].windows(m.len()).any(|w| w == m)
}
