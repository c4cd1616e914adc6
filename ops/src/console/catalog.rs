//! Reads of the backup store for the pages, the CLI and the file routes: none of them opens
//! the backup folder itself, so a store that is not a folder changes nothing here.

use crate::backup::archive::ArchiveRef;
use crate::backup::store::Reader;
use crate::model::{ArchiveContents, Manifest};

use super::{Console, ConsoleError};

impl Console {
    /// Every archive of the store, newest first, as the catalog describes them.
    pub async fn backups(&self) -> Result<Vec<Manifest>, ConsoleError> {
        Ok(crate::backup::catalog::list_trusted(self.store.as_ref(), &self.seal).await?)
    }

    /// Where the archives live, as the pages name it (the backup folder's path).
    pub fn backup_place(&self) -> String {
        self.store.place()
    }

    /// The bare name of the archive a person named (a name, or on the CLI a path).
    pub async fn archive_name<'a>(
        &self,
        archive: impl Into<ArchiveRef<'a>>,
    ) -> Result<String, ConsoleError> {
        Ok(self.archive(archive.into()).await?.name)
    }

    /// What an archive holds, grouped by section, from its table of contents.
    pub async fn backup_contents(&self, name: &str) -> Result<ArchiveContents, ConsoleError> {
        let found = self.archive(ArchiveRef::Name(name)).await?;
        let local = found.local(self.store.as_ref()).await?;
        let toc = crate::backup::contents::toc(local.path()).await?;
        Ok(ArchiveContents {
            file: found.name,
            groups: toc.entries.into_iter().collect(),
        })
    }

    /// An archive's bytes for a download, and their count.
    pub async fn open_backup(&self, name: &str) -> Result<(u64, Reader), ConsoleError> {
        Ok(self.store.open(name).await?)
    }
}
