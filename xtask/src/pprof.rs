//! Reading a pprof CPU profile (`profile.proto` of github.com/google/pprof, gzip-compressed).
//!
//! grt's profiler writes one; `cargo xtask flamegraph` and the tests read it back. The format
//! is small enough that a hand-written protobuf decoder (varints and length-delimited fields)
//! costs less than a protobuf code generator and its build-time dependencies. It reads every
//! field the runtime writes, accepts repeated scalars packed or unpacked (both are valid
//! protobuf), and skips fields it does not know, so profiles from Go's runtime/pprof decode too.
//! String-table indexes are resolved while decoding: the structs hold the strings.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// A decoded profile. Field names follow profile.proto.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub sample_type: Vec<ValueType>,
    pub sample: Vec<Sample>,
    pub mapping: Vec<Mapping>,
    pub location: Vec<Location>,
    pub function: Vec<Function>,
    pub time_nanos: i64,
    pub duration_nanos: i64,
    pub period_type: Option<ValueType>,
    /// Nanoseconds between samples for a CPU profile (1e9 / rate in Hz).
    pub period: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueType {
    pub ty: String,
    pub unit: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// Leaf first.
    pub location_id: Vec<u64>,
    /// One value per `sample_type`.
    pub value: Vec<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    pub id: u64,
    pub memory_start: u64,
    pub memory_limit: u64,
    pub file_offset: u64,
    pub filename: String,
    pub has_functions: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Location {
    pub id: u64,
    /// 0: not in any mapping (grt's pseudo-frames).
    pub mapping_id: u64,
    pub address: u64,
    /// Innermost (inlined) first; empty when the location is not symbolized.
    pub line: Vec<Line>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Line {
    pub function_id: u64,
    pub line: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Function {
    pub id: u64,
    pub name: String,
    pub system_name: String,
    pub filename: String,
}

impl Profile {
    /// Reads and decodes a profile file, gzip-compressed (as written) or not.
    pub fn read(path: &Path) -> Result<Profile, String> {
        let raw =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Profile::decode(&raw).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Decodes a profile, gunzipping it first when it starts with the gzip magic.
    pub fn decode(raw: &[u8]) -> Result<Profile, String> {
        if raw.starts_with(&[0x1f, 0x8b]) {
            let mut data = Vec::new();
            flate2::read::GzDecoder::new(raw)
                .read_to_end(&mut data)
                .map_err(|e| format!("bad gzip data: {e}"))?;
            decode_profile(&data)
        } else {
            decode_profile(raw)
        }
    }

    /// Total number of samples: the sum of the first value ("samples"/"count") of every sample.
    pub fn sample_count(&self) -> i64 {
        self.sample
            .iter()
            .map(|s| s.value.first().copied().unwrap_or(0))
            .sum()
    }

    /// Sampling rate in Hz, from the period in nanoseconds (None if the period is unknown).
    pub fn hz(&self) -> Option<i64> {
        let nanos = self
            .period_type
            .as_ref()
            .is_none_or(|t| t.unit == "nanoseconds");
        (nanos && self.period > 0).then(|| (1_000_000_000 + self.period / 2) / self.period)
    }

    /// Locations by id.
    pub fn locations_by_id(&self) -> HashMap<u64, &Location> {
        self.location.iter().map(|l| (l.id, l)).collect()
    }

    /// Mappings by id.
    pub fn mappings_by_id(&self) -> HashMap<u64, &Mapping> {
        self.mapping.iter().map(|m| (m.id, m)).collect()
    }

    /// Functions by id.
    pub fn functions_by_id(&self) -> HashMap<u64, &Function> {
        self.function.iter().map(|f| (f.id, f)).collect()
    }
}

// ---- protobuf wire format ----

/// Wire types (the low 3 bits of a field key).
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// A cursor over one message's bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// One field: its number and its value as the wire type gives it.
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// fixed32 / fixed64: no field we read has these, they are only skipped.
    Fixed,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(format!("truncated varint at byte {}", self.pos));
            };
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!("varint longer than 10 bytes at byte {}", self.pos))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("field of {n} bytes runs past the end at byte {}", self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next field, or None at the end of the message.
    fn field(&mut self) -> Result<Option<(u64, Value<'a>)>, String> {
        if self.pos == self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (num, wire) = (key >> 3, (key & 7) as u8);
        let value = match wire {
            VARINT => Value::Varint(self.varint()?),
            LEN => {
                let n = usize::try_from(self.varint()?).map_err(|_| "huge length".to_string())?;
                Value::Bytes(self.take(n)?)
            }
            FIXED64 => {
                self.take(8)?;
                Value::Fixed
            }
            FIXED32 => {
                self.take(4)?;
                Value::Fixed
            }
            w => return Err(format!("field {num}: unsupported wire type {w}")),
        };
        Ok(Some((num, value)))
    }
}

/// Calls `f(field number, value)` for every field of a message.
fn for_each_field<'a>(
    buf: &'a [u8],
    mut f: impl FnMut(u64, Value<'a>) -> Result<(), String>,
) -> Result<(), String> {
    let mut r = Reader::new(buf);
    while let Some((num, v)) = r.field()? {
        f(num, v)?;
    }
    Ok(())
}

/// A singular varint field.
fn varint(num: u64, v: Value) -> Result<u64, String> {
    match v {
        Value::Varint(x) => Ok(x),
        _ => Err(format!("field {num}: expected a varint")),
    }
}

/// A length-delimited field (string, bytes or sub-message).
fn bytes<'a>(num: u64, v: Value<'a>) -> Result<&'a [u8], String> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(format!("field {num}: expected a length-delimited value")),
    }
}

