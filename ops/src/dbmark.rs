//! A database the console is in the middle of making (a restore's fresh copy, a rehearsal's
//! scratch copy) carries a marker in its database comment: what it is for and which process
//! makes it. It is the journal of that work, kept where the databases are, so the next
//! console can tell an abandoned one from one still being made.
//!
//! Any session of the console's role can write a database comment, and the console drops or
//! renames what a marker names. So a marker counts only when three things hold: its tag (an
//! HMAC under the console's key, over the database's name and the marker) verifies, so it
//! was written by this console onto this very database; the name is one this console gives
//! that kind of database; and the database is owned by the console's role or by a restore
//! role of its. Anything else is reported and left alone.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::PgConnection;

use crate::db::quote_ident;
use crate::seal::Seal;

/// The roles a restore makes for its job (see `backup::guest`): the database being filled
/// is theirs until it is handed back, and the console's role is a member of them.
const RESTORE_ROLE_PREFIX: &str = "holomush_restore_";

/// What a marker's tag covers: the database it is on and its JSON, as written.
fn tagged(database: &str, json: &str) -> Vec<u8> {
    crate::seal::fields(&[database, json])
}

/// `COMMENT ON DATABASE` with `prefix`, the tag and the marker as JSON.
pub fn comment_sql(seal: &Seal, prefix: &str, database: &str, marker: &impl Serialize) -> String {
    let json = serde_json::to_string(marker).unwrap_or_default();
    let tag = seal.tag(prefix, &tagged(database, &json));
    let text = format!("{prefix}{tag} {json}");
    format!(
        "COMMENT ON DATABASE {} IS '{}'",
        quote_ident(database),
        text.replace('\'', "''")
    )
}

/// The marker in a database comment as written, sealed or not (for reading only: nothing
/// is done on the strength of it without [`check`]).
pub fn parse<T: DeserializeOwned>(prefix: &str, comment: &str) -> Option<T> {
    let rest = comment.strip_prefix(prefix)?;
    let json = match rest.split_once(' ') {
        Some((_, json)) if !rest.starts_with('{') => json,
        _ => rest,
    };
    serde_json::from_str(json).ok()
}

/// The process that made it is gone; only a process on this machine can be asked, so a
/// marker from another host is never taken for abandoned.
pub fn maker_gone(pid: u32, host: &str) -> bool {
    host == crate::joblock::hostname() && !crate::process::pid_alive(pid)
}

/// A database whose comment starts with a marker's prefix, and who owns it.
#[derive(Debug)]
pub struct Marked {
    pub name: String,
    pub comment: String,
    pub owner: String,
    /// The console's role itself, or a restore role it is a member of.
    pub owner_ok: bool,
    /// The console's role (`current_user`), for the sentence.
    pub me: String,
}

/// The databases of the server whose comment starts with `prefix`, with that comment and
/// their owner.
pub async fn marked(c: &mut PgConnection, prefix: &str) -> Vec<Marked> {
    let rows: Vec<(String, String, String, bool, String)> = sqlx::query_as(
        "SELECT d.datname, shobj_description(d.oid, 'pg_database'), pg_get_userbyid(d.datdba),
                pg_get_userbyid(d.datdba) = current_user
                  OR (left(pg_get_userbyid(d.datdba), length($2)) = $2
                      AND pg_has_role(current_user, d.datdba, 'MEMBER')),
                current_user::text
           FROM pg_database d
          WHERE shobj_description(d.oid, 'pg_database') LIKE $1",
    )
    .bind(format!("{prefix}%"))
    .bind(RESTORE_ROLE_PREFIX)
    .fetch_all(c)
    .await
    .unwrap_or_default();
    rows.into_iter()
        .map(|(name, comment, owner, owner_ok, me)| Marked {
            name,
            comment,
            owner,
            owner_ok,
            me,
        })
        .collect()
}

/// A marker that does not count, what it says (when it reads), and why it does not count.
#[derive(Debug)]
pub struct NotOurs<T> {
    pub marker: Option<T>,
    why: String,
    /// The tag verified: the console wrote it, but the database is not as it made it.
    sealed: bool,
}

impl<T> NotOurs<T> {
    /// The sentence saying it was left alone; `what` is the marker's kind ("restore").
    pub fn left_alone(&self, database: &str, what: &str) -> String {
        if self.sealed {
            format!(
                "Database \"{database}\" carries a {what} marker of this console's, but {}: it was left alone; drop it by hand if it is not yours.",
                self.why
            )
        } else {
            format!(
                "Database \"{database}\" carries a {what} marker this console did not write ({}): it was left alone; drop it by hand if it is not yours.",
                self.why
            )
        }
    }
}

