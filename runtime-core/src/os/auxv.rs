//! The kernel's auxiliary vector: page size, `AT_MINSIGSTKSZ`, and where the program headers
//! are (the freestanding build needs them to lay out TLS).
//!
//! The freestanding build reads it from the initial stack in `_start`; the libc build reads
//! `/proc/self/auxv` once (no libc call, so the same code serves both and works under QEMU,
//! which emulates that file).

use spin::Once;

use crate::sys;

const AT_NULL: usize = 0;
const AT_PHDR: usize = 3;
const AT_PHNUM: usize = 5;
const AT_PAGESZ: usize = 6;
const AT_SYSINFO_EHDR: usize = 33;
const AT_MINSIGSTKSZ: usize = 51;

/// The values grt uses.
#[derive(Clone, Copy, Debug, Default)]
pub struct Auxv {
    pub pagesz: usize,
    pub minsigstksz: usize,
    pub phdr: usize,
    pub phnum: usize,
    /// Where the kernel mapped the vDSO (mapped for the life of the process).
    pub sysinfo_ehdr: usize,
}

static AUXV: Once<Auxv> = Once::new();

impl Auxv {
    /// Parses `(key, value)` pairs up to `AT_NULL`.
    pub fn parse(pairs: impl Iterator<Item = (usize, usize)>) -> Auxv {
        let mut a = Auxv::default();
        for (k, v) in pairs {
            match k {
                AT_NULL => break,
                AT_PHDR => a.phdr = v,
                AT_PHNUM => a.phnum = v,
                AT_PAGESZ => a.pagesz = v,
                AT_MINSIGSTKSZ => a.minsigstksz = v,
                AT_SYSINFO_EHDR => a.sysinfo_ehdr = v,
                _ => {}
            }
        }
        if a.pagesz == 0 {
            a.pagesz = 4096;
        }
        a
    }
}

/// Records the auxiliary vector found on the initial stack (freestanding `_start`).
///
/// # Safety
/// `p` must point to the kernel's auxv array, terminated by `AT_NULL`.
#[cfg(any(feature = "freestanding", test))]
pub unsafe fn init_from_ptr(p: *const usize) {
    AUXV.call_once(|| {
        let pairs = (0..).map(|i| {
            // SAFETY: the kernel terminates the array with AT_NULL, where parse stops.
            unsafe { (*p.add(2 * i), *p.add(2 * i + 1)) }
        });
        Auxv::parse(pairs)
    });
}

/// The auxiliary vector (read on first use).
pub fn get() -> &'static Auxv {
    AUXV.call_once(read_proc_self_auxv)
}

fn read_proc_self_auxv() -> Auxv {
    let mut buf = [0usize; 128];
    let mut len = 0;
    if let Ok(fd) = sys::open_readonly(b"/proc/self/auxv\0") {
        // SAFETY: viewing the usize buffer as bytes for read(2).
        let bytes =
            unsafe { core::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut u8, 128 * 8) };
        while len < bytes.len() {
            match sys::read(fd, &mut bytes[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(sys::EINTR) => {}
                Err(_) => break,
            }
        }
        sys::close(fd);
    }
    let words = len / 8;
    Auxv::parse((0..words / 2).map(|i| (buf[2 * i], buf[2 * i + 1])))
}

/// An ELF64 program header (`Elf64_Phdr`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Phdr {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_paddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
    pub p_align: u64,
}

pub const PT_LOAD: u32 = 1;
pub const PT_PHDR: u32 = 6;
pub const PT_TLS: u32 = 7;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
/// More program headers than this is taken for a broken auxiliary vector.
const MAX_PHNUM: usize = 256;

/// The main executable's program headers (`AT_PHDR`, `AT_PHNUM`), mapped for the life of
/// the process; empty if the auxiliary vector does not give them.
pub fn program_headers() -> &'static [Phdr] {
    let a = get();
    if a.phdr == 0 || a.phnum == 0 || a.phnum > MAX_PHNUM {
        return &[];
    }
    // SAFETY: AT_PHDR points to the main executable's AT_PHNUM program headers, which stay
    // mapped as long as the process runs.
    unsafe { core::slice::from_raw_parts(a.phdr as *const Phdr, a.phnum) }
}

/// The main executable's load bias: where its PT_PHDR landed against the address it names
/// (0 without PT_PHDR: a static, non-PIE executable).
pub fn load_bias() -> usize {
    program_headers()
        .iter()
        .find(|p| p.p_type == PT_PHDR)
        .map_or(0, |p| get().phdr.wrapping_sub(p.p_vaddr as usize))
}

/// The system page size in bytes.
pub fn page_size() -> usize {
    get().pagesz
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_stops_at_null_and_defaults_page_size() {
        let a = Auxv::parse([(AT_MINSIGSTKSZ, 3632), (AT_NULL, 0), (AT_PAGESZ, 1)].into_iter());
        assert_eq!((a.minsigstksz, a.pagesz), (3632, 4096));
    }

    #[test]
    fn proc_self_auxv_has_the_page_size() {
        assert!(get().pagesz.is_power_of_two() && get().pagesz >= 4096);
        assert!(get().phnum > 0);
    }
}