/// A repeated varint field, one element unpacked or a packed run of them.
fn repeated_varint(num: u64, v: Value, out: &mut Vec<u64>) -> Result<(), String> {
    match v {
        Value::Varint(x) => out.push(x),
        Value::Bytes(b) => {
            let mut r = Reader::new(b);
            while r.pos < b.len() {
                out.push(r.varint()?);
            }
        }
        Value::Fixed => return Err(format!("field {num}: expected varints")),
    }
    Ok(())
}

// ---- profile.proto messages ----
//
// Strings are string-table indexes on the wire, and the string table (field 6 of Profile) may
// come after the messages that use it: messages are decoded with raw indexes (`Str`) first,
// and resolved once the whole profile has been read.

/// A string-table index, not yet resolved.
type Str = u64;

#[derive(Default)]
struct RawProfile {
    sample_type: Vec<(Str, Str)>,
    sample: Vec<Sample>,
    mapping: Vec<(Mapping, Str)>,
    location: Vec<Location>,
    function: Vec<(u64, Str, Str, Str)>,
    string_table: Vec<String>,
    time_nanos: i64,
    duration_nanos: i64,
    period_type: Option<(Str, Str)>,
    period: i64,
}

fn decode_profile(buf: &[u8]) -> Result<Profile, String> {
    let mut p = RawProfile::default();
    for_each_field(buf, |num, v| {
        match num {
            1 => p.sample_type.push(decode_value_type(bytes(num, v)?)?),
            2 => p.sample.push(decode_sample(bytes(num, v)?)?),
            3 => p.mapping.push(decode_mapping(bytes(num, v)?)?),
            4 => p.location.push(decode_location(bytes(num, v)?)?),
            5 => p.function.push(decode_function(bytes(num, v)?)?),
            6 => {
                let s = std::str::from_utf8(bytes(num, v)?)
                    .map_err(|_| format!("string {} is not UTF-8", p.string_table.len()))?;
                p.string_table.push(s.to_string());
            }
            9 => p.time_nanos = varint(num, v)? as i64,
            10 => p.duration_nanos = varint(num, v)? as i64,
            11 => p.period_type = Some(decode_value_type(bytes(num, v)?)?),
            12 => p.period = varint(num, v)? as i64,
            _ => {} // drop_frames, keep_frames, comment, default_sample_type, newer fields
        }
        Ok(())
    })
    .map_err(|e| format!("not a valid pprof profile: {e}"))?;
    resolve(p)
}

