//! The role an archive's SQL runs as. pg_dump archives are SQL: a table's CHECK constraint
//! or default can call a function that runs, while pg_restore loads the rows, anything the
//! connected role may do. So an archive is restored by a login role made for the job that
//! owns only the database being made — no superuser, CREATEDB or CREATEROLE, no other
//! database, no membership — as PostgreSQL's documentation advises for dumps one does not
//! trust. Everything that reads the copy while it is being checked (row counts, a
//! rehearsal's migrations) connects as that role too. When the database is kept, it is
//! handed back to the console's role and the job role is dropped.
//!
//! `HOLOMUSH_ADMIN_RESTORE_AS=console-role` restores with the console's own role instead:
//! the operator's words, for a role that may not create roles.

use sqlx::{Connection, Executor, PgConnection};

use super::BackupError;
use crate::conninfo::DatabaseUrl;
use crate::db::quote_ident;

/// The name every job role starts with: the doctor and a person can tell them apart.
pub const ROLE_PREFIX: &str = "holomush_restore_";

/// Whose powers an archive's SQL runs with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RestoreAs {
    /// A login role made for the job that owns only the database being made.
    #[default]
    JobRole,
    /// The console's own role (`HOLOMUSH_ADMIN_RESTORE_AS=console-role`).
    ConsoleRole,
}

impl RestoreAs {
    pub const VARIABLE: &'static str = "HOLOMUSH_ADMIN_RESTORE_AS";

    pub const CHOICES: &'static str = "job-role (the default: archives run under a role that owns only the database being made) or console-role (archives run with the console's own role)";

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "" | "job-role" => Some(Self::JobRole),
            "console-role" => Some(Self::ConsoleRole),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::JobRole => "job-role",
            Self::ConsoleRole => "console-role",
        }
    }
}

/// A database being filled from an archive, and who fills it.
pub struct Guest {
    /// The URL of whoever made the database (the console's, or a target server's).
    admin: DatabaseUrl,
    target: String,
    /// The job role, when there is one (`RestoreAs::JobRole`).
    role: Option<String>,
    url: DatabaseUrl,
}

async fn connect(url: &DatabaseUrl) -> Result<PgConnection, BackupError> {
    PgConnection::connect_with(&url.connect_options())
        .await
        .map_err(|e| BackupError::Tool(crate::db::describe_error(&e, url)))
}

fn denied(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "42501")
}

impl Guest {
    /// Makes the job role and gives it `target` (created, empty, owned by `admin`'s role).
    /// On failure nothing is left but `target`, which the caller drops.
    pub async fn admit(
        admin: &DatabaseUrl,
        target: &str,
        restore_as: RestoreAs,
    ) -> Result<Guest, BackupError> {
        let on_target = admin
            .with_database(target)
            .map_err(|e| BackupError::Tool(e.to_string()))?;
        if restore_as == RestoreAs::ConsoleRole {
            return Ok(Guest {
                admin: admin.clone(),
                target: target.to_string(),
                role: None,
                url: on_target,
            });
        }
        let token = crate::auth::random_token();
        // The maker's pid in the name: a role a killed console left is told from one in use.
        let role = format!(
            "{ROLE_PREFIX}{}_{}",
            std::process::id(),
            token.get(..12).unwrap_or("x")
        );
        let password = crate::auth::random_token();
        let url = on_target
            .as_role(&role, &password)
            .map_err(|e| BackupError::Tool(e.to_string()))?;
        let mut c = connect(admin).await?;
        // A day is far longer than any restore; a role a killed console left behind
        // cannot log in after it.
        let until = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
        // INHERIT: its one membership, pg_database_owner of its database, gives it the
        // public schema on 15 (NOINHERIT would leave it without).
        let create = format!(
            "CREATE ROLE {} LOGIN INHERIT CONNECTION LIMIT 64 VALID UNTIL '{until}' PASSWORD '{}'",
            quote_ident(&role),
            scram_verifier(&password)
        );
        if let Err(e) = c.execute(create.as_str()).await {
            c.close().await.ok();
            let who = admin.user();
            return Err(if denied(&e) {
                BackupError::Refused(format!(
                    "An archive is restored under a role made for the job that owns only the new database, and the role \"{who}\" may not create roles: grant it once with ALTER ROLE \"{who}\" CREATEROLE (as a superuser), or set {}=console-role to run archives with \"{who}\"'s own powers. Nothing was restored.",
                    RestoreAs::VARIABLE
                ))
            } else {
                BackupError::Tool(format!(
                    "The role to restore under could not be made ({e}). Nothing was restored."
                ))
            });
        }
        // Which console's it is: a sweep only ever looks at roles made for its own database.
        let _ = c
            .execute(
                format!(
                    "COMMENT ON ROLE {} IS '{}'",
                    quote_ident(&role),
                    made_for(admin.database()).replace('\'', "''")
                )
                .as_str(),
            )
            .await;
        let guest = Guest {
            admin: admin.clone(),
            target: target.to_string(),
            role: Some(role.clone()),
            url,
        };
        // The console's role joins the job role (never the other way): PostgreSQL asks
        // that of whoever gives it a database, and of REASSIGN OWNED when it is kept.
        let handed = async {
            let grant = format!("GRANT {} TO CURRENT_USER", quote_ident(&role));
            // 16 and newer say INHERIT per grant (the role's own default may be NOINHERIT);
            // older servers know only the plain form, which inherits.
            if let Err(e) = c
                .execute(format!("{grant} WITH INHERIT TRUE, SET TRUE").as_str())
                .await
            {
                if e.as_database_error().and_then(|d| d.code()).as_deref() != Some("42601") {
                    return Err(e);
                }
                c.execute(grant.as_str()).await?;
            }
            c.execute(
                format!(
                    "ALTER DATABASE {} OWNER TO {}",
                    quote_ident(target),
                    quote_ident(&role)
                )
                .as_str(),
            )
            .await?;
            Ok::<_, sqlx::Error>(())
        }
        .await;
        c.close().await.ok();
        if let Err(e) = handed {
            guest.drop_role().await;
            return Err(BackupError::Tool(format!(
                "Database \"{target}\" could not be given to the role made to restore it ({e}). Nothing was restored."
            )));
        }
        Ok(guest)
    }

