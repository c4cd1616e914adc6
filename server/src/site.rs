//! Finding the web assets (pkg/holomush-admin[.HASH].js, .wasm, .css) from any working
//! directory, and the names they have after `make build` gave them content hashes.

use std::path::{Path, PathBuf};

const OUTPUT: &str = "holomush-admin";
/// cargo-leptos writes the assets' content hashes here, beside the binary (Leptos's
/// `HydrationScripts` reads the same file).
const HASH_FILE: &str = "hash.txt";

/// Where the assets are and what they are called.
#[derive(Clone, Debug)]
pub struct Site {
    pub root: PathBuf,
    /// The names carry content hashes, so they may be cached for good.
    pub hashed: bool,
    /// `/pkg/holomush-admin[.HASH].css`
    pub stylesheet: String,
}

/// The hashes in `hash.txt` beside the running binary: (js, wasm, css).
fn hashes() -> Option<(String, String, String)> {
    let exe = std::env::current_exe().ok()?;
    let text = std::fs::read_to_string(exe.parent()?.join(HASH_FILE)).ok()?;
    let get = |key: &str| {
        text.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
    };
    Some((get("js")?, get("wasm")?, get("css")?))
}

/// The first folder that holds the built assets: `LEPTOS_SITE_ROOT`, then beside the
/// binary (`site/`, or `../site` as cargo-leptos lays out `target/`), then the build tree.
/// Hashed names are used when `hash.txt` is beside the binary and that folder holds them.
pub fn find() -> Result<Site, String> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(root) = std::env::var("LEPTOS_SITE_ROOT") {
        candidates.push(PathBuf::from(root));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        candidates.push(dir.join("site"));
        candidates.push(dir.join("../site"));
    }
    if let Some(root) = option_env!("HOLOMUSH_SITE_ROOT") {
        candidates.push(PathBuf::from(root));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site"));
    let hashes = hashes();
    for c in &candidates {
        let root = || c.canonicalize().unwrap_or_else(|_| c.clone());
        if let Some((js, _, css)) = &hashes {
            if c.join(format!("pkg/{OUTPUT}.{js}.js")).is_file() {
                return Ok(Site {
                    root: root(),
                    hashed: true,
                    stylesheet: format!("/pkg/{OUTPUT}.{css}.css"),
                });
            }
        }
        if c.join(format!("pkg/{OUTPUT}.js")).is_file() {
            return Ok(Site {
                root: root(),
                hashed: false,
                stylesheet: format!("/pkg/{OUTPUT}.css"),
            });
        }
    }
    Err(format!(
        "The console's web assets (pkg/{OUTPUT}.js) were not found in {}: build them with `make build`, or set LEPTOS_SITE_ROOT to the folder that holds pkg/.",
        candidates
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}