fn decode_value_type(buf: &[u8]) -> Result<(Str, Str), String> {
    let (mut ty, mut unit) = (0, 0);
    for_each_field(buf, |num, v| {
        match num {
            1 => ty = varint(num, v)?,
            2 => unit = varint(num, v)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok((ty, unit))
}

fn decode_sample(buf: &[u8]) -> Result<Sample, String> {
    let mut s = Sample::default();
    let mut values = Vec::new();
    for_each_field(buf, |num, v| {
        match num {
            1 => repeated_varint(num, v, &mut s.location_id)?,
            2 => repeated_varint(num, v, &mut values)?,
            _ => {} // labels
        }
        Ok(())
    })?;
    // int64 on the wire: negative numbers are 10-byte two's-complement varints.
    s.value = values.into_iter().map(|x| x as i64).collect();
    Ok(s)
}

fn decode_mapping(buf: &[u8]) -> Result<(Mapping, Str), String> {
    let mut m = Mapping::default();
    let mut filename = 0;
    for_each_field(buf, |num, v| {
        match num {
            1 => m.id = varint(num, v)?,
            2 => m.memory_start = varint(num, v)?,
            3 => m.memory_limit = varint(num, v)?,
            4 => m.file_offset = varint(num, v)?,
            5 => filename = varint(num, v)?,
            7 => m.has_functions = varint(num, v)? != 0,
            _ => {} // build_id, has_filenames, has_line_numbers, has_inline_frames
        }
        Ok(())
    })?;
    Ok((m, filename))
}

fn decode_location(buf: &[u8]) -> Result<Location, String> {
    let mut l = Location::default();
    for_each_field(buf, |num, v| {
        match num {
            1 => l.id = varint(num, v)?,
            2 => l.mapping_id = varint(num, v)?,
            3 => l.address = varint(num, v)?,
            4 => l.line.push(decode_line(bytes(num, v)?)?),
            _ => {} // is_folded
        }
        Ok(())
    })?;
    Ok(l)
}

fn decode_line(buf: &[u8]) -> Result<Line, String> {
    let mut l = Line::default();
    for_each_field(buf, |num, v| {
        match num {
            1 => l.function_id = varint(num, v)?,
            2 => l.line = varint(num, v)? as i64,
            _ => {} // column
        }
        Ok(())
    })?;
    Ok(l)
}

fn decode_function(buf: &[u8]) -> Result<(u64, Str, Str, Str), String> {
    let (mut id, mut name, mut system_name, mut filename) = (0, 0, 0, 0);
    for_each_field(buf, |num, v| {
        match num {
            1 => id = varint(num, v)?,
            2 => name = varint(num, v)?,
            3 => system_name = varint(num, v)?,
            4 => filename = varint(num, v)?,
            _ => {} // start_line
        }
        Ok(())
    })?;
    Ok((id, name, system_name, filename))
}

/// Replaces string-table indexes with the strings.
fn resolve(p: RawProfile) -> Result<Profile, String> {
    let table = &p.string_table;
    if table.first().is_some_and(|s| !s.is_empty()) {
        return Err("malformed profile: string_table[0] is not \"\"".into());
    }
    let s = |i: Str| -> Result<String, String> {
        usize::try_from(i)
            .ok()
            .and_then(|i| table.get(i))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "malformed profile: string index {i} past the table ({} strings)",
                    table.len()
                )
            })
    };
    let vt = |(ty, unit): (Str, Str)| -> Result<ValueType, String> {
        Ok(ValueType {
            ty: s(ty)?,
            unit: s(unit)?,
        })
    };
    Ok(Profile {
        sample_type: p
            .sample_type
            .into_iter()
            .map(vt)
            .collect::<Result<_, _>>()?,
        sample: p.sample,
        mapping: p
            .mapping
            .into_iter()
            .map(|(m, f)| {
                Ok(Mapping {
                    filename: s(f)?,
                    ..m
                })
            })
            .collect::<Result<_, String>>()?,
        location: p.location,
        function: p
            .function
            .into_iter()
            .map(|(id, name, system_name, filename)| {
                Ok(Function {
                    id,
                    name: s(name)?,
                    system_name: s(system_name)?,
                    filename: s(filename)?,
                })
            })
            .collect::<Result<_, String>>()?,
        time_nanos: p.time_nanos,
        duration_nanos: p.duration_nanos,
        period_type: p.period_type.map(vt).transpose()?,
        period: p.period,
    })
}

#[cfg(test)]
pub mod tests {
    //! A tiny encoder of the same subset, for round trips here and fixtures elsewhere.