    /// What pg_restore, the row counts and a rehearsal connect with.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The role the archive runs as, for the job's log.
    pub fn who(&self) -> String {
        match &self.role {
            Some(role) => format!(
                "the role \"{role}\", made for this job, which owns only \"{}\"",
                self.target
            ),
            None => format!(
                "the console's own role \"{}\" ({}=console-role)",
                self.admin.user(),
                RestoreAs::VARIABLE
            ),
        }
    }

    /// The database stays: its settings are cleared, it and everything in it go back to
    /// the console's role, and the job role is dropped.
    pub async fn keep(self) -> Result<(), BackupError> {
        let Some(role) = self.role.clone() else {
            return Ok(());
        };
        let target = self.target.clone();
        let failed = |e: &dyn std::fmt::Display| {
            BackupError::Tool(format!(
                "Database \"{target}\" was restored, but could not be handed back from the role \"{role}\" ({e}): as the console's role run REASSIGN OWNED BY \"{role}\" TO CURRENT_USER in it, then DROP ROLE \"{role}\"."
            ))
        };
        let mut c = connect(&self.admin).await.map_err(|e| failed(&e))?;
        // Settings the archive gave its database (a search_path, say) would apply to
        // every later session, the console's included: they go first, from outside.
        let outside = async {
            c.execute(
                format!(
                    "ALTER DATABASE {} OWNER TO CURRENT_USER",
                    quote_ident(&target)
                )
                .as_str(),
            )
            .await?;
            c.execute(format!("ALTER DATABASE {} RESET ALL", quote_ident(&target)).as_str())
                .await?;
            Ok::<_, sqlx::Error>(())
        }
        .await;
        c.close().await.ok();
        outside.map_err(|e| failed(&e))?;
        let inside = self.admin.with_database(&target).map_err(|e| failed(&e))?;
        // Inside, with a search_path the archive cannot have prepared.
        let options = inside
            .connect_options()
            .options([("search_path", "pg_catalog")]);
        let mut c = PgConnection::connect_with(&options)
            .await
            .map_err(|e| failed(&crate::db::describe_error(&e, &inside)))?;
        let moved = async {
            c.execute(format!("REASSIGN OWNED BY {} TO CURRENT_USER", quote_ident(&role)).as_str())
                .await?;
            // What is left is privileges granted to the role: gone with it.
            c.execute(format!("DROP OWNED BY {}", quote_ident(&role)).as_str())
                .await?;
            Ok::<_, sqlx::Error>(())
        }
        .await;
        c.close().await.ok();
        moved.map_err(|e| failed(&e))?;
        self.drop_role().await;
        Ok(())
    }

