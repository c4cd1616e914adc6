//! Who may use the console: the admin password (or a one-time start-up token),
//! sessions kept in the data directory, and a brake on guessing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::{password_hash::PasswordHash, Argon2, PasswordVerifier};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Secret;

pub const SESSION_COOKIE: &str = "holomush_session";
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Failures from one address before each further try has to wait.
pub const FREE_FAILURES: u32 = 5;
pub const MAX_WAIT: Duration = Duration::from_secs(300);
/// Failures older than this are forgotten.
pub const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// Compares without stopping at the first differing byte.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, PartialEq, Eq)]
pub enum LoginResult {
    Ok,
    Wrong,
    /// Too many failures from this address: wait this long.
    Throttled(Duration),
}

enum Check {
    Plain([u8; 32]),
    Argon2(String),
    /// No password configured: a token printed at start-up, good for one login.
    OneTime(Mutex<Option<[u8; 32]>>),
}

pub struct Authenticator {
    check: Check,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Authenticator {
    /// With no password, returns the one-time token to print as well.
    pub fn new(password: Option<&Secret>) -> (Self, Option<String>) {
        let (check, token) = match password {
            Some(p) if p.expose().starts_with("$argon2") => {
                (Check::Argon2(p.expose().to_string()), None)
            }
            Some(p) => (Check::Plain(digest(p.expose())), None),
            None => {
                let token = random_token();
                (
                    Check::OneTime(Mutex::new(Some(digest(&token)))),
                    Some(token),
                )
            }
        };
        (
            Self {
                check,
                failures: Mutex::new(HashMap::new()),
            },
            token,
        )
    }

    pub fn uses_password(&self) -> bool {
        !matches!(self.check, Check::OneTime(_))
    }

    pub fn login(&self, from: IpAddr, given: &str) -> LoginResult {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        failures.retain(|_, (_, last)| now.duration_since(*last) < FAILURE_MEMORY);
        if let Some((count, last)) = failures.get(&from) {
            let wait = wait_after(*count);
            let since = now.duration_since(*last);
            if since < wait {
                return LoginResult::Throttled(wait - since);
            }
        }
        if self.verify(given) {
            failures.remove(&from);
            LoginResult::Ok
        } else {
            let entry = failures.entry(from).or_insert((0, now));
            entry.0 += 1;
            entry.1 = now;
            LoginResult::Wrong
        }
    }

    fn verify(&self, given: &str) -> bool {
        match &self.check {
            Check::Plain(expected) => same(expected, &digest(given)),
            Check::Argon2(hash) => PasswordHash::new(hash)
                .map(|h| {
                    Argon2::default()
                        .verify_password(given.as_bytes(), &h)
                        .is_ok()
                })
                .unwrap_or(false),
            Check::OneTime(slot) => {
                let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
                match *slot {
                    Some(expected) if same(&expected, &digest(given)) => {
                        *slot = None;
                        true
                    }
                    _ => false,
                }
            }
        }
    }
}

/// How long an address must wait after `count` failures in a row.
pub fn wait_after(count: u32) -> Duration {
    if count < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doubling = (count - FREE_FAILURES).min(16);
    Duration::from_secs(1u64 << doubling).min(MAX_WAIT)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    pub actor: String,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub from: String,
}

/// Sessions by the sha256 of their cookie, so the file on disk holds no usable token.
pub struct SessionStore {
    path: PathBuf,
    sessions: Mutex<HashMap<String, Session>>,
}

impl SessionStore {
    pub const FILE_NAME: &'static str = "sessions.json";

    /// Loads the sessions that outlived a restart; an unreadable file starts empty.
    pub fn open(data_dir: &Path) -> Self {
        let path = data_dir.join(Self::FILE_NAME);
        let sessions: HashMap<String, Session> = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Self {
            path,
            sessions: Mutex::new(sessions),
        }
    }