    use super::*;
    use std::io::Write;

    fn put_varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn put_key(out: &mut Vec<u8>, num: u64, wire: u8) {
        put_varint(out, num << 3 | u64::from(wire));
    }

    fn put_u(out: &mut Vec<u8>, num: u64, v: u64) {
        if v != 0 {
            put_key(out, num, VARINT);
            put_varint(out, v);
        }
    }

    fn put_bytes(out: &mut Vec<u8>, num: u64, b: &[u8]) {
        put_key(out, num, LEN);
        put_varint(out, b.len() as u64);
        out.extend_from_slice(b);
    }

    /// A repeated varint field, packed or as one field per element.
    fn put_repeated(out: &mut Vec<u8>, num: u64, vs: &[u64], packed: bool) {
        if packed {
            let mut b = Vec::new();
            vs.iter().for_each(|&v| put_varint(&mut b, v));
            put_bytes(out, num, &b);
        } else {
            for &v in vs {
                put_key(out, num, VARINT);
                put_varint(out, v);
            }
        }
    }

    /// Encodes `p` as profile.proto; `packed` chooses the repeated-scalar encoding. Unknown
    /// fields of every wire type are sprinkled in to check that the decoder skips them.
    pub fn encode(p: &Profile, packed: bool) -> Vec<u8> {
        let mut strings: Vec<String> = vec![String::new()];
        let mut idx = |s: &str| -> u64 {
            match strings.iter().position(|x| x == s) {
                Some(i) => i as u64,
                None => {
                    strings.push(s.to_string());
                    (strings.len() - 1) as u64
                }
            }
        };
        let mut out = Vec::new();
        let mut vt = |num: u64, t: &ValueType, out: &mut Vec<u8>| {
            let mut b = Vec::new();
            put_u(&mut b, 1, idx(&t.ty));
            put_u(&mut b, 2, idx(&t.unit));
            put_bytes(out, num, &b);
        };
        for t in &p.sample_type {
            vt(1, t, &mut out);
        }
        if let Some(t) = &p.period_type {
            vt(11, t, &mut out);
        }
        for s in &p.sample {
            let mut b = Vec::new();
            put_repeated(&mut b, 1, &s.location_id, packed);
            let vals: Vec<u64> = s.value.iter().map(|&v| v as u64).collect();
            put_repeated(&mut b, 2, &vals, packed);
            put_bytes(&mut b, 3, &[8, 1, 16, 2]); // a label: skipped
            put_bytes(&mut out, 2, &b);
        }
        // Unknown fields: fixed64, fixed32, varint, bytes.
        put_key(&mut out, 99, FIXED64);
        out.extend_from_slice(&[0; 8]);
        put_key(&mut out, 98, FIXED32);
        out.extend_from_slice(&[0; 4]);
        put_u(&mut out, 97, 12345);
        put_bytes(&mut out, 96, b"ignored");
        let (mut fnames, mut fn_strs) = (Vec::new(), Vec::new());
        for m in &p.mapping {
            fnames.push(idx(&m.filename));
        }
        for f in &p.function {
            fn_strs.push((idx(&f.name), idx(&f.system_name), idx(&f.filename)));
        }
        for (m, &fname) in p.mapping.iter().zip(&fnames) {
            let mut b = Vec::new();
            put_u(&mut b, 1, m.id);
            put_u(&mut b, 2, m.memory_start);
            put_u(&mut b, 3, m.memory_limit);
            put_u(&mut b, 4, m.file_offset);
            put_u(&mut b, 5, fname);
            put_u(&mut b, 7, m.has_functions as u64);
            put_bytes(&mut out, 3, &b);
        }
        for l in &p.location {
            let mut b = Vec::new();
            put_u(&mut b, 1, l.id);
            put_u(&mut b, 2, l.mapping_id);
            put_u(&mut b, 3, l.address);
            for line in &l.line {
                let mut lb = Vec::new();
                put_u(&mut lb, 1, line.function_id);
                put_u(&mut lb, 2, line.line as u64);
                put_bytes(&mut b, 4, &lb);
            }
            put_bytes(&mut out, 4, &b);
        }
        for (f, &(name, sys, file)) in p.function.iter().zip(&fn_strs) {
            let mut b = Vec::new();
            put_u(&mut b, 1, f.id);
            put_u(&mut b, 2, name);
            put_u(&mut b, 3, sys);
            put_u(&mut b, 4, file);
            put_bytes(&mut out, 5, &b);
        }
        put_u(&mut out, 9, p.time_nanos as u64);
        put_u(&mut out, 10, p.duration_nanos as u64);
        put_u(&mut out, 12, p.period as u64);
        // The string table last: the decoder must not depend on its position.
        for s in &strings {
            put_bytes(&mut out, 6, s.as_bytes());
        }
        out
    }

