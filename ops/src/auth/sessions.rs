//! Sessions, kept in the data directory by the sha256 of their cookie (the file holds no
//! usable token). Each carries a fingerprint of the console password it was opened with, so
//! changing HOLOMUSH_ADMIN_PASSWORD and restarting ends every session; an unused session
//! ends after the idle timeout; "sign out everywhere" ends them all.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{digest, random_token};
use crate::config::Secret;

pub const SESSION_COOKIE: &str = "holomush_session";
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// The last use of a session is written to disk at most this often.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    pub actor: String,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub from: String,
    /// The last request made with it (sessions written before this field: `created`).
    #[serde(default)]
    pub last_seen: Option<DateTime<Utc>>,
    /// [`password_fingerprint`] when it was opened (older sessions have none, and end).
    #[serde(default)]
    pub fingerprint: String,
}

/// A keyed digest of the console password (or of "no password": the one-time link), with a
/// key kept in the data folder: sessions can tell a changed password without the file
/// holding anything a password could be guessed from offline without that key.
pub fn password_fingerprint(key: &[u8], password: Option<&Secret>) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC takes a key of any length.
        Err(_) => return String::new(),
    };
    match password {
        Some(p) => {
            mac.update(b"password\0");
            mac.update(p.expose().as_bytes());
        }
        None => mac.update(b"one-time link\0"),
    }
    hex::encode(mac.finalize().into_bytes())
}

pub struct SessionStore {
    path: PathBuf,
    fingerprint: String,
    idle: Duration,
    sessions: Mutex<HashMap<String, Session>>,
}

impl SessionStore {
    pub const FILE_NAME: &'static str = "sessions.json";
    pub const KEY_FILE_NAME: &'static str = "session.key";

    /// Loads the sessions that outlived a restart (an unreadable file starts empty), keeping
    /// only those opened with this password. Also returns how many were ended for that.
    pub fn open(
        data_dir: &Path,
        password: Option<&Secret>,
        idle: Duration,
    ) -> std::io::Result<(Self, usize)> {
        let key = load_or_create_key(&data_dir.join(Self::KEY_FILE_NAME))?;
        let fingerprint = password_fingerprint(&key, password);
        let path = data_dir.join(Self::FILE_NAME);
        let mut sessions: HashMap<String, Session> = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let before = sessions.len();
        sessions.retain(|_, s| s.fingerprint == fingerprint);
        let ended = before - sessions.len();
        let store = Self {
            path,
            fingerprint,
            idle,
            sessions: Mutex::new(sessions),
        };
        if ended > 0 {
            let sessions = store.lock();
            store.save(&sessions)?;
        }
        Ok((store, ended))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Returns the cookie value for a new session.
    pub fn create(&self, actor: &str, from: IpAddr) -> std::io::Result<String> {
        let token = random_token();
        let now = Utc::now();
        let expires =
            now + chrono::Duration::from_std(SESSION_TTL).unwrap_or(chrono::Duration::hours(12));
        let mut sessions = self.lock();
        sessions.retain(|_, s| self.alive(s, now));
        sessions.insert(
            hex::encode(digest(&token)),
            Session {
                actor: actor.to_string(),
                created: now,
                expires,
                from: from.to_string(),
                last_seen: Some(now),
                fingerprint: self.fingerprint.clone(),
            },
        );
        self.save(&sessions)?;
        Ok(token)
    }

    fn alive(&self, s: &Session, now: DateTime<Utc>) -> bool {
        let idle = chrono::Duration::from_std(self.idle).unwrap_or(chrono::Duration::MAX);
        s.expires > now
            && s.fingerprint == self.fingerprint
            && s.last_seen.unwrap_or(s.created) + idle > now
    }

    /// The session of this cookie, if it has not ended; using it counts as activity.
    pub fn get(&self, token: &str) -> Option<Session> {
        let now = Utc::now();
        let key = hex::encode(digest(token));
        let mut sessions = self.lock();
        let alive = self.alive(sessions.get(&key)?, now);
        if !alive {
            sessions.remove(&key);
            if let Err(e) = self.save(&sessions) {
                tracing::warn!("could not save the sessions: {e}");
            }
            return None;
        }
        let session = sessions.get_mut(&key)?;
        let written = session.last_seen.unwrap_or(session.created);
        session.last_seen = Some(now);
        let found = session.clone();
        if now - written >= TOUCH_EVERY {
            if let Err(e) = self.save(&sessions) {
                tracing::warn!("could not save the sessions: {e}");
            }
        }
        Some(found)
    }

    pub fn remove(&self, token: &str) -> std::io::Result<Option<Session>> {
        let mut sessions = self.lock();
        let removed = sessions.remove(&hex::encode(digest(token)));
        if removed.is_some() {
            self.save(&sessions)?;
        }
        Ok(removed)
    }

    /// Sign out everywhere: ends every session; returns how many there were.
    pub fn remove_all(&self) -> std::io::Result<usize> {
        let mut sessions = self.lock();
        let now = Utc::now();
        let open = sessions.values().filter(|s| self.alive(s, now)).count();
        sessions.clear();
        self.save(&sessions)?;
        Ok(open)
    }

    fn save(&self, sessions: &HashMap<String, Session>) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            crate::files::create_private_dir(dir)?;
        }
        let body = serde_json::to_vec(sessions).map_err(std::io::Error::other)?;
        crate::files::write_atomic(&self.path, &body)
    }
}

