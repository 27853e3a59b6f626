//! Documents and folders on both blob stores: the local folder and S3 (an in-process
//! `s3s-fs` server). Uploads stream; downloads are attachments with `Range`.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::on_both_backends;
use crate::support::fixtures::Firm;
use crate::support::s3::{BUCKET, S3Server};
use crate::support::{Backend, Reply, TestApp, blob_files};

/// An app on one blob store, with where that store keeps its bytes.
struct Setup {
    app: TestApp,
    store: &'static str,
    blob_root: PathBuf,
    _s3: Option<S3Server>,
}

async fn setups(backend: Backend) -> Vec<Setup> {
    let app = TestApp::spawn(backend).await;
    let blob_root = app.data_dir.join("blobs");
    let s3 = S3Server::start().await;
    let settings = s3.settings();
    let overrides: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let s3_app = TestApp::spawn_with(backend, &overrides).await;
    let s3_root = s3.root.join(BUCKET);
    vec![
        Setup { app, store: "fs", blob_root, _s3: None },
        Setup { app: s3_app, store: "s3", blob_root: s3_root, _s3: Some(s3) },
    ]
}

async fn upload(app: &TestApp, token: &str, query: &str, bytes: Vec<u8>) -> Reply {
    app.send_raw(Method::POST, &format!("/v1/documents?{query}"), token, "application/octet-stream", bytes).await
}

/// A raw GET, for bodies that are not JSON.
async fn fetch(app: &TestApp, path: &str, token: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(app.url(path)).bearer_auth(token);
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    crate::support::open(request).await
}

fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    bytes.extend((0..len.saturating_sub(bytes.len())).map(|i| (i % 251) as u8));
    bytes
}

async fn client_id(app: &TestApp, firm: &Firm) -> String {
    app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned()
}

