//! Finding the web assets (pkg/holomush-admin.js, .wasm, .css) from any working directory.

use std::path::{Path, PathBuf};

const MARKER: &str = "pkg/holomush-admin.js";

/// The first folder that holds the built assets: `LEPTOS_SITE_ROOT`, then beside the
/// binary (`site/`, or `../site` as cargo-leptos lays out `target/`), then the build tree.
pub fn find_root() -> Result<PathBuf, String> {
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
    candidates
        .iter()
        .find(|c| c.join(MARKER).is_file())
        .map(|c| c.canonicalize().unwrap_or_else(|_| c.clone()))
        .ok_or_else(|| {
            format!(
                "The console's web assets ({MARKER}) were not found in {}: build them with `make build`, or set LEPTOS_SITE_ROOT to the folder that holds pkg/.",
                candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", ")
            )
        })
}
