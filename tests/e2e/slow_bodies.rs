//! Request bodies that arrive too slowly are cut with 408, uploads and JSON alike.

use std::time::{Duration, Instant};

use crate::on_both_backends;
use crate::support::{TestApp, blob_files};

/// Paced at 1 KiB/s over 2 s windows: each window must bring 2 KiB.
const PACE: [(&str, &str); 2] = [("BODY_MIN_BYTES_PER_SEC", "1024"), ("BODY_RATE_WINDOW_SECS", "2")];

/// A body sent as `chunks` copies of `chunk`, one every `every`, after a first `head`.
fn paced_body(head: &'static [u8], chunk: &'static [u8], every: Duration, chunks: usize) -> reqwest::Body {
    let stream = futures_util::stream::unfold(0, move |sent| async move {
        if sent > chunks {
            return None;
        }
        let bytes = if sent == 0 {
            head
        } else {
            tokio::time::sleep(every).await;
            chunk
        };
        Some((Ok::<_, std::io::Error>(bytes), sent + 1))
    });
    reqwest::Body::wrap_stream(stream)
}

async fn upload(app: &TestApp, token: &str, client: &str, name: &str, body: reqwest::Body) -> crate::support::Reply {
    let request = app
        .http
        .post(app.url(&format!("/v1/documents?client_id={client}&name={name}")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body);
    app.exchange(request).await
}

on_both_backends! {
    async fn a_trickled_upload_is_cut_and_leaves_nothing_while_a_slow_steady_one_succeeds(backend) {
        let app = TestApp::spawn_with(backend, &PACE).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let blob_root = app.data_dir.join("blobs");
        let before = blob_files(&blob_root);

        // 100 bytes every 250 ms is 400 B/s, for a minute if nobody stops it.
        let started = Instant::now();
        let trickle = paced_body(b"%PDF-1.7\n", &[7; 100], Duration::from_millis(250), 240);
        let cut = upload(&app, &firm.owner_token, &client, "trickle.pdf", trickle).await;
        let took = started.elapsed();
        cut.assert_problem(408, "request_body_too_slow");
        println!("a trickled upload was cut after {took:?}");
        assert!(took < Duration::from_secs(2 + 8), "cut after {took:?}, the window is 2 s");
        app.wait_for_count("pending_blobs", 0).await;
        assert_eq!(app.count("documents"), 0);
        assert_eq!(blob_files(&blob_root), before, "no blob was left");

        // 1 KiB every 250 ms is 4 KiB/s, four times the minimum, over two windows and more.
        let steady = paced_body(b"%PDF-1.7\n", &[7; 1024], Duration::from_millis(250), 20);
        let kept = upload(&app, &firm.owner_token, &client, "steady.pdf", steady).await;
        assert_eq!(kept.status, 201, "{}", kept.body);
        assert_eq!(kept.body["size"], 9 + 20 * 1024);
        assert_eq!(app.count("documents"), 1);
    }

    async fn a_trickled_json_body_is_cut_too(backend) {
        let app = TestApp::spawn_with(backend, &PACE).await;
        let firm = app.firm("harbor").await;
        let trickle = paced_body(br#"{"kind": "person", "name": "Ada""#, b" ", Duration::from_millis(250), 240);
        let request = app
            .http
            .post(app.url("/v1/clients"))
            .bearer_auth(&firm.owner_token)
            .header("content-type", "application/json")
            .body(trickle);
        let clients = app.count("clients");
        let started = Instant::now();
        app.exchange(request).await.assert_problem(408, "request_body_too_slow");
        assert!(started.elapsed() < Duration::from_secs(2 + 8));
        assert_eq!(app.count("clients"), clients);
    }
}
