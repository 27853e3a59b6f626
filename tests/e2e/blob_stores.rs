//! Both blob stores, through the same scenarios: a local folder, and S3 against a real S3
//! protocol server (`s3s-fs`) listening on 127.0.0.1 in the test process.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use sha2::{Digest, Sha256};
use vestibule_blobs::{BlobError, BlobSettings, BlobStore, PART_SIZE};

use crate::support::s3::{self, S3Server};

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vestibule-blobs-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Subject {
    store: BlobStore,
    /// Where the bytes land, to check that nothing is left behind.
    root: PathBuf,
}

async fn stores() -> Vec<(&'static str, Subject)> {
    let fs_root = scratch();
    let fs = BlobStore::new(&BlobSettings::Fs { path: fs_root.clone() }).unwrap();
    let server = S3Server::start().await;
    let s3 = BlobStore::new(&BlobSettings::S3 {
        bucket: s3::BUCKET.to_owned(),
        region: "us-east-1".to_owned(),
        endpoint: Some(server.endpoint.clone()),
        credentials: Some((s3::ACCESS_KEY.to_owned(), s3::SECRET_KEY.to_owned())),
        path_style: true,
    })
    .unwrap();
    vec![("fs", Subject { store: fs, root: fs_root }), ("s3", Subject { store: s3, root: server.root })]
}

/// `len` bytes of a repeating pattern, in chunks of `chunk` bytes.
fn body(len: usize, chunk: usize) -> (Vec<u8>, impl futures_util::Stream<Item = Result<Bytes, String>> + Unpin) {
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let chunks: Vec<Result<Bytes, String>> =
        bytes.chunks(chunk.max(1)).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    (bytes, stream::iter(chunks))
}

async fn read_all(store: &BlobStore, key: &str, range: Option<(u64, u64)>) -> Vec<u8> {
    let chunks: Vec<Bytes> = store.read(key, range).await.unwrap().try_collect().await.unwrap();
    chunks.concat()
}

/// Every regular file below `root`, ignoring the S3 server's metadata files.
fn files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[tokio::test]
async fn an_empty_file_and_a_multi_part_file_round_trip_with_their_digest() {
    for (name, subject) in stores().await {
        let store = &subject.store;
        let (_, empty) = body(0, 1);
        let stored = store.put("frm_a/doc_empty/v1", empty, 1024).await.unwrap();
        assert_eq!(stored.size, 0, "{name}");
        assert_eq!(stored.sha256, hex::encode(Sha256::digest(b"")), "{name}");
        assert!(read_all(store, "frm_a/doc_empty/v1", None).await.is_empty(), "{name}");

        // Two and a half parts, in odd-sized chunks, so parts straddle chunk boundaries.
        let len = PART_SIZE * 5 / 2;
        let (bytes, big) = body(len, 100_003);
        let stored = store.put("frm_a/doc_big/v1", big, len as u64).await.unwrap();
        assert_eq!(stored.size, len as u64, "{name}");
        assert_eq!(stored.sha256, hex::encode(Sha256::digest(&bytes)), "{name}");
        assert_eq!(stored.head, bytes[..vestibule_blobs::SNIFF_BYTES], "{name}");
        assert!(read_all(store, "frm_a/doc_big/v1", None).await == bytes, "{name}: read back differs");
    }
}

#[tokio::test]
async fn a_range_reads_only_those_bytes() {
    for (name, subject) in stores().await {
        let (bytes, data) = body(100_000, 4096);
        subject.store.put("frm_a/doc_r/v1", data, 1_000_000).await.unwrap();
        assert_eq!(read_all(&subject.store, "frm_a/doc_r/v1", Some((10, 19))).await, bytes[10..20], "{name}");
        assert_eq!(read_all(&subject.store, "frm_a/doc_r/v1", Some((99_990, 99_999))).await, bytes[99_990..], "{name}");
        assert_eq!(read_all(&subject.store, "frm_a/doc_r/v1", Some((0, 0))).await, bytes[..1], "{name}");
    }
}