/// 32 random bytes in hex, made the first time; a damaged key is replaced (which only ends
/// the sessions).
fn load_or_create_key(path: &Path) -> std::io::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            if let Ok(key) = hex::decode(text.trim()) {
                if key.len() == 32 {
                    return Ok(key);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(dir) = path.parent() {
        crate::files::create_private_dir(dir)?;
    }
    let token = random_token();
    crate::files::write_atomic(path, token.as_bytes())?;
    hex::decode(token).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const IDLE: Duration = Duration::from_secs(1800);

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("holomush-sessions-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    use crate::auth::tests::secret;

    #[test]
    fn sessions_survive_a_restart_and_hold_no_token_nor_password() {
        let dir = temp_dir("restart");
        let pw = secret("s3cret-password");
        let (store, ended) = SessionStore::open(&dir, Some(&pw), IDLE).expect("open");
        assert_eq!(ended, 0);
        let token = store.create("admin", HOME).expect("create");
        let raw = std::fs::read_to_string(dir.join(SessionStore::FILE_NAME)).expect("read");
        assert!(!raw.contains(&token));
        assert!(!raw.contains("s3cret-password"));
        let (store, ended) = SessionStore::open(&dir, Some(&pw), IDLE).expect("reopen");
        assert_eq!(ended, 0);
        assert_eq!(
            store.get(&token).map(|s| s.actor),
            Some("admin".to_string())
        );
        assert!(store.get("forged").is_none());
        store.remove(&token).expect("remove");
        let (store, _) = SessionStore::open(&dir, Some(&pw), IDLE).expect("reopen");
        assert!(store.get(&token).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_password_change_ends_the_sessions_opened_before_it() {
        let dir = temp_dir("password");
        let (store, _) = SessionStore::open(&dir, Some(&secret("old")), IDLE).expect("open");
        let token = store.create("admin", HOME).expect("create");
        let (store, ended) = SessionStore::open(&dir, Some(&secret("new")), IDLE).expect("reopen");
        assert_eq!(ended, 1);
        assert!(store.get(&token).is_none());
        let (_, ended) = SessionStore::open(&dir, None, IDLE).expect("reopen");
        assert_eq!(ended, 0, "nothing was left to end");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_idle_session_ends_and_sign_out_everywhere_ends_all() {
        let dir = temp_dir("idle");
        let pw = secret("pw");
        let (store, _) = SessionStore::open(&dir, Some(&pw), IDLE).expect("open");
        let idle = store.create("admin", HOME).expect("create");
        let busy = store.create("admin", HOME).expect("create");
        {
            let mut sessions = store.lock();
            let long_ago = Utc::now() - chrono::Duration::minutes(31);
            if let Some(s) = sessions.get_mut(&hex::encode(digest(&idle))) {
                s.last_seen = Some(long_ago);
            }
        }
        assert!(store.get(&idle).is_none(), "31 minutes unused");
        assert!(store.get(&busy).is_some());
        let other = store.create("admin", HOME).expect("create");
        assert_eq!(store.remove_all().expect("remove all"), 2);
        assert!(store.get(&busy).is_none());
        assert!(store.get(&other).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
