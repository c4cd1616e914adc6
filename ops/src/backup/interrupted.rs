//! A restore in place that was killed (kill -9, a crash, a power cut) is finished or undone
//! by the next console that starts. The fresh copy carries a marker in its database comment
//! from the moment it is created until the swap is done, saying what it is for; that is the
//! journal, kept where the databases are, so any console on any machine can read it.
//! A marker counts only when [`crate::dbmark::check`] vouches for it (this console's tag,
//! its kind of name, its owner); any other is reported and its database left alone.

use serde::{Deserialize, Serialize};
use sqlx::{Connection, Executor, PgConnection};

use crate::conninfo::DatabaseUrl;
use crate::db::quote_ident;
use crate::seal::Seal;

const PREFIX: &str = "holomush-admin restore in progress: ";

/// What a fresh copy is for, and who is making it.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Marker {
    /// The database it replaces.
    pub current: String,
    /// The name the replaced database takes.
    pub previous: String,
    pub pid: u32,
    pub host: String,
}

impl Marker {
    pub fn new(current: &str, previous: &str) -> Self {
        Self {
            current: current.to_string(),
            previous: previous.to_string(),
            pid: std::process::id(),
            host: crate::joblock::hostname(),
        }
    }

    /// The statement that puts the marker on `fresh`, tagged with the console's key.
    pub fn comment_on(&self, seal: &Seal, fresh: &str) -> String {
        crate::dbmark::comment_sql(seal, PREFIX, fresh, self)
    }

    #[cfg(test)]
    fn parse(comment: &str) -> Option<Self> {
        crate::dbmark::parse(PREFIX, comment)
    }

    /// The process making the copy is gone (only a process on this machine can be asked).
    fn abandoned(&self) -> bool {
        crate::dbmark::maker_gone(self.pid, &self.host)
    }
}

/// The statement that clears the marker once the copy has taken its name.
pub fn clear_on(database: &str) -> String {
    format!("COMMENT ON DATABASE {} IS NULL", quote_ident(database))
}

/// Settles what a killed restore in place of `url`'s database left, and says what it did:
/// - killed between the two renames (the database is missing, its copy complete): the copy
///   takes the name, so the restore the person asked for is finished;
/// - killed before the swap (the database still there, maybe barred from connections): the
///   half-made copy is dropped and the database opened again, as if the restore never ran.
///
/// Nothing is touched while the process that made the copy still runs, and nothing whose
/// marker this console cannot vouch for (said instead).
pub async fn recover(url: &DatabaseUrl, seal: &Seal) -> Vec<String> {
    let current = url.database().to_string();
    let Some(mut c) = maintenance(url).await else {
        return Vec::new();
    };
    let copies = crate::dbmark::marked(&mut c, PREFIX).await;
    let present: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&current)
            .fetch_one(&mut c)
            .await
            .unwrap_or(true);
    let mut done = Vec::new();
    for row in copies {
        let fresh = row.name.clone();
        if fresh == current {
            // A finished swap whose marker was not cleared (its tag was made for the copy's
            // name): the live database, never dropped, so the comment alone goes.
            if crate::dbmark::parse::<Marker>(PREFIX, &row.comment)
                .is_some_and(|m| m.current == current)
            {
                let _ = c.execute(clear_on(&current).as_str()).await;
            }
            continue;
        }
        let named = crate::dbmark::named_for(&current, "restoring", &fresh);
        let m = match crate::dbmark::check::<Marker>(seal, PREFIX, &row, named) {
            Ok(m) if m.current == current => m,
            Ok(_) => continue,
            Err(not_ours) => {
                // Said only where a marker of ours would have been acted on.
                if not_ours
                    .marker
                    .as_ref()
                    .is_some_and(|m| m.current == current && (!present || m.abandoned()))
                {
                    done.push(not_ours.left_alone(&fresh, "restore"));
                }
                continue;
            }
        };
        if !present {
            // The first rename happens only after the restore completed without errors.
            let finish = async {
                c.execute(crate::db::rename_database_sql(&fresh, &current).as_str())
                    .await?;
                c.execute(clear_on(&current).as_str()).await?;
                c.execute(crate::db::allow_connections_sql(&m.previous, true).as_str())
                    .await?;
                Ok::<_, sqlx::Error>(())
            };
            match finish.await {
                Ok(()) => done.push(format!(
                    "A restore in place was interrupted during its swap: finished it, so \"{current}\" is the restored database and the one before it is \"{}\".",
                    m.previous
                )),
                Err(e) => done.push(format!(
                    "A restore in place was interrupted during its swap and could not be finished ({e}): the restored database is \"{fresh}\" and the previous one \"{}\"; rename \"{fresh}\" to \"{current}\" by hand.",
                    m.previous
                )),
            }
            break;
        }
        if m.abandoned() {
            let undo = async {
                c.execute(crate::db::allow_connections_sql(&current, true).as_str())
                    .await?;
                c.execute(
                    format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        quote_ident(&fresh)
                    )
                    .as_str(),
                )
                .await?;
                Ok::<_, sqlx::Error>(())
            };
            match undo.await {
                Ok(()) => done.push(format!(
                    "A restore in place was interrupted before its swap (process {} is gone): dropped its copy \"{fresh}\"; \"{current}\" was not changed.",
                    m.pid
                )),
                Err(e) => done.push(format!(
                    "A restore in place was interrupted before its swap and its copy \"{fresh}\" could not be dropped ({e}): drop it by hand; \"{current}\" was not changed."
                )),
            }
        }
    }
    c.close().await.ok();
    done
}

