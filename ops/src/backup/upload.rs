//! Receiving an archive a person uploads: written under a temporary name as it arrives,
//! refused the moment it is too large or does not start with `PGDMP`, and kept only when
//! its table of contents reads. The web server hands the bytes over; the rules live here.

use std::fmt::Display;

use futures_util::{Stream, StreamExt};

use tokio_util::sync::CancellationToken;

use super::header::{is_archive_start, MAGIC};
use super::store::Store;
use super::Manifest;
use crate::model::Verification;

const NOT_AN_ARCHIVE: &str = "That file is not a pg_dump custom-format archive (it does not start with PGDMP): upload a file made with pg_dump -Fc.";

/// Writes `chunks` as archive `name` of `store` within `limit` bytes, checks every block of what arrived, and
/// only then gives it its name, with a manifest of its own marked as not made by the
/// console (so a stale manifest of an earlier archive of that name is never adopted).
/// On any refusal nothing is left behind.
pub async fn receive<S, B, E>(
    mut chunks: S,
    store: &dyn Store,
    name: &str,
    limit: u64,
    by: &str,
) -> Result<Manifest, String>
where
    S: Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: Display,
{
    let started = chrono::Utc::now();
    // Exclusive: refuses a name that exists (even as a link) or is being written now, and
    // removes a manifest left beside it (it describes bytes that are gone).
    let mut out = store.create(name).await.map_err(|e| e.to_string())?;
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
        if out.size() + chunk.len() as u64 > limit {
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
    // Every block read before the file takes its name: a truncated upload is refused here.
    let staged = out.staged().await.map_err(|e| e.to_string())?;
    let toc = super::contents::toc(staged).await.map_err(|_| damaged())?;
    super::verify::verify(staged, &CancellationToken::new())
        .await
        .map_err(|_| damaged())?;
    let pg_dump_version = super::header::dump_version(staged).await;
    let size = out.size();
    let sha256 = out.finish().await.map_err(|e| e.to_string())?;
    let manifest = Manifest {
        file: name.to_string(),
        kind: toc.kind(),
        size,
        sha256,
        host: String::new(),
        database: toc.database,
        server_version: toc.server_version,
        pg_dump_version,
        migration_version: None,
        migration_dirty: false,
        started_at: started,
        duration_ms: 0,
        by: by.to_string(),
        verification: Verification::Verified,
        safety: false,
        by_console: false,
        // Not the console's own: nothing to vouch for.
        tag: String::new(),
    };
    // Written over whatever manifest an earlier archive of this name left.
    if let Err(e) = store.write_manifest(name, &manifest).await {
        let _ = store.delete(name).await;
        return Err(format!("{e} Nothing was kept."));
    }
    Ok(manifest)
}

fn damaged() -> String {
    "That file is a pg_dump archive but not a complete one (its table of contents or a data block does not read, e.g. it was cut short): upload the whole file. Nothing was kept.".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::store::Store;

    fn chunks(
        parts: Vec<&'static [u8]>,
    ) -> impl Stream<Item = Result<&'static [u8], String>> + Unpin {
        futures_util::stream::iter(parts.into_iter().map(Ok))
    }

    #[tokio::test]
    async fn what_is_not_an_archive_or_too_large_is_refused_and_nothing_is_kept() {
        let store = crate::backup::store::MemoryStore::new();
        let name = "notes.dump";
        let err = receive(
            chunks(vec![b"SEL", b"ECT 1;"]),
            &store,
            name,
            1 << 20,
            "test",
        )
        .await
        .expect_err("refused");
        assert_eq!(err, NOT_AN_ARCHIVE);
        let err = receive(chunks(vec![b"PGDMP", &[0u8; 64]]), &store, name, 32, "test")
            .await
            .expect_err("refused");
        assert_eq!(
            err,
            "The file is larger than the upload limit of 0 MiB (HOLOMUSH_UPLOAD_LIMIT_MB). Nothing was kept."
        );
        let err = receive(
            futures_util::stream::iter(vec![Ok(&b"PGDMP"[..]), Err("connection reset")]),
            &store,
            name,
            1 << 20,
            "test",
        )
        .await
        .expect_err("refused");
        assert_eq!(
            err,
            "The upload was interrupted: connection reset. Nothing was kept."
        );
        let left = store.list().await.expect("list");
        assert!(left.is_empty(), "nothing is left behind: {left:?}");
    }
}