#[tokio::test]
async fn an_oversize_or_interrupted_upload_leaves_nothing_behind() {
    for (name, subject) in stores().await {
        let before = files(&subject.root);
        let (_, big) = body(PART_SIZE + 10, 65_536);
        let error = subject.store.put("frm_a/doc_x/v1", big, PART_SIZE as u64).await.unwrap_err();
        assert!(matches!(error, BlobError::TooLarge { .. }), "{name}: {error}");

        let (_, data) = body(PART_SIZE * 2, 65_536);
        let broken = data.take(200).chain(stream::iter(vec![Err("connection reset by peer".to_owned())]));
        let error = subject.store.put("frm_a/doc_y/v1", broken, u64::MAX).await.unwrap_err();
        assert!(matches!(error, BlobError::Interrupted(_)), "{name}: {error}");

        assert!(matches!(subject.store.read("frm_a/doc_x/v1", None).await, Err(BlobError::NotFound)), "{name}");
        assert!(matches!(subject.store.read("frm_a/doc_y/v1", None).await, Err(BlobError::NotFound)), "{name}");
        let after: Vec<PathBuf> =
            files(&subject.root).into_iter().filter(|f| !f.to_string_lossy().contains(".s3s")).collect();
        let before: Vec<PathBuf> = before.into_iter().filter(|f| !f.to_string_lossy().contains(".s3s")).collect();
        assert_eq!(after, before, "{name}: an aborted upload left files");
    }
}

#[tokio::test]
async fn a_deleted_blob_is_gone_and_deleting_twice_is_fine() {
    for (name, subject) in stores().await {
        let (_, data) = body(10, 10);
        subject.store.put("frm_a/doc_d/v1", data, 100).await.unwrap();
        subject.store.delete("frm_a/doc_d/v1").await.unwrap();
        assert!(matches!(subject.store.read("frm_a/doc_d/v1", None).await, Err(BlobError::NotFound)), "{name}");
        subject.store.delete("frm_a/doc_d/v1").await.unwrap();
        let (_, data) = body(10, 10);
        assert!(matches!(subject.store.put("../escape", data, 100).await, Err(BlobError::InvalidKey)), "{name}");
    }
}

/// A body of one part that signals once the store has taken the part (written it, or sent it
/// to S3), then yields what `rest` sends, or waits forever when `rest` is `None`.
fn part_then(
    taken: tokio::sync::oneshot::Sender<()>,
    rest: Option<tokio::sync::mpsc::Receiver<Bytes>>,
) -> impl futures_util::Stream<Item = Result<Bytes, String>> + Unpin + Send + 'static {
    let first = stream::iter(vec![Ok(Bytes::from(vec![7_u8; PART_SIZE]))]);
    let then = stream::once(async move {
        let _ = taken.send(());
    })
    .filter_map(|()| async { None::<Result<Bytes, String>> });
    let rest = stream::unfold(rest, |rest| async move {
        let Some(mut rest) = rest else { return std::future::pending().await };
        rest.recv().await.map(|chunk| (Ok(chunk), Some(rest)))
    });
    Box::pin(first.chain(then).chain(rest))
}

#[tokio::test]
async fn the_sweep_removes_a_dead_upload_and_leaves_a_live_one_alone() {
    for (name, subject) in stores().await {
        let store = subject.store.clone();
        let (taken, dead_taken) = tokio::sync::oneshot::channel();
        let dead = tokio::spawn(async move { store.put("frm_a/doc_dead/v1", part_then(taken, None), u64::MAX).await });
        dead_taken.await.unwrap();
        // Dropped mid-upload, as a killed process would: no clean-up runs.
        dead.abort();
        let _ = dead.await;
        let leftovers = |root: &Path| {
            files(root)
                .into_iter()
                .filter(|f| {
                    let name = f.file_name().unwrap().to_string_lossy().into_owned();
                    f.parent().unwrap().ends_with(".incoming") || name.starts_with(".upload")
                })
                .count()
        };
        assert!(leftovers(&subject.root) > 0, "{name}: the dead upload left nothing to sweep");

        // Store timestamps may have whole seconds: the cutoff falls clearly between the two.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let cutoff = std::time::SystemTime::now();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (taken, live_taken) = tokio::sync::oneshot::channel();
        let (more, rest) = tokio::sync::mpsc::channel(1);
        let store = subject.store.clone();
        let live =
            tokio::spawn(async move { store.put("frm_a/doc_live/v1", part_then(taken, Some(rest)), u64::MAX).await });
        live_taken.await.unwrap();

        assert_eq!(subject.store.sweep_incomplete(cutoff).await.unwrap(), 1, "{name}");
        assert_eq!(subject.store.sweep_incomplete(cutoff).await.unwrap(), 0, "{name}: a second sweep finds nothing");
        more.send(Bytes::from_static(b"the end")).await.unwrap();
        drop(more);
        let stored = live.await.unwrap().unwrap();
        assert_eq!(stored.size, PART_SIZE as u64 + 7, "{name}: the live upload completes after the sweep");
        assert_eq!(read_all(&subject.store, "frm_a/doc_live/v1", None).await.len(), PART_SIZE + 7, "{name}");
        assert_eq!(leftovers(&subject.root), 0, "{name}: the dead upload's parts are gone");
    }
}