on_both_backends! {
    async fn a_document_uploads_and_downloads_whole_and_in_ranges(backend) {
        for Setup { app, store, .. } in setups(backend).await {
            let firm = app.firm("harbor").await;
            let client = client_id(&app, &firm).await;
            let bytes = pdf(100_000);
            let name = "..%2F..%2Fetc%2FSteuererkl%C3%A4rung%20%222026%22.pdf";
            let up = upload(&app, &firm.owner_token, &format!("client_id={client}&name={name}"), bytes.clone()).await;
            assert_eq!(up.status, 201, "{store}: {}", up.body);
            assert_eq!(up.body["name"], "Steuererklärung \"2026\".pdf", "{store}: only the last path segment is kept");
            assert_eq!(up.body["content_type"], "application/pdf", "{store}: detected from the bytes");
            assert_eq!(up.body["size"], 100_000);
            assert_eq!(up.body["sha256"], hex::encode(Sha256::digest(&bytes)));
            assert_eq!(up.body["visible_to_client"], false);
            assert_eq!(up.body["uploaded_by"], firm.owner_id);
            let id = up.id();
            assert_eq!(up.header("location"), Some(format!("/v1/documents/{id}").as_str()));

            let whole = fetch(&app, &format!("/v1/documents/{id}/content"), &firm.owner_token, None).await;
            assert_eq!(whole.status(), 200);
            let headers = whole.headers().clone();
            assert_eq!(headers["content-type"], "application/pdf");
            assert_eq!(headers["x-content-type-options"], "nosniff");
            assert_eq!(headers["accept-ranges"], "bytes");
            assert_eq!(headers["content-length"], "100000");
            assert_eq!(
                headers["content-disposition"],
                "attachment; filename=\"Steuererkl_rung _2026_.pdf\"; filename*=UTF-8''Steuererkl%C3%A4rung%20%222026%22.pdf"
            );
            assert!(whole.bytes().await.unwrap() == bytes, "{store}: the download differs");

            let part = fetch(&app, &format!("/v1/documents/{id}/content"), &firm.owner_token, Some("bytes=1000-1999")).await;
            assert_eq!(part.status(), 206);
            assert_eq!(part.headers()["content-range"], "bytes 1000-1999/100000");
            assert_eq!(part.bytes().await.unwrap(), bytes[1000..2000]);
            let tail = fetch(&app, &format!("/v1/documents/{id}/content"), &firm.owner_token, Some("bytes=-10")).await;
            assert_eq!(tail.bytes().await.unwrap(), bytes[99_990..]);
            let beyond = fetch(&app, &format!("/v1/documents/{id}/content"), &firm.owner_token, Some("bytes=100000-")).await;
            assert_eq!(beyond.status(), 416);
            assert_eq!(beyond.headers()["content-range"], "bytes */100000");
        }
    }

    async fn empty_and_multi_part_sized_files_round_trip(backend) {
        for Setup { app, store, .. } in setups(backend).await {
            let firm = app.firm("harbor").await;
            let client = client_id(&app, &firm).await;
            let empty = upload(&app, &firm.owner_token, &format!("client_id={client}&name=empty.txt"), Vec::new()).await;
            assert_eq!(empty.status, 201, "{store}: {}", empty.body);
            assert_eq!(empty.body["size"], 0);
            assert_eq!(empty.body["sha256"], hex::encode(Sha256::digest(b"")));
            let body = fetch(&app, &format!("/v1/documents/{}/content", empty.id()), &firm.owner_token, None).await;
            assert_eq!(body.status(), 200);
            assert!(body.bytes().await.unwrap().is_empty());

            // Two and a half S3 parts.
            let big: Vec<u8> = (0..vestibule_blobs::PART_SIZE * 5 / 2).map(|i| (i % 253) as u8).collect();
            let up = upload(&app, &firm.owner_token, &format!("client_id={client}&name=big.bin"), big.clone()).await;
            assert_eq!(up.status, 201, "{store}: {}", up.body);
            assert_eq!(up.body["sha256"], hex::encode(Sha256::digest(&big)));
            assert_eq!(up.body["content_type"], "application/octet-stream");
            let back = fetch(&app, &format!("/v1/documents/{}/content", up.id()), &firm.owner_token, None).await;
            assert!(back.bytes().await.unwrap() == big, "{store}: the big file came back different");
        }
    }

    async fn a_browser_uploads_with_multipart_form_data(backend) {
        for Setup { app, store, .. } in setups(backend).await {
            let firm = app.firm("harbor").await;
            let client = client_id(&app, &firm).await;
            let boundary = "vestibule-boundary-7f3a";
            let mut body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\scans\\\\Vollmacht.txt\"\r\n\
                 Content-Type: application/pdf\r\n\r\n"
            )
            .into_bytes();
            body.extend_from_slice("Ich bevollmächtige …".as_bytes());
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            let content_type = format!("multipart/form-data; boundary={boundary}");
            let up = app.send_raw(Method::POST, &format!("/v1/documents?client_id={client}"), &firm.owner_token, &content_type, body).await;
            assert_eq!(up.status, 201, "{store}: {}", up.body);
            assert_eq!(up.body["name"], "Vollmacht.txt");
            assert_eq!(up.body["content_type"], "text/plain; charset=utf-8", "{store}: the claimed type is not trusted");
            assert_eq!(up.body["size"], "Ich bevollmächtige …".len());
            let missing = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--{boundary}--\r\n");
            let refused = app.send_raw(Method::POST, &format!("/v1/documents?client_id={client}"), &firm.owner_token, &content_type, missing.into_bytes()).await;
            refused.assert_problem(422, "validation_failed");
            assert_eq!(refused.body["errors"][0]["pointer"], "/file");
            assert_eq!(app.count("documents"), 1);
            assert_eq!(app.count("pending_blobs"), 0);
        }
    }

    async fn an_oversize_or_interrupted_upload_leaves_no_document_and_no_blob(backend) {
        for Setup { app, store, blob_root, .. } in setups(backend).await {
            let firm = app.firm("harbor").await;
            let client = client_id(&app, &firm).await;
            let set = app.patch("/v1/firm", &firm.owner_token, &json!({ "upload_limit_bytes": 10_000 })).await;
            assert_eq!(set.status, 200, "{}", set.body);
            let before = blob_files(&blob_root);
            let over = upload(&app, &firm.owner_token, &format!("client_id={client}&name=big.bin"), vec![7; 10_001]).await;
            over.assert_problem(413, "payload_too_large");

            // A client that announces 5 MB, sends a little and hangs up.
            let address = app.url("").trim_start_matches("http://").trim_end_matches('/').to_owned();
            let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
            let head = format!(
                "POST /v1/documents?client_id={client}&name=cut.bin HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
                 Content-Type: application/octet-stream\r\nContent-Length: 5000000\r\n\r\n",
                firm.owner_token
            );
            socket.write_all(head.as_bytes()).await.unwrap();
            socket.write_all(&[1; 4000]).await.unwrap();
            socket.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            drop(socket);
            app.wait_for_count("pending_blobs", 0).await;
            assert_eq!(app.count("documents"), 0, "{store}");
            assert_eq!(blob_files(&blob_root), before, "{store}: no blob was left");
        }
    }

    async fn folders_nest_rename_move_and_are_deleted_only_when_empty(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = client_id(&app, &firm).await;
        let other_client = app.client(&firm.owner_token, "Bob Babbage").await["id"].as_str().unwrap().to_owned();
        let tax = app.post("/v1/folders", &firm.owner_token, &json!({ "client_id": client, "name": "Tax 2026" })).await;
        assert_eq!(tax.status, 201, "{}", tax.body);
        let receipts = app.post("/v1/folders", &firm.owner_token, &json!({ "parent_id": tax.id(), "name": "Receipts" })).await;
        assert_eq!(receipts.body["client_id"], client, "a subfolder takes its parent's client");
        app.post("/v1/folders", &firm.owner_token, &json!({ "parent_id": tax.id(), "name": "receipts" })).await.assert_problem(409, "folder_name_taken");
        let cycle = app.patch(&format!("/v1/folders/{}", tax.id()), &firm.owner_token, &json!({ "parent_id": receipts.id() })).await;
        assert_eq!(cycle.body["errors"][0]["code"], "cycle", "{}", cycle.body);
        let elsewhere = app.post("/v1/folders", &firm.owner_token, &json!({ "client_id": other_client, "name": "Bob" })).await;
        let wrong = app.patch(&format!("/v1/folders/{}", receipts.id()), &firm.owner_token, &json!({ "parent_id": elsewhere.id() })).await;
        assert_eq!(wrong.body["errors"][0]["code"], "wrong_place");

        let doc = upload(&app, &firm.owner_token, &format!("folder_id={}&name=r.txt", receipts.id()), b"receipt".to_vec()).await;
        assert_eq!(doc.status, 201, "{}", doc.body);
        assert_eq!(doc.body["client_id"], client);
        assert_eq!(doc.body["folder_id"], receipts.id());
        let listed = app.get(&format!("/v1/documents?folder_id={}", receipts.id()), &firm.owner_token).await;
        assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
        app.delete(&format!("/v1/folders/{}", receipts.id()), &firm.owner_token).await.assert_problem(409, "folder_not_empty");

        let moved = app.patch(&format!("/v1/folders/{}", receipts.id()), &firm.owner_token, &json!({ "parent_id": null, "name": "Belege" })).await;
        assert_eq!(moved.status, 200, "{}", moved.body);
        assert!(moved.body["parent_id"].is_null());
        let top = app.get(&format!("/v1/folders?client_id={client}&top_level=true"), &firm.owner_token).await;
        assert_eq!(top.body["data"].as_array().unwrap().len(), 2);
        let out = app.patch(&format!("/v1/documents/{}", doc.id()), &firm.owner_token, &json!({ "folder_id": null })).await;
        assert_eq!(out.status, 200, "{}", out.body);
        assert_eq!(out.body["version"], 2);
        let gone = app.delete(&format!("/v1/folders/{}", receipts.id()), &firm.owner_token).await;
        assert_eq!(gone.status, 204);
        let into_other = app.patch(&format!("/v1/documents/{}", doc.id()), &firm.owner_token, &json!({ "folder_id": elsewhere.id() })).await;
        assert_eq!(into_other.body["errors"][0]["code"], "wrong_place");
    }

    async fn documents_are_renamed_shown_in_bulk_and_soft_deleted(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = client_id(&app, &firm).await;
        let mut ids = Vec::new();
        for n in 0..3 {
            let up = upload(&app, &firm.owner_token, &format!("client_id={client}&name=doc{n}.txt"), format!("text {n}").into_bytes()).await;
            ids.push(up.id());
        }
        let shown = app.post("/v1/documents/visibility", &firm.owner_token, &json!({ "document_ids": [ids[0], ids[1]], "visible_to_client": true })).await;
        assert_eq!(shown.body["changed"], 2, "{}", shown.body);
        let again = app.post("/v1/documents/visibility", &firm.owner_token, &json!({ "document_ids": [ids[0]], "visible_to_client": true })).await;
        assert_eq!(again.body["changed"], 0, "already visible");
        let unknown = app.post("/v1/documents/visibility", &firm.owner_token, &json!({ "document_ids": [ids[2], "doc_0193a3b2c4d57e8f9a0b1c2d3e4f5a6b"], "visible_to_client": true })).await;
        unknown.assert_problem(422, "validation_failed");
        assert_eq!(unknown.body["errors"][0]["pointer"], "/document_ids/1");
        let visible = app.get(&format!("/v1/documents?client_id={client}&visible_to_client=true"), &firm.owner_token).await;
        assert_eq!(visible.body["data"].as_array().unwrap().len(), 2, "all or nothing: the third stayed hidden");

        let got = app.get(&format!("/v1/documents/{}", ids[2]), &firm.owner_token).await;
        assert_eq!(got.header("etag"), Some("\"1\""));
        let stale = app.call_with(Method::PATCH, &format!("/v1/documents/{}", ids[2]), Some(&firm.owner_token), Some(&json!({ "name": "x.txt" })), &[("If-Match", "\"7\"")]).await;
        stale.assert_problem(412, "precondition_failed");
        let renamed = app.call_with(Method::PATCH, &format!("/v1/documents/{}", ids[2]), Some(&firm.owner_token), Some(&json!({ "name": "a/b/Final.txt" })), &[("If-Match", "\"1\"")]).await;
        assert_eq!(renamed.body["name"], "Final.txt", "{}", renamed.body);
        let search = app.get("/v1/documents?q=FINAL", &firm.owner_token).await;
        assert_eq!(search.body["data"][0]["id"], ids[2]);

        assert_eq!(app.delete(&format!("/v1/documents/{}", ids[2]), &firm.owner_token).await.status, 204);
        app.get(&format!("/v1/documents/{}", ids[2]), &firm.owner_token).await.assert_problem(404, "not_found");
        let content = fetch(&app, &format!("/v1/documents/{}/content", ids[2]), &firm.owner_token, None).await;
        assert_eq!(content.status(), 404);
        assert_eq!(app.get("/v1/documents", &firm.owner_token).await.body["data"].as_array().unwrap().len(), 2);
        assert_eq!(app.count("documents"), 3, "the record stays for the audit trail");
        assert_eq!(app.count("outbox_events WHERE event_type = 'document.created'"), 3);
        assert_eq!(app.count("outbox_events WHERE event_type = 'document.deleted'"), 1);
    }

    async fn documents_of_a_restricted_matter_stay_with_its_members(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let client = client_id(&app, &firm).await;
        let matter = app.matter(&firm.owner_token, &client, true).await;
        let matter_id = matter["id"].as_str().unwrap();
        let doc = upload(&app, &firm.owner_token, &format!("matter_id={matter_id}&name=sealed.txt"), b"sealed".to_vec()).await;
        assert_eq!(doc.status, 201, "{}", doc.body);
        assert_eq!(doc.body["client_id"], client);
        assert_eq!(app.get("/v1/documents", &member_token).await.body["data"], json!([]));
        for path in [format!("/v1/documents/{}", doc.id()), format!("/v1/documents/{}/content", doc.id())] {
            assert_eq!(app.get(&path, &member_token).await.status, 404, "{path}");
        }
        let refused = upload(&app, &member_token, &format!("matter_id={matter_id}&name=peek.txt"), b"x".to_vec()).await;
        refused.assert_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["pointer"], "#/query/matter_id");
        let unnamed = upload(&app, &firm.owner_token, &format!("client_id={client}"), b"x".to_vec()).await;
        assert_eq!(unnamed.body["errors"][0]["pointer"], "#/query/name");
        let (_, reader) = app.api_key(&firm.owner_token, &["documents:read"]).await;
        assert_eq!(app.get(&format!("/v1/documents/{}", doc.id()), &reader).await.status, 200);
        upload(&app, &reader, &format!("client_id={client}&name=x.txt"), b"x".to_vec()).await.assert_problem(403, "forbidden");
        assert_eq!(app.count("documents"), 1);
        assert_eq!(app.count("pending_blobs"), 0);
    }

    async fn the_portal_shows_visible_documents_and_staff_see_who_downloaded_them(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = client_id(&app, &firm).await;
        let contact = app.contact(&firm.owner_token, &client, "cora@client.test").await;
        let contact_token = app.contact_token(&firm, contact["id"].as_str().unwrap(), "cora@client.test").await;
        let other = app.client(&firm.owner_token, "Bob Babbage").await["id"].as_str().unwrap().to_owned();
        let neighbour = app.contact(&firm.owner_token, &other, "bob@client.test").await;
        let neighbour_token = app.contact_token(&firm, neighbour["id"].as_str().unwrap(), "bob@client.test").await;
        let shown = upload(&app, &firm.owner_token, &format!("client_id={client}&name=shown.txt&visible_to_client=true"), b"for you".to_vec()).await;
        let hidden = upload(&app, &firm.owner_token, &format!("client_id={client}&name=hidden.txt"), b"internal".to_vec()).await;

        let listed = app.get("/v1/portal/documents", &contact_token).await;
        let ids: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![shown.id().as_str()]);
        app.get(&format!("/v1/portal/documents/{}", hidden.id()), &contact_token).await.assert_problem(404, "not_found");
        app.get(&format!("/v1/portal/documents/{}", shown.id()), &neighbour_token).await.assert_problem(404, "not_found");
        assert_eq!(fetch(&app, &format!("/v1/portal/documents/{}/content", hidden.id()), &contact_token, None).await.status(), 404);
        assert_eq!(app.get("/v1/portal/documents", &neighbour_token).await.body["data"], json!([]));
        assert!(app.get(&format!("/v1/documents/{}", shown.id()), &firm.owner_token).await.body["first_client_download_at"].is_null());

        for _ in 0..2 {
            let got = fetch(&app, &format!("/v1/portal/documents/{}/content", shown.id()), &contact_token, None).await;
            assert_eq!(got.status(), 200);
            assert_eq!(got.bytes().await.unwrap(), b"for you".as_slice());
        }
        let receipts = app.get(&format!("/v1/documents/{}/receipts", shown.id()), &firm.owner_token).await;
        assert_eq!(receipts.status, 200, "{}", receipts.body);
        assert_eq!(receipts.body[0]["contact_id"], contact["id"]);
        assert_eq!(receipts.body[0]["contact_name"], "Cora Contact");
        assert_eq!(receipts.body[0]["downloads"], 2);
        assert!(receipts.body[0]["last_downloaded_at"].as_str() >= receipts.body[0]["first_downloaded_at"].as_str());
        let staff_view = app.get(&format!("/v1/documents?client_id={client}"), &firm.owner_token).await;
        assert!(staff_view.body["data"][0]["first_client_download_at"].is_string(), "the confirmation icon");
        assert!(staff_view.body["data"][1]["first_client_download_at"].is_null());
        assert_eq!(app.count("audit_events WHERE action = 'document.downloaded'"), 2);
    }

    async fn download_all_streams_a_zip_of_the_documents(backend) {
        for Setup { app, store, .. } in setups(backend).await {
            let firm = app.firm("harbor").await;
            let client = client_id(&app, &firm).await;
            let contact = app.contact(&firm.owner_token, &client, "cora@client.test").await;
            let contact_token = app.contact_token(&firm, contact["id"].as_str().unwrap(), "cora@client.test").await;
            let files: Vec<(&str, Vec<u8>, bool)> = vec![
                ("Bericht.pdf", pdf(70_000), true),
                ("bericht.pdf", b"second of the same name".to_vec(), true),
                ("leer.txt", Vec::new(), true),
                ("intern.txt", b"not for the client".to_vec(), false),
            ];
            for (name, bytes, visible) in &files {
                let up = upload(&app, &firm.owner_token, &format!("client_id={client}&name={name}&visible_to_client={visible}"), bytes.clone()).await;
                assert_eq!(up.status, 201, "{store}: {}", up.body);
            }
            let response = fetch(&app, &format!("/v1/documents/archive?client_id={client}"), &firm.owner_token, None).await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["content-type"], "application/zip");
            assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"documents.zip\""));
            let archive = response.bytes().await.unwrap().to_vec();
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).expect("a readable zip");
            assert_eq!(zip.len(), 4, "{store}");
            let expected = [("Bericht.pdf", &files[0].1), ("bericht (2).pdf", &files[1].1), ("leer.txt", &files[2].1), ("intern.txt", &files[3].1)];
            for (index, (name, bytes)) in expected.iter().enumerate() {
                let mut entry = zip.by_index(index).unwrap();
                assert_eq!(entry.name(), *name, "{store}");
                let mut content = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut content).expect("the CRC checks out");
                assert_eq!(&content, *bytes, "{store}: {name}");
            }

            let portal = fetch(&app, "/v1/portal/documents/archive", &contact_token, None).await;
            assert_eq!(portal.status(), 200);
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(portal.bytes().await.unwrap().to_vec())).unwrap();
            assert_eq!(zip.len(), 3, "{store}: hidden documents stay out");
            assert!(zip.by_name("intern.txt").is_err());
            assert_eq!(app.count("download_receipts"), 3, "{store}: each file of the archive counts as downloaded");
            let unscoped = app.get("/v1/documents/archive", &firm.owner_token).await;
            assert_eq!(unscoped.body["errors"][0]["pointer"], "#/query/client_id");
        }
    }
}