const NEW_PREFIX: &str = "holomush-admin restore into a new database in progress: ";

/// Who is filling a new database (`restore --into`, a test restore's scratch): from its
/// `CREATE DATABASE` until pg_restore has finished with it, so a half-restored database a
/// `kill -9` left is never taken for a complete one.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct NewMarker {
    /// The database of the console's URL (the one whose console sweeps it).
    pub of: String,
    pub pid: u32,
    pub host: String,
}

impl NewMarker {
    pub fn mine(of: &str) -> Self {
        Self {
            of: of.to_string(),
            pid: std::process::id(),
            host: crate::joblock::hostname(),
        }
    }

    pub fn comment_on(&self, seal: &Seal, target: &str) -> String {
        crate::dbmark::comment_sql(seal, NEW_PREFIX, target, self)
    }
}

/// Drops the new databases that a killed restore into them left half-filled (their maker
/// is gone), and says what it dropped. One still being filled, or by another machine, stays,
/// and so does one whose marker this console cannot vouch for (said instead). Its name is
/// whatever the person chose, so only the tag and the owner tell.
pub async fn sweep_new(url: &DatabaseUrl, seal: &Seal) -> Vec<String> {
    let Some(mut c) = maintenance(url).await else {
        return Vec::new();
    };
    let marked = crate::dbmark::marked(&mut c, NEW_PREFIX).await;
    let mut done = Vec::new();
    for row in marked {
        let target = row.name.clone();
        let ours = |m: &NewMarker| {
            m.of == url.database()
                && target != url.database()
                && crate::dbmark::maker_gone(m.pid, &m.host)
        };
        let m = match crate::dbmark::check::<NewMarker>(seal, NEW_PREFIX, &row, true) {
            Ok(m) if ours(&m) => m,
            Ok(_) => continue,
            Err(not_ours) => {
                if not_ours.marker.as_ref().is_some_and(ours) {
                    done.push(not_ours.left_alone(&target, "restore"));
                }
                continue;
            }
        };
        let dropped = c
            .execute(
                format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_ident(&target)
                )
                .as_str(),
            )
            .await;
        done.push(match dropped {
            Ok(_) => format!(
                "A restore into \"{target}\" was interrupted (process {} is gone): dropped the half-restored database; run the restore again.",
                m.pid
            ),
            Err(e) => format!(
                "A restore into \"{target}\" was interrupted (process {} is gone) and the half-restored database could not be dropped ({e}): drop it by hand.",
                m.pid
            ),
        });
    }
    c.close().await.ok();
    done
}

/// A connection to some database of the server other than the one that may be missing or
/// barred: the managed one when it takes connections, else `postgres`, else `template1`.
async fn maintenance(url: &DatabaseUrl) -> Option<PgConnection> {
    for db in [url.database(), "postgres", "template1"] {
        let Ok(target) = url.with_database(db) else {
            continue;
        };
        match PgConnection::connect_with(&target.connect_options()).await {
            Ok(c) => return Some(c),
            Err(e) => {
                let code = e
                    .as_database_error()
                    .and_then(|d| d.code().map(|c| c.to_string()));
                // Missing (3D000), barred (55000) or not ours to enter (42501): try the next.
                if !matches!(code.as_deref(), Some("3D000" | "55000" | "42501")) {
                    return None;
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_reads_back_from_its_comment_even_with_quotes_in_names() {
        let m = Marker::new("holo'mush", "holo'mush_before_restore_1");
        let dir = std::env::temp_dir().join(format!(
            "holomush-interrupted-{}",
            crate::auth::random_token().get(..10).unwrap_or("x")
        ));
        let seal = crate::seal::Seal::load_or_create(&dir).expect("key");
        let _ = std::fs::remove_dir_all(&dir);
        let sql = m.comment_on(&seal, "holo'mush_restoring_1");
        assert!(sql.starts_with("COMMENT ON DATABASE \"holo'mush_restoring_1\" IS '"));
        let text = format!("{PREFIX}{}", serde_json::to_string(&m).expect("json"));
        assert_eq!(Marker::parse(&text), Some(m));
        assert_eq!(Marker::parse("a comment of someone else's"), None);
    }
}
