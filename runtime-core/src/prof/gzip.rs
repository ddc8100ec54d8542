//! A gzip writer (RFC 1952) for the profile file, with no libc and no allocation of its own.
//!
//! The deflate stream (RFC 1951) is made of "stored" blocks: the bytes as they are, in
//! blocks of at most 65535 bytes, each with its 5-byte header. That is valid gzip for every
//! reader (pprof, gunzip, Go's compress/gzip); it does not shrink the data, which for a
//! profile of a few hundred kilobytes does not matter, and it keeps this module small enough
//! to check by eye. The trailer holds the CRC-32 (IEEE) and the length mod 2^32.

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), table built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Continues a CRC-32 over `data` (start with 0).
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c = CRC_TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// Largest stored block (the LEN field is 16 bits).
const MAX_STORED: usize = 65535;

/// Writes `data` as a gzip member through `out` (called with consecutive pieces).
pub fn write<E>(data: &[u8], mut out: impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
    // ID1 ID2 CM=8 (deflate) FLG=0 MTIME=0 XFL=0 OS=3 (Unix)
    out(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])?;
    let mut chunks = data.chunks(MAX_STORED).peekable();
    if chunks.peek().is_none() {
        // An empty input is one final empty stored block.
        out(&[1, 0, 0, 0xff, 0xff])?;
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let len = chunk.len() as u16;
        let nlen = !len;
        // BFINAL, BTYPE=00 (stored), then aligned LEN and NLEN, little-endian.
        out(&[
            last as u8,
            len as u8,
            (len >> 8) as u8,
            nlen as u8,
            (nlen >> 8) as u8,
        ])?;
        out(chunk)?;
    }
    let crc = crc32(0, data).to_le_bytes();
    let size = (data.len() as u32).to_le_bytes();
    out(&crc)?;
    out(&size)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::vec::Vec;

    #[test]
    fn crc_of_the_check_string() {
        assert_eq!(crc32(0, b"123456789"), 0xcbf4_3926);
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        write::<()>(data, |p| {
            v.extend_from_slice(p);
            Ok(())
        })
        .unwrap();
        v
    }

    // Spawning gzip from the aarch64 test binary runs fork under qemu-user while other test
    // threads run, and qemu's child can deadlock before its exec (a clean-clone CI run hung
    // here for 18 minutes). The encoder is the same code on both architectures: x86_64 tests it.
    #[test]
    #[cfg_attr(target_arch = "aarch64", ignore = "fork under qemu-user can deadlock")]
    fn gunzip_reads_it_back() {
        for len in [0usize, 1, 1000, 65535, 65536, 200_000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 300) as u8).collect();
            let mut child = Command::new("gzip")
                .arg("-dc")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("gzip is on every Debian system");
            let z = gz(&data);
            let mut stdin = child.stdin.take().unwrap();
            let writer = std::thread::spawn(move || stdin.write_all(&z).unwrap());
            let out = child.wait_with_output().unwrap();
            writer.join().unwrap();
            assert!(out.status.success(), "gzip -d failed for {len} bytes");
            assert_eq!(out.stdout, data, "round trip of {len} bytes");
        }
    }
}