/// The marker of `row` when it counts: its tag verifies under `seal` for this database,
/// `name_ok` (the name is one the console gives such a database) and the owner is the
/// console's role or a restore role of its.
pub fn check<T: DeserializeOwned>(
    seal: &Seal,
    prefix: &str,
    row: &Marked,
    name_ok: bool,
) -> Result<T, NotOurs<T>> {
    let marker = parse::<T>(prefix, &row.comment);
    let rest = row.comment.strip_prefix(prefix).unwrap_or_default();
    let not_ours = |marker, why: &str, sealed| NotOurs {
        marker,
        why: why.to_string(),
        sealed,
    };
    let Some((tag, json)) = rest.split_once(' ').filter(|_| !rest.starts_with('{')) else {
        return Err(not_ours(
            marker,
            "it carries no tag: written by hand or by an older console",
            false,
        ));
    };
    if !seal.verify(prefix, &tagged(&row.name, json), tag) {
        return Err(not_ours(
            marker,
            "its tag was not made with this console's key for this database",
            false,
        ));
    }
    let Some(marker) = marker else {
        return Err(not_ours(None, "it does not read", false));
    };
    if !name_ok {
        return Err(not_ours(
            Some(marker),
            "its name is not one the console gives such a database",
            true,
        ));
    }
    if !row.owner_ok {
        let why = format!(
            "it is owned by \"{}\", not by the console's role \"{}\" or a restore role of its",
            row.owner, row.me
        );
        return Err(not_ours(Some(marker), &why, true));
    }
    Ok(marker)
}

/// `name` is `<first 30 characters of live>_<kind>_<YYYYmmdd_HHMMSS>`, as the console names
/// a restore's fresh copy (`restoring`) or a rehearsal's scratch copy (`rehearse`).
pub fn named_for(live: &str, kind: &str, name: &str) -> bool {
    let stem: String = live.chars().take(30).collect();
    let Some(stamp) = name.strip_prefix(&format!("{stem}_{kind}_")) else {
        return false;
    };
    let b = stamp.as_bytes();
    b.len() == 15
        && b.iter().enumerate().all(|(i, c)| {
            if i == 8 {
                *c == b'_'
            } else {
                c.is_ascii_digit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct M {
        of: String,
    }

    fn row(name: &str, sql: &str, owner_ok: bool) -> Marked {
        // The comment as the server keeps it: the text between the statement's quotes.
        let quoted = sql.split_once(" IS '").map(|(_, t)| t).unwrap_or_default();
        Marked {
            name: name.to_string(),
            comment: quoted.trim_end_matches('\'').replace("''", "'"),
            owner: "mallory".to_string(),
            owner_ok,
            me: "holo".to_string(),
        }
    }

    #[test]
    fn a_marker_counts_only_sealed_on_its_own_database_named_and_owned_as_made() {
        let key = std::env::temp_dir().join(format!(
            "holomush-dbmark-{}",
            crate::auth::random_token().get(..10).unwrap_or("x")
        ));
        let seal = Seal::load_or_create(&key).expect("key");
        let m = M {
            of: "holo'mush".into(),
        };
        let sql = comment_sql(&seal, "P: ", "a", &m);
        assert_eq!(
            check::<M>(&seal, "P: ", &row("a", &sql, true), true).ok(),
            Some(M {
                of: "holo'mush".into()
            })
        );
        let copied = check::<M>(&seal, "P: ", &row("b", &sql, true), true).expect_err("copied");
        assert_eq!(
            copied.left_alone("b", "restore"),
            "Database \"b\" carries a restore marker this console did not write (its tag was not made with this console's key for this database): it was left alone; drop it by hand if it is not yours."
        );
        assert_eq!(
            copied.marker,
            Some(M {
                of: "holo'mush".into()
            })
        );
        let hand = row("a", "x IS 'P: {\"of\":\"holo\"}'", true);
        let e = check::<M>(&seal, "P: ", &hand, true).expect_err("untagged");
        assert_eq!(
            e.left_alone("a", "restore"),
            "Database \"a\" carries a restore marker this console did not write (it carries no tag: written by hand or by an older console): it was left alone; drop it by hand if it is not yours."
        );
        let e = check::<M>(&seal, "P: ", &row("a", &sql, false), true).expect_err("owner");
        assert_eq!(
            e.left_alone("a", "restore"),
            "Database \"a\" carries a restore marker of this console's, but it is owned by \"mallory\", not by the console's role \"holo\" or a restore role of its: it was left alone; drop it by hand if it is not yours."
        );
        assert!(check::<M>(&seal, "P: ", &row("a", &sql, true), false).is_err());
        let _ = std::fs::remove_dir_all(&key);
    }

    #[test]
    fn names_the_console_gives() {
        assert!(named_for(
            "holomush",
            "restoring",
            "holomush_restoring_20250101_120000"
        ));
        assert!(!named_for(
            "holomush",
            "restoring",
            "holomush_restoring_2025"
        ));
        assert!(!named_for(
            "holomush",
            "restoring",
            "other_restoring_20250101_120000"
        ));
        assert!(!named_for(
            "holomush",
            "rehearse",
            "holomush_restoring_20250101_120000"
        ));
        let long = "x".repeat(63);
        assert!(named_for(
            &long,
            "rehearse",
            &format!("{}_rehearse_20250101_120000", "x".repeat(30))
        ));
    }
}
