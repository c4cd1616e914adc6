//! A store in memory, for unit tests of what sits above the store: the folder's rules and
//! sentences without a disk. Nothing survives the value, so nothing is ever left to sweep.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{busy, closed, missing, raced, taken};
use super::{LocalCopy, Reader, SetWriter, Store, Stored, TempFile};
use crate::backup::archive::check_name;
use crate::backup::{BackupError, Manifest};

const PLACE: &str = "memory";

#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    archives: BTreeMap<String, Held>,
    /// Sidecars, kept apart from the archives as files beside them are: one may outlive its
    /// archive, and a store does not judge whether it describes it.
    manifests: BTreeMap<String, Manifest>,
    writing: BTreeSet<String>,
}

struct Held {
    bytes: Arc<[u8]>,
    modified: DateTime<Utc>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// An archive that arrived other than through this store's writers, as a file copied
    /// into the folder by hand or another process's writer finishing first: it replaces
    /// any archive of that name and ignores writers in progress.
    pub fn put(&self, name: &str, bytes: &[u8]) -> Result<(), BackupError> {
        check_name(name)?;
        self.lock().archives.insert(
            name.to_string(),
            Held {
                bytes: Arc::from(bytes),
                modified: Utc::now(),
            },
        );
        Ok(())
    }

    // The lock is never held across an await, and no update panics half-way, so a poisoned
    // lock still guards consistent state.
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn bytes(&self, name: &str) -> Result<Arc<[u8]>, BackupError> {
        check_name(name)?;
        self.lock()
            .archives
            .get(name)
            .map(|held| held.bytes.clone())
            .ok_or_else(|| missing(name, PLACE))
    }
}

/// One archive as the sentences name it: "x.dump in memory".
fn named(name: &str) -> String {
    format!("{name} in {PLACE}")
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn stored(state: &State, name: &str, held: &Held) -> Stored {
    Stored {
        name: name.to_string(),
        size: held.bytes.len() as u64,
        modified: held.modified,
        manifest: state.manifests.get(name).cloned(),
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn location(&self) -> String {
        PLACE.to_string()
    }

    fn place(&self) -> String {
        PLACE.to_string()
    }

    fn named(&self, name: &str) -> String {
        named(name)
    }

    async fn list(&self) -> Result<Vec<Stored>, BackupError> {
        let state = self.lock();
        Ok(state
            .archives
            .iter()
            .map(|(name, held)| stored(&state, name, held))
            .collect())
    }

    async fn stat(&self, name: &str) -> Result<Stored, BackupError> {
        check_name(name)?;
        let state = self.lock();
        state
            .archives
            .get(name)
            .map(|held| stored(&state, name, held))
            .ok_or_else(|| missing(name, PLACE))
    }

    async fn create(&self, name: &str) -> Result<Box<dyn SetWriter>, BackupError> {
        check_name(name)?;
        let mut state = self.lock();
        if state.archives.contains_key(name) {
            return Err(taken(&named(name)));
        }
        if !state.writing.insert(name.to_string()) {
            return Err(busy(&named(name)));
        }
        state.manifests.remove(name);
        Ok(Box::new(MemoryWriter {
            state: self.state.clone(),
            name: name.to_string(),
            bytes: Vec::new(),
            hasher: Sha256::new(),
            staged: None,
            finished: false,
        }))
    }

    async fn open(&self, name: &str) -> Result<(u64, Reader), BackupError> {
        let bytes = self.bytes(name)?;
        Ok((bytes.len() as u64, Box::pin(std::io::Cursor::new(bytes))))
    }

    async fn write_manifest(&self, name: &str, m: &Manifest) -> Result<(), BackupError> {
        check_name(name)?;
        self.lock().manifests.insert(name.to_string(), m.clone());
        Ok(())
    }

    async fn delete(&self, name: &str) -> Result<(), BackupError> {
        check_name(name)?;
        let mut state = self.lock();
        if state.archives.remove(name).is_none() {
            return Err(missing(name, PLACE));
        }
        state.manifests.remove(name);
        Ok(())
    }

    async fn local(&self, name: &str) -> Result<LocalCopy, BackupError> {
        let bytes = self.bytes(name)?;
        Ok(LocalCopy::temporary(TempFile::holding(&bytes).await?))
    }

    async fn sweep(&self) -> Vec<String> {
        Vec::new()
    }
}

struct MemoryWriter {
    state: Arc<Mutex<State>>,
    name: String,
    bytes: Vec<u8>,
    hasher: Sha256,
    /// Set by `staged`: the bytes on disk, and no more writing.
    staged: Option<TempFile>,
    finished: bool,
}

#[async_trait]
impl SetWriter for MemoryWriter {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), BackupError> {
        if self.staged.is_some() {
            return Err(closed());
        }
        self.bytes.extend_from_slice(chunk);
        self.hasher.update(chunk);
        Ok(())
    }

    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    async fn staged(&mut self) -> Result<&Path, BackupError> {
        if self.staged.is_none() {
            self.staged = Some(TempFile::holding(&self.bytes).await?);
        }
        match &self.staged {
            Some(temp) => Ok(temp.path()),
            None => Err(closed()),
        }
    }

    async fn finish(mut self: Box<Self>) -> Result<String, BackupError> {
        self.finished = true;
        let mut state = lock(&self.state);
        state.writing.remove(&self.name);
        if state.archives.contains_key(&self.name) {
            return Err(raced(&named(&self.name)));
        }
        let bytes: Arc<[u8]> = Arc::from(std::mem::take(&mut self.bytes));
        state.archives.insert(
            self.name.clone(),
            Held {
                bytes,
                modified: Utc::now(),
            },
        );
        Ok(hex::encode(std::mem::take(&mut self.hasher).finalize()))
    }
}

impl Drop for MemoryWriter {
    fn drop(&mut self) {
        if !self.finished {
            lock(&self.state).writing.remove(&self.name);
        }
    }
}
