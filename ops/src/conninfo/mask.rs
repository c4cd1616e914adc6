//! Passwords kept out of sight: a URL shown masked, and free text masked by its shape
//! and by every password this process has parsed.

use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock};

use super::{encode, DatabaseUrl};

impl DatabaseUrl {
    /// The URL as given, every password value replaced by `replacement`.
    pub fn with_password_as(&self, replacement: &str) -> String {
        let mut out = self.raw.clone();
        let mut spans = self.secret_spans.clone();
        spans.sort_by_key(|r| std::cmp::Reverse(r.start));
        for span in spans {
            if span.start < span.end {
                out.replace_range(span, replacement);
            }
        }
        out
    }

    /// The URL as given with its password as `****`.
    pub fn masked(&self) -> String {
        self.with_password_as("****")
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.masked())
    }
}

/// Passwords this process has seen, so text that holds one outside a URL (an error a
/// server or a tool echoed) is masked too. Short ones, and ones equal to the user or
/// database name, are left out: masking them would blank ordinary words.
#[derive(Default)]
struct Secrets {
    /// The configuration's own passwords (DATABASE_URL): they come from the operator's
    /// environment, never from typed input, so they are kept for the life of the process
    /// whatever number of typed URLs follow.
    pinned: Vec<String>,
    /// Passwords of every other URL parsed (a typed doctor or target URL): a signed-in
    /// user can type any number, so only the newest [`MAX_SECRETS`] are kept.
    typed: VecDeque<String>,
}

fn secrets() -> &'static Mutex<Secrets> {
    static SECRETS: OnceLock<Mutex<Secrets>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Secrets::default()))
}

const MAX_SECRETS: usize = 64;

/// The forms a password is worth masking in: as written (the URL's raw text, which with an
/// unencoded `@` holds more than libpq took as the password), decoded and encoded.
fn forms(written: &[&str], names: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in written {
        for s in [w.to_string(), encode(w)] {
            if s.chars().count() >= 4 && !names.contains(&s.as_str()) && !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

pub(super) fn remember_secret(written: &[&str], names: &[&str]) {
    let Ok(mut list) = secrets().lock() else {
        return;
    };
    for s in forms(written, names) {
        if list.pinned.contains(&s) || list.typed.contains(&s) {
            continue;
        }
        // The oldest typed one goes: never a pinned one, whatever its length.
        if list.typed.len() >= MAX_SECRETS {
            list.typed.pop_front();
        }
        list.typed.push_back(s);
    }
}

impl DatabaseUrl {
    /// Marks this URL's password as the configuration's own: free text is masked of it
    /// for the life of the process, however many typed URLs are parsed after it.
    pub fn pinned(self) -> Self {
        let written = self.secrets_as_written();
        let refs: Vec<&str> = written.iter().map(String::as_str).collect();
        if let Ok(mut list) = secrets().lock() {
            for s in forms(&refs, &[&self.user, &self.database]) {
                list.typed.retain(|t| *t != s);
                if !list.pinned.contains(&s) {
                    list.pinned.push(s);
                }
            }
        }
        self
    }

    /// The password decoded and every secret span's text as written in the URL.
    pub(super) fn secrets_as_written(&self) -> Vec<String> {
        let mut out: Vec<String> = self.password.iter().cloned().collect();
        for span in &self.secret_spans {
            if let Some(text) = self.raw.get(span.clone()) {
                out.push(text.to_string());
            }
        }
        out
    }
}

/// Masks every password in free text: in anything that looks like a connection URL —
/// even one that does not parse — in `password=` parameters, and any password of a
/// URL this process has parsed. When in doubt it masks more, never less.
pub fn mask_text(text: &str) -> String {
    mask_known(&mask_structural(text))
}

/// The masking by shape alone: URLs and `password=` parameters.
pub(super) fn mask_structural(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // This URL's authority cannot reach past the next URL in the text.
        let bound = tail.find("://").unwrap_or(tail.len());
        let segment = &tail[..bound];
        // A password may hold '/', spaces or quotes when the URL is malformed: take the
        // last '@' of the segment, so all of it is masked.
        let at = segment.rfind('@');
        let colon = segment.find(':');
        match (colon, at) {
            (Some(c), Some(a)) if c < a && !segment[..c].contains(['/', ' ', '?']) => {
                out.push_str(&segment[..c]);
                out.push_str(":****");
                rest = &tail[a..];
            }
            _ => {
                // No password in the authority: copy up to where the next URL starts.
                out.push_str(segment);
                rest = &tail[bound..];
            }
        }
    }
    out.push_str(rest);
    mask_password_params(&out)
}

fn mask_password_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.to_ascii_lowercase().find("password=") {
        let (head, tail) = rest.split_at(pos + "password=".len());
        out.push_str(head);
        out.push_str("****");
        // A quoted value (key=value strings) runs to its closing quote.
        let end = if let Some(q) = tail.strip_prefix('\'') {
            q.find('\'').map_or(tail.len(), |i| i + 2)
        } else {
            tail.find(['&', ' ', '"', '\'']).unwrap_or(tail.len())
        };
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn mask_known(text: &str) -> String {
    let Ok(list) = secrets().lock() else {
        return text.to_string();
    };
    // Longest first, so a secret inside another is not half-masked.
    let mut all: Vec<&String> = list.pinned.iter().chain(list.typed.iter()).collect();
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in all {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "****");
        }
    }
    out
}
