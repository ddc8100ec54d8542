//! `/proc/self/maps` lookups without allocation (usable from signal handlers): which mapping
//! holds an address, and which file and offset a code address comes from, so that fatal
//! stack dumps print `binary+0xoffset` that `addr2line -e binary 0xoffset` resolves.

use crate::sys;

/// Longest path kept from a line of /proc/self/maps, in bytes (longer ones are cut).
pub const PATH_BYTES: usize = 512;

/// One line of /proc/self/maps, with its path copied into a fixed buffer.
#[derive(Clone)]
pub struct Mapping {
    pub start: usize,
    pub end: usize,
    pub offset: usize,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
    /// A private mapping (`p`), not a shared one (`s`).
    pub private: bool,
    /// Of no file (inode 0: anonymous memory, the brk heap, a stack). A private mapping of
    /// a file shows the file's pages until each is first written (copy on write).
    pub anonymous: bool,
    path: [u8; PATH_BYTES],
    path_len: usize,
}

impl Mapping {
    /// Whether the mapping may hold code: executable, or a read-only mapping of a file.
    /// (qemu-user 7.2 shows an x86_64 guest's text as `r--p`: the exec bit is not reliable
    /// there, so read-only file mappings count as code too. They are safe to read either way.)
    pub fn may_hold_code(&self) -> bool {
        let p = &self.path[..self.path_len];
        self.readable && (self.executable || (!self.writable && !p.is_empty() && p[0] != b'['))
    }

    pub fn path(&self) -> &str {
        core::str::from_utf8(&self.path[..self.path_len]).unwrap_or("?")
    }
}

fn parse_hex(s: &[u8]) -> Option<usize> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    s.iter().try_fold(0usize, |acc, &c| {
        let d = (c as char).to_digit(16)?;
        Some(acc << 4 | d as usize)
    })
}

/// Parses `start-end perms offset dev inode [path]`.
pub fn parse_line(line: &[u8]) -> Option<Mapping> {
    let mut fields = line.split(|&c| c == b' ').filter(|f| !f.is_empty());
    let range = fields.next()?;
    let dash = range.iter().position(|&c| c == b'-')?;
    let (start, end) = (parse_hex(&range[..dash])?, parse_hex(&range[dash + 1..])?);
    let perms = fields.next()?;
    let offset = parse_hex(fields.next()?)?;
    let _dev = fields.next()?;
    let inode = fields.next()?;
    let mut m = Mapping {
        start,
        end,
        offset,
        readable: perms.first() == Some(&b'r'),
        writable: perms.get(1) == Some(&b'w'),
        executable: perms.get(2) == Some(&b'x'),
        private: perms.get(3) == Some(&b'p'),
        anonymous: inode == b"0",
        path: [0; PATH_BYTES],
        path_len: 0,
    };
    // The path is the rest of the line after the inode; it may contain spaces.
    if let Some(first) = fields.next() {
        let at = first.as_ptr() as usize - line.as_ptr() as usize;
        let rest = &line[at..];
        let n = rest.len().min(m.path.len());
        m.path[..n].copy_from_slice(&rest[..n]);
        m.path_len = n;
    }
    Some(m)
}

/// Calls `f` for each line of /proc/self/maps, read a page at a time, until `f` returns
/// false. False if the file could not be read.
pub fn for_each(mut f: impl FnMut(&Mapping) -> bool) -> bool {
    let Ok(fd) = sys::open_readonly(b"/proc/self/maps\0") else {
        return false;
    };
    let mut buf = [0u8; 4096];
    let mut have = 0;
    // Bounded: at most 64 Ki reads of the file.
    'outer: for _ in 0..65536 {
        let n = match sys::read(fd, &mut buf[have..]) {
            Ok(0) | Err(_) => {
                if let Some(m) = (have > 0).then(|| parse_line(&buf[..have])).flatten() {
                    f(&m);
                }
                break;
            }
            Ok(n) => n,
        };
        have += n;
        let mut consumed = 0;
        while let Some(nl) = buf[consumed..have].iter().position(|&c| c == b'\n') {
            if let Some(m) = parse_line(&buf[consumed..consumed + nl]) {
                if !f(&m) {
                    break 'outer;
                }
            }
            consumed += nl + 1;
        }
        buf.copy_within(consumed..have, 0);
        have -= consumed;
        if have == buf.len() {
            break; // a line longer than the buffer: give up rather than loop
        }
    }
    sys::close(fd);
    true
}

/// The mapping that contains `addr`.
pub fn find(addr: usize) -> Option<Mapping> {
    let mut found = None;
    for_each(|m| {
        if m.start <= addr && addr < m.end {
            found = Some(m.clone());
            return false;
        }
        true
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_line_with_a_path_with_spaces() {
        let m =
            parse_line(b"55d0c0a00000-55d0c0a21000 r-xp 00002000 fd:01 123 /opt/my prog").unwrap();
        assert_eq!(
            (m.start, m.end, m.offset, m.readable),
            (0x55d0c0a00000, 0x55d0c0a21000, 0x2000, true)
        );
        assert_eq!(m.path(), "/opt/my prog");
        assert!(m.private && !m.anonymous);
        let anon = parse_line(b"7ffd1000-7ffd2000 ---p 00000000 00:00 0").unwrap();
        assert_eq!((anon.path(), anon.readable), ("", false));
        assert!(anon.private && anon.anonymous);
        let shared = parse_line(b"7ffd1000-7ffd2000 rw-s 00000000 00:01 2049 /memfd:x").unwrap();
        assert!(!shared.private && !shared.anonymous);
        assert!(parse_line(b"garbage").is_none());
    }

    #[test]
    fn finds_our_own_code() {
        let pc = finds_our_own_code as *const () as usize;
        let m = find(pc).expect("the test binary's text is mapped");
        assert!(m.start <= pc && pc < m.end && m.readable);
        assert!(m.path().contains("grt"), "{}", m.path());
    }
}
