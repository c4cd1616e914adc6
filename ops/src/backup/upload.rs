//! Receiving an archive a person uploads: written under a temporary name as it arrives,
//! refused the moment it is too large or does not start with `PGDMP`, and kept only when
//! its table of contents reads. The web server hands the bytes over; the rules live here.

use std::fmt::Display;
use std::path::Path;

use futures_util::{Stream, StreamExt};

use super::archive::Writer;
use super::header::{is_archive_start, MAGIC};

const NOT_AN_ARCHIVE: &str = "That file is not a pg_dump custom-format archive (it does not start with PGDMP): upload a file made with pg_dump -Fc.";

/// Writes `chunks` to `path` within `limit` bytes; returns the size kept. On any refusal
/// nothing is left behind.
pub async fn receive<S, B, E>(mut chunks: S, path: &Path, limit: u64) -> Result<u64, String>
where
    S: Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: Display,
{
    let mut out = Writer::create(path).await.map_err(|e| e.to_string())?;
    let mut head: Vec<u8> = Vec::with_capacity(MAGIC.len());
    while let Some(chunk) = chunks.next().await {
        let chunk =
            chunk.map_err(|e| format!("The upload was interrupted: {e}. Nothing was kept."))?;
        let chunk = chunk.as_ref();
        if head.len() < MAGIC.len() {
            head.extend(chunk.iter().take(MAGIC.len() - head.len()));
            if head.len() == MAGIC.len() && !is_archive_start(&head) {
                return Err(NOT_AN_ARCHIVE.to_string());
            }
        }
        if out.size + chunk.len() as u64 > limit {
            return Err(format!(
                "The file is larger than the upload limit of {} MiB (HOLOMUSH_UPLOAD_LIMIT_MB). Nothing was kept.",
                limit / (1024 * 1024)
            ));
        }
        out.write(chunk).await.map_err(|e| e.to_string())?;
    }
    if !is_archive_start(&head) {
        return Err(NOT_AN_ARCHIVE.to_string());
    }
    let size = out.size;
    out.finish().await.map_err(|e| e.to_string())?;
    if let Err(e) = super::contents::toc(path).await {
        let _ = tokio::fs::remove_file(path).await;
        return Err(format!(
            "The archive's table of contents does not read ({e}); nothing was kept."
        ));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(
        parts: Vec<&'static [u8]>,
    ) -> impl Stream<Item = Result<&'static [u8], String>> + Unpin {
        futures_util::stream::iter(parts.into_iter().map(Ok))
    }

    #[tokio::test]
    async fn what_is_not_an_archive_or_too_large_is_refused_and_nothing_is_kept() {
        let dir = std::env::temp_dir().join(format!(
            "holomush-upload-{}",
            crate::auth::random_token().get(..10).unwrap_or("x")
        ));
        let path = dir.join("notes.dump");
        let err = receive(chunks(vec![b"SEL", b"ECT 1;"]), &path, 1 << 20)
            .await
            .expect_err("refused");
        assert_eq!(err, NOT_AN_ARCHIVE);
        let err = receive(chunks(vec![b"PGDMP", &[0u8; 64]]), &path, 32)
            .await
            .expect_err("refused");
        assert_eq!(
            err,
            "The file is larger than the upload limit of 0 MiB (HOLOMUSH_UPLOAD_LIMIT_MB). Nothing was kept."
        );
        let err = receive(
            futures_util::stream::iter(vec![Ok(&b"PGDMP"[..]), Err("connection reset")]),
            &path,
            1 << 20,
        )
        .await
        .expect_err("refused");
        assert_eq!(
            err,
            "The upload was interrupted: connection reset. Nothing was kept."
        );
        let left: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "nothing is left behind: {left:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
