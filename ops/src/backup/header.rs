//! The header of a `pg_dump -Fc` archive: which archive format version it is and which
//! pg_dump wrote it, read without running pg_restore — an old pg_restore cannot read
//! a newer archive, and the console must pick one that can.

use std::path::Path;

/// What the first bytes of an archive say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The archive format version, e.g. (1, 16, 0).
    pub format: (u8, u8, u8),
    /// The database it was dumped from.
    pub database: Option<String>,
    /// The server's version string, e.g. "15.18 (Debian 15.18-0+deb12u1)".
    pub server_version: Option<String>,
    /// The pg_dump's version string, e.g. "18.6".
    pub dump_version: Option<String>,
}

impl Header {
    /// The major version of the pg_dump that wrote it.
    pub fn dump_major(&self) -> Option<u32> {
        self.dump_version
            .as_deref()
            .and_then(crate::pgtools::major_of)
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
    int_size: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let v = *self.b.get(self.at)?;
        self.at += 1;
        Some(v)
    }
    /// pg_dump's ReadInt: a sign byte, then int_size bytes, least significant first.
    fn int(&mut self) -> Option<i64> {
        let negative = self.byte()? != 0;
        let mut v: i64 = 0;
        for i in 0..self.int_size {
            v |= i64::from(self.byte()?) << (8 * i);
        }
        Some(if negative { -v } else { v })
    }
    fn string(&mut self) -> Option<Option<String>> {
        let len = self.int()?;
        if len < 0 {
            return Some(None);
        }
        let len = usize::try_from(len).ok()?;
        let s = self.b.get(self.at..self.at + len)?;
        self.at += len;
        Some(Some(String::from_utf8_lossy(s).into_owned()))
    }
}

/// What every pg_dump custom-format archive starts with.
pub const MAGIC: &[u8; 5] = b"PGDMP";

/// Whether these first bytes (at least five of them) start a custom-format archive.
pub fn is_archive_start(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// Parses the header from the archive's first bytes; None when they are not one.
pub fn parse(bytes: &[u8]) -> Option<Header> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let mut r = Reader {
        b: rest,
        at: 0,
        int_size: 4,
    };
    let vmaj = r.byte()?;
    let vmin = r.byte()?;
    let vrev = if vmaj > 1 || vmin > 0 { r.byte()? } else { 0 };
    let format = (vmaj, vmin, vrev);
    r.int_size = usize::from(r.byte()?);
    if !(1..=8).contains(&r.int_size) {
        return None;
    }
    let _off_size = r.byte()?;
    let _archive_format = r.byte()?;
    if format >= (1, 15, 0) {
        let _algorithm = r.byte()?;
    } else if format >= (1, 4, 0) {
        let _level = r.int()?;
    } else if format >= (1, 2, 0) {
        let _level = r.byte()?;
    }
    if format >= (1, 4, 0) {
        for _ in 0..7 {
            r.int()?;
        }
    }
    let database = r.string()?;
    let (server_version, dump_version) = if format >= (1, 10, 0) {
        (r.string()?, r.string()?)
    } else {
        (None, None)
    };
    Some(Header {
        format,
        database,
        server_version,
        dump_version,
    })
}

/// The first `n` bytes of a file (fewer when it is shorter): archives run to gigabytes.
pub async fn head(path: &Path, n: u64) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    tokio::fs::File::open(path)
        .await?
        .take(n)
        .read_to_end(&mut head)
        .await?;
    Ok(head)
}

/// Reads the header of the archive at `path` (its first 4 KiB only).
pub async fn read(path: &Path) -> std::io::Result<Option<Header>> {
    Ok(parse(&head(path, 4096).await?))
}

/// The version of the pg_dump that wrote the archive at `path` ("15.18", as the console
/// records its own pg_dump; the header may say "15.18 (Debian 15.18-0+deb12u1)"), or
/// empty when the header does not say (or does not read).
pub async fn dump_version(path: &Path) -> String {
    read(path)
        .await
        .ok()
        .flatten()
        .and_then(|h| h.dump_version)
        .and_then(|v| crate::pgtools::parse_version(&v))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: i64) -> Vec<u8> {
        let mut out = vec![u8::from(v < 0)];
        out.extend_from_slice(&(v.unsigned_abs() as u32).to_le_bytes());
        out
    }
    fn string(s: &str) -> Vec<u8> {
        let mut out = int(s.len() as i64);
        out.extend_from_slice(s.as_bytes());
        out
    }

    #[test]
    fn reads_a_1_16_header() {
        let mut b = b"PGDMP".to_vec();
        b.extend_from_slice(&[1, 16, 0, 4, 8, 1, 0]);
        for v in [5, 4, 3, 29, 10, 126, 0] {
            b.extend(int(v));
        }
        b.extend(string("holomush"));
        b.extend(string("15.18 (Debian)"));
        b.extend(string("18.6"));
        let h = parse(&b).expect("a header");
        assert_eq!(h.format, (1, 16, 0));
        assert_eq!(h.database.as_deref(), Some("holomush"));
        assert_eq!(h.server_version.as_deref(), Some("15.18 (Debian)"));
        assert_eq!(h.dump_major(), Some(18));
        assert!(parse(b"PGDMX").is_none());
        assert!(parse(&b[..20]).is_none());
    }
}
