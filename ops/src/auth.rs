//! Who may use the console: the admin password (or a one-time start-up token), sessions
//! kept in the data directory, and a brake on guessing.

mod proxy;
mod sessions;
mod throttle;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::{password_hash::PasswordHash, Argon2, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Secret;

pub use proxy::client_address;
pub use sessions::{password_fingerprint, Session, SessionStore, SESSION_COOKIE, SESSION_TTL};
pub use throttle::{
    wait_after, AddrGroup, Reason, ThrottleReport, FAILURE_MEMORY, FREE_FAILURES, GLOBAL_FAILURES,
    GLOBAL_WINDOW, MAX_WAIT, REPORT_EVERY,
};

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
    /// Too many failures from this address (or from all): wait this long.
    Throttled(Duration),
}

enum Check {
    Plain([u8; 32]),
    Argon2(String),
    /// No password configured: a token printed at start-up, good for one login.
    OneTime(Mutex<Option<[u8; 32]>>),
}

impl Check {
    fn verify(&self, given: &str) -> bool {
        match self {
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

pub struct Authenticator {
    check: Arc<Check>,
    throttle: Mutex<throttle::Throttle>,
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
                check: Arc::new(check),
                throttle: Mutex::new(throttle::Throttle::default()),
            },
            token,
        )
    }

    pub fn uses_password(&self) -> bool {
        !matches!(*self.check, Check::OneTime(_))
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, throttle::Throttle> {
        self.throttle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The attempt is counted before the password is checked; argon2 then runs on a
    /// blocking thread with no lock held, so a flood neither stalls the async workers nor
    /// queues every other sign-in behind it.
    pub async fn login(&self, from: IpAddr, given: &str) -> LoginResult {
        let charge = match self.throttle().admit(from, Instant::now()) {
            Ok(charge) => charge,
            Err(wait) => return LoginResult::Throttled(wait),
        };
        let check = self.check.clone();
        let given = given.to_string();
        let right = tokio::task::spawn_blocking(move || check.verify(&given))
            .await
            .unwrap_or(false);
        if right {
            self.throttle().succeeded(charge);
            LoginResult::Ok
        } else {
            LoginResult::Wrong
        }
    }

    /// Whether a wrong password from `from` gets its own audit line (see
    /// [`crate::auth::throttle::Throttle::record_failure`]); otherwise it is summed into a
    /// report.
    pub fn record_failure(&self, from: IpAddr) -> bool {
        self.throttle().record_failure(from, Instant::now())
    }

    /// Refused attempts to record now: at most one report per address per minute.
    pub fn take_reports(&self) -> Vec<ThrottleReport> {
        self.throttle().take_reports(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn plain_password() {
        let (a, token) = Authenticator::new(Some(&secret("s3cret")));
        assert!(token.is_none());
        assert_eq!(a.login(HOME, "nope").await, LoginResult::Wrong);
        assert_eq!(a.login(HOME, "s3cret").await, LoginResult::Ok);
    }

    #[tokio::test]
    async fn argon2_hash() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"saltsaltsalt").expect("salt");
        let hash = Argon2::default()
            .hash_password(b"s3cret", &salt)
            .expect("hash")
            .to_string();
        let (a, _) = Authenticator::new(Some(&secret(&hash)));
        assert_eq!(a.login(HOME, "s3cret").await, LoginResult::Ok);
        assert_eq!(a.login(HOME, &hash).await, LoginResult::Wrong);
    }

    #[tokio::test]
    async fn one_time_token_works_once() {
        let (a, token) = Authenticator::new(None);
        let token = token.expect("a token to print");
        assert_eq!(a.login(HOME, &token).await, LoginResult::Ok);
        assert_eq!(a.login(HOME, &token).await, LoginResult::Wrong);
    }

    #[tokio::test]
    async fn repeated_failures_are_slowed_down_and_reported_not_recorded_each() {
        let (a, _) = Authenticator::new(Some(&secret("s3cret")));
        for _ in 0..FREE_FAILURES {
            assert_eq!(a.login(HOME, "guess").await, LoginResult::Wrong);
        }
        for _ in 0..50 {
            assert!(
                matches!(a.login(HOME, "s3cret").await, LoginResult::Throttled(_)),
                "even the right password waits"
            );
        }
        let other: IpAddr = "10.1.2.3".parse().expect("ip");
        assert_eq!(
            a.login(other, "s3cret").await,
            LoginResult::Ok,
            "other addresses are not punished"
        );
        let reports = a.take_reports();
        assert_eq!(
            reports.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["50 sign-in attempts from 127.0.0.1 refused without checking the password: too many failed sign-ins from this address"]
        );
        assert!(a.take_reports().is_empty(), "not again within the minute");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_cannot_slip_past_the_count() {
        let (a, _) = Authenticator::new(Some(&secret("s3cret")));
        let a = Arc::new(a);
        let tries: Vec<_> = (0..40)
            .map(|_| {
                let a = a.clone();
                tokio::spawn(async move { a.login(HOME, "guess").await })
            })
            .collect();
        let mut wrong = 0;
        for t in tries {
            if t.await.expect("join") == LoginResult::Wrong {
                wrong += 1;
            }
        }
        assert_eq!(wrong, FREE_FAILURES, "only the free tries were checked");
    }

    /// The console password `s`, as the configuration hands it over.
    pub(super) fn secret(s: &str) -> Secret {
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
