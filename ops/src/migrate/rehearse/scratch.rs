//! The scratch database a rehearsal runs on: named after the live one, created on the same
//! server, marked with its maker (pid and host) in its database comment from the moment it
//! exists, and dropped whatever happens. A rehearsal killed before it could drop its copy
//! leaves the mark; the next rehearsal or console start drops copies whose maker is gone,
//! when [`crate::dbmark::check`] vouches for the mark (any other is reported and kept).

use serde::{Deserialize, Serialize};
use sqlx::{Connection, Executor, PgConnection};

use crate::conninfo::DatabaseUrl;
use crate::db::quote_ident;
use crate::seal::Seal;

const PREFIX: &str = "holomush-admin rehearsal scratch copy: ";

/// Who made a scratch copy, and of which database.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Marker {
    pub of: String,
    pub pid: u32,
    pub host: String,
}

impl Marker {
    fn mine(of: &str) -> Self {
        Self {
            of: of.to_string(),
            pid: std::process::id(),
            host: crate::joblock::hostname(),
        }
    }

    /// The statement that puts the marker on `scratch`, tagged with the console's key.
    pub fn comment_on(&self, seal: &Seal, scratch: &str) -> String {
        crate::dbmark::comment_sql(seal, PREFIX, scratch, self)
    }

    #[cfg(test)]
    fn parse(comment: &str) -> Option<Self> {
        crate::dbmark::parse(PREFIX, comment)
    }

    /// Its maker is gone (only a process on this machine can be asked).
    fn abandoned(&self) -> bool {
        crate::dbmark::maker_gone(self.pid, &self.host)
    }
}

/// `<db>_rehearse_<YYYYmmdd_HHMMSS>`, short enough for PostgreSQL's 63 bytes.
pub fn name_for(live: &str) -> String {
    let stem: String = live.chars().take(30).collect();
    format!(
        "{stem}_rehearse_{}",
        chrono::Local::now().format("%Y%m%d_%H%M%S")
    )
}

async fn connect(url: &DatabaseUrl) -> Result<PgConnection, String> {
    PgConnection::connect_with(&url.connect_options())
        .await
        .map_err(|e| crate::db::describe_error(&e, url))
}

/// Creates the empty scratch database and marks it at once.
pub async fn create(url: &DatabaseUrl, seal: &Seal, scratch: &str) -> Result<(), String> {
    let mut c = connect(url).await?;
    c.execute(format!("CREATE DATABASE {}", quote_ident(scratch)).as_str())
        .await
        .map_err(|e| {
            format!("The scratch database \"{scratch}\" could not be created ({e}): the role needs CREATEDB to rehearse. Nothing was changed.")
        })?;
    let marked = c
        .execute(
            Marker::mine(url.database())
                .comment_on(seal, scratch)
                .as_str(),
        )
        .await;
    if let Err(e) = marked {
        let _ = c
            .execute(
                format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_ident(scratch)
                )
                .as_str(),
            )
            .await;
        return Err(format!(
            "The scratch database \"{scratch}\" could not be marked as the rehearsal's ({e}), so it was dropped again. Nothing was changed."
        ));
    }
    c.close().await.ok();
    Ok(())
}

/// Drops the scratch database, ending any session still on it, through the live
/// database's connection (never touching its contents).
pub async fn drop(url: &DatabaseUrl, scratch: &str) -> Result<(), String> {
    let mut c = connect(url).await?;
    c.execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(scratch)).as_str())
        .await
        .map_err(|e| {
            format!("The scratch database \"{scratch}\" could not be dropped ({e}): drop it by hand (DROP DATABASE \"{scratch}\").")
        })?;
    c.close().await.ok();
    Ok(())
}

/// Drops the scratch copies of `url`'s database whose maker has gone (a killed rehearsal);
/// says what it dropped. Copies of a running rehearsal, or made on another machine, stay, and
/// so does a copy whose mark this console cannot vouch for (said instead).
pub async fn sweep(url: &DatabaseUrl, seal: &Seal) -> Vec<String> {
    let Ok(mut c) = connect(url).await else {
        return Vec::new();
    };
    let marked = crate::dbmark::marked(&mut c, PREFIX).await;
    let mut done = Vec::new();
    for row in marked {
        let scratch = row.name.clone();
        let ours =
            |m: &Marker| m.of == url.database() && m.abandoned() && scratch != url.database();
        let named = crate::dbmark::named_for(url.database(), "rehearse", &scratch);
        let m = match crate::dbmark::check::<Marker>(seal, PREFIX, &row, named) {
            Ok(m) if ours(&m) => m,
            Ok(_) => continue,
            Err(not_ours) => {
                if not_ours.marker.as_ref().is_some_and(ours) {
                    done.push(not_ours.left_alone(&scratch, "rehearsal"));
                }
                continue;
            }
        };
        let dropped = c
            .execute(
                format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_ident(&scratch)
                )
                .as_str(),
            )
            .await;
        done.push(match dropped {
            Ok(_) => format!(
                "Dropped the scratch database \"{scratch}\" left by a rehearsal that was stopped (process {} is gone).",
                m.pid
            ),
            Err(e) => format!(
                "The scratch database \"{scratch}\" left by a stopped rehearsal could not be dropped ({e}): drop it by hand."
            ),
        });
    }
    c.close().await.ok();
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_postgres_and_marks_read_back() {
        let n = name_for(&"x".repeat(63));
        assert!(n.len() <= 63, "{n}");
        assert!(n.starts_with(&format!("{}_rehearse_", "x".repeat(30))));
        let m = Marker::mine("holo'mush");
        let text = format!("{PREFIX}{}", serde_json::to_string(&m).expect("json"));
        assert_eq!(Marker::parse(&text), Some(m));
        assert_eq!(Marker::parse("someone else's comment"), None);
    }
}
