//! Blobs as files below one folder. Uploads are written to `.incoming/` and renamed into
//! place once complete and synced, so a reader never sees half a file. A process that dies
//! mid-upload leaves its temporary file behind; [`FsStore::sweep_incoming`] removes those.

use std::io::{SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc::Receiver;

use crate::meter::Meter;
use crate::{BlobError, BlobStream, Stored};

const INCOMING: &str = ".incoming";
const READ_CHUNK: usize = 64 * 1024;
/// Received chunks waiting for each of the writer and hasher threads, at most.
const WRITE_QUEUE: usize = 16;

#[derive(Debug, Clone)]
pub struct FsStore {
    root: PathBuf,
}

impl FsStore {
    pub fn new(root: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root.join(INCOMING))
            .with_context(|| format!("creating the blob folder {}", root.display()))?;
        Ok(Self { root })
    }

    pub async fn put<S, E>(&self, key: &str, body: S, limit: u64) -> Result<Stored, BlobError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let temporary = self.root.join(INCOMING).join(uuid::Uuid::new_v4().simple().to_string());
        let written = write_temporary(&temporary, body, limit).await;
        let stored = match written {
            Ok(stored) => stored,
            Err(error) => {
                let _ = tokio::fs::remove_file(&temporary).await;
                return Err(error);
            }
        };
        let target = self.root.join(key);
        let placed = async {
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await.context("creating a blob folder")?;
            }
            tokio::fs::rename(&temporary, &target).await.context("moving a blob into place")
        }
        .await;
        if let Err(error) = placed {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(error.into());
        }
        Ok(stored)
    }

    /// Removes the temporary files of `.incoming/` last written before `cutoff`; returns how
    /// many. A live upload writes its file as each chunk arrives, so its modification time
    /// stays recent whichever instance sharing the folder writes it; a file untouched since
    /// `cutoff` belongs to an upload that died (or was cut) and can never be completed.
    pub async fn sweep_incoming(&self, cutoff: SystemTime) -> Result<usize, BlobError> {
        let mut entries = tokio::fs::read_dir(self.root.join(INCOMING)).await.context("listing `.incoming`")?;
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await.context("listing `.incoming`")? {
            let metadata = match entry.metadata().await {
                Ok(metadata) => metadata,
                // Renamed into place or removed since it was listed.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(anyhow::Error::new(error).context("reading an incoming file").into()),
            };
            if !metadata.is_file() || metadata.modified().context("an incoming file's modification time")? >= cutoff {
                continue;
            }
            match tokio::fs::remove_file(entry.path()).await {
                Ok(()) => removed += 1,
                // Another instance's sweep got there first.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(anyhow::Error::new(error).context("removing an incoming file").into()),
            }
        }
        Ok(removed)
    }

    pub async fn read(&self, key: &str, range: Option<(u64, u64)>) -> Result<BlobStream, BlobError> {
        let mut file = match tokio::fs::File::open(self.root.join(key)).await {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(BlobError::NotFound),
            Err(error) => return Err(anyhow::Error::new(error).context("opening a blob").into()),
        };
        let remaining = match range {
            Some((first, last)) => {
                file.seek(SeekFrom::Start(first)).await.context("seeking in a blob")?;
                last + 1 - first
            }
            None => file.metadata().await.context("reading a blob's size")?.len(),
        };
        let chunks = futures_util::stream::unfold((file, remaining), |(mut file, remaining)| async move {
            if remaining == 0 {
                return None;
            }
            let want = usize::try_from(remaining).unwrap_or(usize::MAX).min(READ_CHUNK);
            let mut buffer = vec![0; want];
            match file.read(&mut buffer).await {
                Ok(0) => None,
                Ok(read) => {
                    buffer.truncate(read);
                    Some((Ok(Bytes::from(buffer)), (file, remaining - read as u64)))
                }
                Err(error) => Some((Err(error), (file, 0))),
            }
        });
        Ok(chunks.boxed())
    }

    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.root.join(key)).await {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(anyhow::Error::new(error).context("deleting a blob").into()),
        }
    }
}

/// Receives the body here and hands each chunk to two blocking threads, one hashing and one
/// writing, so the multipart parse, the SHA-256 and the write run at once: hashing alone is
/// slower than the disk. The queues bound what waits in memory; a chunk is shared, not copied.
async fn write_temporary<S, E>(path: &Path, mut body: S, limit: u64) -> Result<Stored, BlobError>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    // Created before the body is read, so a sweep sees the upload from its start.
    let file = tokio::fs::File::create(path).await.context("creating a temporary blob file")?.into_std().await;
    let (to_writer, writer_queue) = tokio::sync::mpsc::channel(WRITE_QUEUE);
    let (to_hasher, hasher_queue) = tokio::sync::mpsc::channel(WRITE_QUEUE);
    let writer = tokio::task::spawn_blocking(move || write_chunks(file, writer_queue));
    let hasher = tokio::task::spawn_blocking(move || hash_chunks(hasher_queue));
    let mut meter = Meter::new(limit);
    let received = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| BlobError::Interrupted(e.to_string()))?;
            meter.add(&chunk)?;
            if to_hasher.send(chunk.clone()).await.is_err() || to_writer.send(chunk).await.is_err() {
                // A thread stopped: the writer's error (or the hasher's panic) says why.
                break;
            }
        }
        Ok::<_, BlobError>(())
    }
    .await;
    drop((to_writer, to_hasher));
    let written = writer.await.context("the blob writer stopped")?;
    let digest = hasher.await.context("the blob hasher stopped")?;
    received?;
    let file = written.context("writing a blob")?;
    tokio::fs::File::from_std(file).sync_all().await.context("syncing a blob")?;
    Ok(meter.finish(digest))
}

fn write_chunks(mut file: std::fs::File, mut queue: Receiver<Bytes>) -> std::io::Result<std::fs::File> {
    while let Some(chunk) = queue.blocking_recv() {
        file.write_all(&chunk)?;
    }
    Ok(file)
}

fn hash_chunks(mut queue: Receiver<Bytes>) -> Sha256 {
    let mut digest = Sha256::new();
    while let Some(chunk) = queue.blocking_recv() {
        digest.update(&chunk);
    }
    digest
}