    /// Returns the cookie value for a new session.
    pub fn create(&self, actor: &str, from: IpAddr) -> std::io::Result<String> {
        let token = random_token();
        let now = Utc::now();
        let expires =
            now + chrono::Duration::from_std(SESSION_TTL).unwrap_or(chrono::Duration::hours(12));
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(
            hex::encode(digest(&token)),
            Session {
                actor: actor.to_string(),
                created: now,
                expires,
                from: from.to_string(),
            },
        );
        self.save(&sessions)?;
        Ok(token)
    }

    pub fn get(&self, token: &str) -> Option<Session> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .get(&hex::encode(digest(token)))
            .filter(|s| s.expires > Utc::now())
            .cloned()
    }

    pub fn remove(&self, token: &str) -> std::io::Result<Option<Session>> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let removed = sessions.remove(&hex::encode(digest(token)));
        if removed.is_some() {
            self.save(&sessions)?;
        }
        Ok(removed)
    }

    fn save(&self, sessions: &HashMap<String, Session>) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            crate::files::create_private_dir(dir)?;
        }
        let body = serde_json::to_vec(sessions).map_err(std::io::Error::other)?;
        crate::files::write_atomic(&self.path, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn plain_password() {
        let (a, token) = Authenticator::new(Some(&secret("s3cret")));
        assert!(token.is_none());
        assert_eq!(a.login(HOME, "nope"), LoginResult::Wrong);
        assert_eq!(a.login(HOME, "s3cret"), LoginResult::Ok);
    }

    #[test]
    fn argon2_hash() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"saltsaltsalt").expect("salt");
        let hash = Argon2::default()
            .hash_password(b"s3cret", &salt)
            .expect("hash")
            .to_string();
        let (a, _) = Authenticator::new(Some(&secret(&hash)));
        assert_eq!(a.login(HOME, "s3cret"), LoginResult::Ok);
        assert_eq!(a.login(HOME, &hash), LoginResult::Wrong);
    }

    #[test]
    fn one_time_token_works_once() {
        let (a, token) = Authenticator::new(None);
        let token = token.expect("a token to print");
        assert_eq!(a.login(HOME, &token), LoginResult::Ok);
        assert_eq!(a.login(HOME, &token), LoginResult::Wrong);
    }

    #[test]
    fn repeated_failures_are_slowed_down() {
        let (a, _) = Authenticator::new(Some(&secret("s3cret")));
        for _ in 0..FREE_FAILURES {
            assert_eq!(a.login(HOME, "guess"), LoginResult::Wrong);
        }
        assert!(
            matches!(a.login(HOME, "s3cret"), LoginResult::Throttled(_)),
            "even the right password waits"
        );
        let other: IpAddr = "10.1.2.3".parse().expect("ip");
        assert_eq!(
            a.login(other, "s3cret"),
            LoginResult::Ok,
            "other addresses are not punished"
        );
        assert_eq!(wait_after(5), Duration::from_secs(1));
        assert_eq!(wait_after(8), Duration::from_secs(8));
        assert_eq!(wait_after(40), MAX_WAIT);
    }

    #[test]
    fn sessions_survive_a_restart_and_hold_no_token() {
        let dir = std::env::temp_dir().join(format!("holomush-sessions-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let token = SessionStore::open(&dir)
            .create("admin", HOME)
            .expect("create");
        let raw = std::fs::read_to_string(dir.join(SessionStore::FILE_NAME)).expect("read");
        assert!(!raw.contains(&token));
        let store = SessionStore::open(&dir);
        assert_eq!(
            store.get(&token).map(|s| s.actor),
            Some("admin".to_string())
        );
        assert!(store.get("forged").is_none());
        store.remove(&token).expect("remove");
        assert!(SessionStore::open(&dir).get(&token).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn secret(s: &str) -> Secret {
        crate::config::Config::from_lookup(|k| match k {
            "DATABASE_URL" => Some("postgres://h/db".to_string()),
            "HOLOMUSH_ADMIN_PASSWORD" => Some(s.to_string()),
            _ => None,
        })
        .ok()
        .and_then(|c| c.admin_password)
        .expect("a password")
    }
}