    pub fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("write to a Vec");
        e.finish().expect("write to a Vec")
    }

    /// A profile of the shape grt writes: two mapped frames and one pseudo-frame.
    pub fn sample_profile() -> Profile {
        let vt = |ty: &str, unit: &str| ValueType {
            ty: ty.into(),
            unit: unit.into(),
        };
        Profile {
            sample_type: vec![vt("samples", "count"), vt("cpu", "nanoseconds")],
            sample: vec![
                Sample {
                    location_id: vec![1, 2],
                    value: vec![3, 3 * 10_101_010],
                },
                Sample {
                    location_id: vec![3],
                    value: vec![1, 10_101_010],
                },
            ],
            mapping: vec![Mapping {
                id: 1,
                memory_start: 0x5555_5555_4000,
                memory_limit: 0x5555_5556_0000,
                file_offset: 0x1000,
                filename: "/tmp/prog".into(),
                has_functions: false,
            }],
            location: vec![
                Location {
                    id: 1,
                    mapping_id: 1,
                    address: 0x5555_5555_4123,
                    line: vec![],
                },
                Location {
                    id: 2,
                    mapping_id: 1,
                    address: 0x5555_5555_4456,
                    line: vec![],
                },
                Location {
                    id: 3,
                    mapping_id: 0,
                    address: 0,
                    line: vec![Line {
                        function_id: 1,
                        line: 0,
                    }],
                },
            ],
            function: vec![Function {
                id: 1,
                name: "grt.ExternalCode".into(),
                system_name: "grt.ExternalCode".into(),
                filename: String::new(),
            }],
            time_nanos: 1_700_000_000_000_000_000,
            duration_nanos: 2_000_000_000,
            period_type: Some(vt("cpu", "nanoseconds")),
            period: 10_101_010,
        }
    }

    #[test]
    fn round_trip_packed_and_unpacked_gzip_and_plain() {
        let p = sample_profile();
        for packed in [true, false] {
            let raw = encode(&p, packed);
            assert_eq!(Profile::decode(&raw).unwrap(), p, "plain, packed={packed}");
            assert_eq!(
                Profile::decode(&gzip(&raw)).unwrap(),
                p,
                "gzip, packed={packed}"
            );
        }
    }

    #[test]
    fn summary_numbers() {
        let p = sample_profile();
        assert_eq!(p.sample_count(), 4);
        assert_eq!(p.hz(), Some(99));
    }

    #[test]
    fn negative_values_and_large_varints() {
        let mut p = sample_profile();
        p.sample[0].value = vec![-1, i64::MIN];
        p.mapping[0].memory_limit = u64::MAX;
        let got = Profile::decode(&encode(&p, true)).unwrap();
        assert_eq!(got, p);
    }

    #[test]
    fn errors_are_reported_not_panics() {
        let raw = encode(&sample_profile(), true);
        // Any prefix decodes or fails, never panics; one inside a field fails.
        for cut in 0..raw.len() {
            let _ = Profile::decode(&raw[..cut]);
        }
        for cut in [1, raw.len() - 1] {
            assert!(Profile::decode(&raw[..cut]).is_err(), "cut at {cut}");
        }
        // A string index past the table.
        let mut bad = Vec::new();
        put_bytes(&mut bad, 1, &[8, 42]);
        put_bytes(&mut bad, 6, b"");
        let e = Profile::decode(&bad).unwrap_err();
        assert!(e.contains("string index 42"), "{e}");
        // A group (wire type 3) is not something profile.proto has.
        assert!(Profile::decode(&[0x0b]).is_err());
        assert!(Profile::decode(&gzip(&raw)[..20]).is_err());
    }
}