    /// The database was dropped (or never filled): the job role goes too.
    pub async fn leave(self) {
        self.drop_role().await;
    }

    async fn drop_role(&self) {
        let Some(role) = &self.role else {
            return;
        };
        if let Ok(mut c) = connect(&self.admin).await {
            let _ = c
                .execute(format!("DROP ROLE IF EXISTS {}", quote_ident(role)).as_str())
                .await;
            c.close().await.ok();
        }
    }
}

/// The comment a job role carries: the database of the console that made it.
fn made_for(database: &str) -> String {
    format!("holomush-admin restore role, made for {database}")
}

/// The pid in a job role's name.
fn maker_of(role: &str) -> Option<u32> {
    role.strip_prefix(ROLE_PREFIX)?
        .split('_')
        .next()?
        .parse()
        .ok()
}

/// Drops the job roles a killed console left behind (its databases are swept first): those
/// made for this console's database, that the console's role is a member of, made by a
/// process of this machine that is gone, more than a minute ago. A role that still owns something cannot be dropped and stays.
pub async fn sweep(admin: &DatabaseUrl) -> Vec<String> {
    let Ok(mut c) = connect(admin).await else {
        return Vec::new();
    };
    let candidates: Vec<String> = sqlx::query_scalar(
        "SELECT rolname::text FROM pg_roles
          WHERE starts_with(rolname, $1) AND pg_has_role(current_user, oid, 'MEMBER')
            AND shobj_description(oid, 'pg_authid') = $2
            AND rolvaliduntil < now() + interval '1 day' - interval '1 minute'",
    )
    .bind(ROLE_PREFIX)
    .bind(made_for(admin.database()))
    .fetch_all(&mut c)
    .await
    .unwrap_or_default();
    let mut done = Vec::new();
    for role in candidates {
        let gone = maker_of(&role)
            .is_some_and(|pid| crate::dbmark::maker_gone(pid, &crate::joblock::hostname()));
        if !gone {
            continue;
        }
        if c.execute(format!("DROP ROLE {}", quote_ident(&role)).as_str())
            .await
            .is_ok()
        {
            done.push(format!(
                "Dropped the restore role \"{role}\" that a stopped restore left behind."
            ));
        }
    }
    c.close().await.ok();
    done
}

/// PostgreSQL's SCRAM-SHA-256 verifier of `password` (RFC 5802/7677, as `\password` and
/// libpq's PQencryptPasswordConn make it): the role's password never reaches the server
/// in clear, so no statement log can show it.
fn scram_verifier(password: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    use rand::RngCore;
    use sha2::{Digest, Sha256};
    const ITERATIONS: u32 = 4096;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, ITERATIONS, &mut salted);
    let keyed = |text: &[u8]| {
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&salted)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(text);
        mac.finalize().into_bytes()
    };
    let client_key = keyed(b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = keyed(b"Server Key");
    format!(
        "SCRAM-SHA-256${ITERATIONS}:{}${}:{}",
        b64.encode(salt),
        b64.encode(stored_key),
        b64.encode(server_key)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_is_spelled_out() {
        assert_eq!(RestoreAs::parse(""), Some(RestoreAs::JobRole));
        assert_eq!(RestoreAs::parse("job-role"), Some(RestoreAs::JobRole));
        assert_eq!(
            RestoreAs::parse("console-role"),
            Some(RestoreAs::ConsoleRole)
        );
        assert_eq!(RestoreAs::parse("superuser"), None);
    }

    #[test]
    fn a_role_names_its_maker() {
        assert_eq!(maker_of("holomush_restore_4242_0a1b2c3d4e5f"), Some(4242));
        assert_eq!(maker_of("holomush_restore_x_0a1b"), None);
        assert_eq!(maker_of("other_4242_0a1b"), None);
    }

    #[test]
    fn a_verifier_has_scrams_shape_and_no_password() {
        let v = scram_verifier("s3cret pass");
        assert!(v.starts_with("SCRAM-SHA-256$4096:"), "{v}");
        assert!(!v.contains("s3cret"));
        let (_, keys) = v
            .split_once('$')
            .and_then(|(_, r)| r.split_once('$'))
            .expect("a verifier has two $ signs");
        assert_eq!(keys.split(':').count(), 2);
    }
}
