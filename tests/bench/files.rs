//! Large files through the API against the blob store used directly and against a raw copy
//! into a file (written and synced, as the store does): throughput, and how far the
//! process's peak memory rises above where it started (it must not follow the file's size).
//! Peak RSS is reset between runs through `/proc/self/clear_refs`.

use std::time::Instant;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use vestibule_blobs::BlobStore;

use crate::support::TestApp;

pub const SIZE: usize = 256 * 1024 * 1024;
const CHUNK: usize = 256 * 1024;

fn chunks() -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send + 'static {
    let chunk = Bytes::from(vec![0x5a_u8; CHUNK]);
    stream::iter((0..SIZE / CHUNK).map(move |_| Ok(chunk.clone())))
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

/// Resets the peak and returns the current resident size, in MiB.
fn reset_peak() -> f64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    status_kib("VmRSS:") as f64 / 1024.0
}

fn peak_above(start: f64) -> f64 {
    status_kib("VmHWM:") as f64 / 1024.0 - start
}

/// Prints the rate and returns it, in MiB/s.
fn report(what: &str, seconds: f64, peak: f64) -> f64 {
    let rate = (SIZE / (1024 * 1024)) as f64 / seconds;
    println!("{what:<44} {rate:>8.0} MiB/s {peak:>10.1} MiB peak above start");
    rate
}

/// The same chunks written to a file and synced: what an upload cannot beat.
async fn raw_copy(dir: &std::path::Path) -> f64 {
    use tokio::io::AsyncWriteExt;
    let path = dir.join("raw-copy.bin");
    let start = reset_peak();
    let began = Instant::now();
    let mut file = tokio::fs::File::create(&path).await.unwrap();
    let mut body = chunks();
    while let Some(chunk) = body.next().await {
        file.write_all(&chunk.unwrap()).await.unwrap();
    }
    file.sync_all().await.unwrap();
    let rate = report("raw copy into a file", began.elapsed().as_secs_f64(), peak_above(start));
    tokio::fs::remove_file(&path).await.unwrap();
    rate
}

pub async fn measure(app: &TestApp, token: &str, client_id: &str, store: &str) {
    let blobs = BlobStore::new(&vestibule_server::startup::blob_settings(&app.config)).unwrap();
    let raw = raw_copy(&app.data_dir).await;

    let start = reset_peak();
    let began = Instant::now();
    blobs.put("bench/direct/file", chunks(), u64::MAX).await.unwrap();
    report(&format!("{store}: direct put"), began.elapsed().as_secs_f64(), peak_above(start));

    let start = reset_peak();
    let began = Instant::now();
    let read = blobs
        .read("bench/direct/file", None)
        .await
        .unwrap()
        .try_fold(0_usize, |n, c| async move { Ok(n + c.len()) })
        .await
        .unwrap();
    assert_eq!(read, SIZE);
    report(&format!("{store}: direct read"), began.elapsed().as_secs_f64(), peak_above(start));

    let start = reset_peak();
    let began = Instant::now();
    let response = reqwest::Client::new()
        .post(app.url(&format!("/v1/documents?client_id={client_id}&name=large.bin")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(chunks()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let document: serde_json::Value = response.json().await.unwrap();
    let upload = report(&format!("{store}: POST /v1/documents"), began.elapsed().as_secs_f64(), peak_above(start));
    println!("{store}: upload = {:.2}× a raw copy", upload / raw);

    let start = reset_peak();
    let began = Instant::now();
    let id = document["id"].as_str().unwrap();
    let mut body = reqwest::Client::new()
        .get(app.url(&format!("/v1/documents/{id}/content")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .bytes_stream();
    let mut received = 0;
    while let Some(chunk) = body.next().await {
        received += chunk.unwrap().len();
    }
    assert_eq!(received, SIZE);
    report(&format!("{store}: GET /v1/documents/{{id}}/content"), began.elapsed().as_secs_f64(), peak_above(start));
}
