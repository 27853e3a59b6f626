//! Seed 002's external download and upload links: a URL plus a security code passed on by
//! another channel, the documents made visible to the client, uploads into the work, and
//! everything that must keep a link shut: wrong codes, expiry, disabling, other tenants.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vestibule_storage::schema::{access_links, reminders_sent};

use crate::on_both_backends;
use crate::support::fixtures::Firm;
use crate::support::smtp::SmtpListener;
use crate::support::{Reply, TestApp, blob_files, multipart};

pub(crate) struct Opened {
    id: String,
    pub(crate) code: String,
    pub(crate) token: String,
}

pub(crate) async fn create_link(app: &TestApp, firm: &Firm, body: Value) -> Opened {
    let created = app.post("/v1/access-links", &firm.owner_token, &body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let link = &created.body["access_link"];
    let url = link["url"].as_str().unwrap();
    Opened {
        id: link["id"].as_str().unwrap().to_owned(),
        code: created.body["security_code"].as_str().unwrap().to_owned(),
        token: url.rsplit('/').next().unwrap().to_owned(),
    }
}

async fn enter(app: &TestApp, token: &str, code: &str) -> Reply {
    app.call(Method::POST, &format!("/v1/links/{token}/sessions"), None, Some(&json!({ "code": code }))).await
}

async fn open_session(app: &TestApp, link: &Opened) -> String {
    let opened = enter(app, &link.token, &link.code).await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    opened.body["token"].as_str().unwrap().to_owned()
}

async fn upload(app: &TestApp, firm: &Firm, query: &str, bytes: &[u8]) -> String {
    let path = format!("/v1/documents?{query}");
    let reply = app.send_raw(Method::POST, &path, &firm.owner_token, "application/octet-stream", bytes.to_vec()).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

async fn bytes(app: &TestApp, path: &str, token: &str) -> (u16, Vec<u8>) {
    let response = crate::support::open(app.http.get(app.url(path)).bearer_auth(token)).await;
    (response.status().as_u16(), response.bytes().await.unwrap().to_vec())
}

pub(crate) fn wrong_code(code: &str) -> String {
    let first = if code.starts_with('9') { '1' } else { '9' };
    format!("{first}{}", &code[1..])
}

fn set_expiry(app: &TestApp, link_id: &str, at: chrono::DateTime<Utc>) {
    let at = vestibule_domain::audit::storable_time(at.naive_utc());
    diesel::update(access_links::table.find(link_id))
        .set(access_links::expires_at.eq(at))
        .execute(&mut *app.conn())
        .unwrap();
}

on_both_backends! {
    async fn a_download_link_opens_with_its_code_and_shows_only_what_was_made_visible(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let matter = app.matter(&firm.owner_token, &client, false).await["id"].as_str().unwrap().to_owned();
        let visible = upload(&app, &firm, &format!("client_id={client}&name=Bescheid.pdf&visible_to_client=true"), b"visible").await;
        let second = upload(&app, &firm, &format!("client_id={client}&name=Belege.txt&visible_to_client=true"), b"second").await;
        upload(&app, &firm, &format!("client_id={client}&name=intern.txt"), b"internal").await;
        upload(&app, &firm, &format!("matter_id={matter}&name=matter.txt&visible_to_client=true"), b"of the matter").await;
        let deleted = upload(&app, &firm, &format!("client_id={client}&name=old.txt&visible_to_client=true"), b"old").await;
        assert_eq!(app.delete(&format!("/v1/documents/{deleted}"), &firm.owner_token).await.status, 204);

        let created = app.post("/v1/access-links", &firm.owner_token, &json!({ "client_id": client, "kind": "download", "message": "Your 2026 notices" })).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let code = created.body["security_code"].as_str().unwrap().to_owned();
        assert!(code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        let link = &created.body["access_link"];
        assert_eq!(link["status"], "enabled");
        assert_eq!(created.header("location"), Some(format!("/v1/access-links/{}", link["id"].as_str().unwrap()).as_str()));
        let url = link["url"].as_str().unwrap();
        let token = url.rsplit('/').next().unwrap().to_owned();
        assert!(url.contains("/links/val_") && token.len() >= 40, "{url}");
        let id = link["id"].as_str().unwrap();
        let read = app.get(&format!("/v1/access-links/{id}"), &firm.owner_token).await;
        assert_eq!(read.body["url"], url, "the URL can be copied again");
        assert!(read.body.get("security_code").is_none() && !read.body.to_string().contains(&code), "the code is shown once");
        let token_digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()));
        assert_eq!(app.count(&format!("link_guards WHERE access_link_id = '{id}' AND token_hash = '{token_digest}'")), 1, "the token is kept as its SHA-256");
        assert_eq!(app.count(&format!("link_guards WHERE token_nonce LIKE '%{}%' OR code_hash LIKE '%{code}%'", &token[4..])), 0, "neither the token nor the code is stored");

        let landing = app.call(Method::GET, &format!("/v1/links/{token}"), None, None).await;
        assert_eq!(landing.status, 200, "{}", landing.body);
        assert_eq!(landing.header("cache-control"), Some("no-store"));
        assert_eq!(landing.header("referrer-policy"), Some("no-referrer"));
        let mut keys: Vec<&String> = landing.body.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["expires_at", "firm_name", "kind", "message"], "nothing of the client before the code");
        assert_eq!(landing.body["firm_name"], "harbor LLP");
        assert_eq!(landing.body["message"], "Your 2026 notices");

        let spaced = format!("{} {}", &code[..4], &code[4..]);
        let opened = enter(&app, &token, &spaced).await;
        assert_eq!(opened.status, 201, "{}", opened.body);
        assert_eq!(opened.header("cache-control"), Some("no-store"));
        let session = opened.body["token"].as_str().unwrap().to_owned();
        assert!(session.starts_with("vls_"));
        let listed = app.get("/v1/link/documents", &session).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let names: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Bescheid.pdf", "Belege.txt"], "only the client's own visible documents");
        assert!(listed.body["data"][0].get("uploaded_by").is_none());

        let later_part = crate::support::open(app.http.get(app.url(&format!("/v1/link/documents/{visible}/content"))).bearer_auth(&session).header("range", "bytes=3-")).await;
        assert_eq!(later_part.status(), 206);
        let beyond = crate::support::open(app.http.get(app.url(&format!("/v1/link/documents/{visible}/content"))).bearer_auth(&session).header("range", "bytes=99-")).await;
        assert_eq!(beyond.status(), 416);
        assert_eq!(app.count("link_downloads"), 0, "neither a later part nor a refused range is a download");
        let (status, content) = bytes(&app, &format!("/v1/link/documents/{visible}/content"), &session).await;
        assert_eq!((status, content.as_slice()), (200, b"visible".as_slice()));
        let (hidden, _) = bytes(&app, &format!("/v1/link/documents/{deleted}/content"), &session).await;
        assert_eq!(hidden, 404);
        let receipts = app.get(&format!("/v1/documents/{visible}/receipts"), &firm.owner_token).await;
        assert_eq!(receipts.body[0]["via"], "access_link", "{}", receipts.body);
        assert_eq!(receipts.body[0]["access_link_id"], id);
        assert_eq!(receipts.body[0]["downloads"], 1);
        for _ in 0..2 {
            assert_eq!(bytes(&app, &format!("/v1/link/documents/{visible}/content"), &session).await.0, 200);
        }
        let receipts = app.get(&format!("/v1/documents/{visible}/receipts"), &firm.owner_token).await;
        assert_eq!(receipts.body[0]["downloads"], 3, "the receipt counts every download");
        let audited = format!("audit_events WHERE action = 'document.downloaded' AND target_id = '{visible}' AND actor_id = '{id}'");
        assert_eq!(app.count(&audited), 1, "one visit in the audit log");
        let document = app.get(&format!("/v1/documents/{visible}"), &firm.owner_token).await;
        assert!(document.body["first_client_download_at"].is_string(), "the confirmation icon turns green");
        let untouched = app.get(&format!("/v1/documents/{second}"), &firm.owner_token).await;
        assert!(untouched.body["first_client_download_at"].is_null());

        let (status, archive) = bytes(&app, "/v1/link/documents/archive", &session).await;
        assert_eq!(status, 200);
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).unwrap();
        let entries: Vec<String> = (0..zip.len()).map(|i| zip.by_index(i).unwrap().name().to_owned()).collect();
        assert_eq!(entries, ["Bescheid.pdf", "Belege.txt"]);
        let receipts = app.get(&format!("/v1/documents/{second}/receipts"), &firm.owner_token).await;
        assert_eq!(receipts.body[0]["downloads"], 1, "Download All counts for each document");
        let status = app.get(&format!("/v1/access-links/{id}"), &firm.owner_token).await;
        assert!(status.body["last_accessed_at"].is_string());

        app.get("/v1/link/documents", &firm.owner_token).await.assert_problem(401, "invalid_token");
        assert_eq!(app.get("/v1/documents", &session).await.status, 401, "a link session is no staff token");
    }

    async fn wrong_codes_lock_the_link_until_the_code_is_regenerated(backend) {
        let smtp = SmtpListener::start().await;
        let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let link = create_link(&app, &firm, json!({ "client_id": client, "kind": "download" })).await;

        let malformed = app.call_with(Method::POST, &format!("/v1/links/{}/sessions", link.token), None, None, &[("content-type", "application/json")]).await;
        assert_eq!(malformed.status, 400, "{}", malformed.body);
        app.call(Method::POST, &format!("/v1/links/{}/sessions", link.token), None, Some(&json!({}))).await.assert_problem(422, "validation_failed");
        app.call(Method::POST, &format!("/v1/links/{}/sessions", link.token), None, Some(&json!({ "code": 12 }))).await.assert_problem(422, "validation_failed");
        assert_eq!(app.get(&format!("/v1/access-links/{}", link.id), &firm.owner_token).await.body["failed_attempts"], 0, "malformed requests are no guesses");

        let near = enter(&app, &link.token, &wrong_code(&link.code)).await;
        near.assert_problem(401, "invalid_code");
        let far = enter(&app, &link.token, "not a code").await;
        far.assert_problem(401, "invalid_code");
        assert_eq!(near.body["detail"], far.body["detail"], "nothing tells a near miss from nonsense");
        for _ in 0..3 {
            enter(&app, &link.token, &wrong_code(&link.code)).await.assert_problem(401, "invalid_code");
        }
        enter(&app, &link.token, &link.code).await.assert_problem(410, "link_unavailable");
        let locked = app.get(&format!("/v1/access-links/{}", link.id), &firm.owner_token).await;
        assert_eq!(locked.body["status"], "locked");
        assert_eq!(locked.body["failed_attempts"], 5);
        assert_eq!(app.count("audit_events WHERE action = 'access_link.locked'"), 1);
        assert_eq!(app.count("audit_events WHERE action = 'access_link.code_failed'"), 5);
        let mails = smtp.wait_for(1).await;
        assert_eq!(mails[0].to, ["owner@harbor.test"]);
        assert!(mails[0].text().contains("was locked"), "{}", mails[0].text());

        let regenerated = app.call(Method::POST, &format!("/v1/access-links/{}/code", link.id), Some(&firm.owner_token), None).await;
        assert_eq!(regenerated.status, 200, "{}", regenerated.body);
        let new_code = regenerated.body["security_code"].as_str().unwrap().to_owned();
        assert_eq!(regenerated.body["access_link"]["status"], "enabled");
        assert_eq!(regenerated.body["access_link"]["failed_attempts"], 0);
        if new_code != link.code {
            enter(&app, &link.token, &link.code).await.assert_problem(401, "invalid_code");
        }
        let link = Opened { code: new_code, ..link };
        let live = open_session(&app, &link).await;
        assert_eq!(app.get("/v1/link/documents", &live).await.status, 200);
        app.call(Method::POST, &format!("/v1/access-links/{}/code", link.id), Some(&firm.owner_token), None).await;
        app.get("/v1/link/documents", &live).await.assert_problem(401, "invalid_token");
    }

    async fn simultaneous_guesses_cannot_pass_the_limit(backend) {
        let app = TestApp::spawn_with(backend, &[("LINK_ATTEMPTS_PER_MINUTE", "100")]).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let link = create_link(&app, &firm, json!({ "client_id": client, "kind": "download" })).await;
        let wrong = wrong_code(&link.code);
        let guesses = (0..12).map(|_| enter(&app, &link.token, &wrong));
        let answers = futures_util::future::join_all(guesses).await;
        let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 410).count(), 7, "{statuses:?}");
        let locked = app.get(&format!("/v1/access-links/{}", link.id), &firm.owner_token).await;
        assert_eq!((locked.body["status"].as_str(), locked.body["failed_attempts"].as_i64()), (Some("locked"), Some(5)));
        assert_eq!(app.count("audit_events WHERE action = 'access_link.locked'"), 1);
    }

    async fn code_checks_are_throttled_per_address(backend) {
        let app = TestApp::spawn_with(backend, &[("LINK_ATTEMPTS_PER_MINUTE", "3")]).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let link = create_link(&app, &firm, json!({ "client_id": client, "kind": "download" })).await;
        for _ in 0..3 {
            enter(&app, &link.token, &wrong_code(&link.code)).await.assert_problem(401, "invalid_code");
        }
        let throttled = enter(&app, &link.token, &link.code).await;
        throttled.assert_problem(429, "rate_limited");
        assert_eq!(throttled.header("cache-control"), Some("no-store"));
        assert_eq!(throttled.header("referrer-policy"), Some("no-referrer"));
        // The wait follows the sliding estimate: up to two windows of a minute.
        assert!(throttled.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| (1..=120).contains(&s))));
        assert_eq!(app.get(&format!("/v1/access-links/{}", link.id), &firm.owner_token).await.body["failed_attempts"], 3);
    }

    async fn a_link_closes_at_its_expiry_and_when_disabled_even_mid_session(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let past = (Utc::now() - Duration::minutes(1)).to_rfc3339();
        let refused = app.post("/v1/access-links", &firm.owner_token, &json!({ "client_id": client, "kind": "download", "expires_at": past })).await;
        refused.assert_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["pointer"], "/expires_at");
        assert_eq!(app.count("access_links"), 0);

        let link = create_link(&app, &firm, json!({ "client_id": client, "kind": "download" })).await;
        let session = open_session(&app, &link).await;
        set_expiry(&app, &link.id, Utc::now() - Duration::seconds(1));
        let expired = app.call(Method::GET, &format!("/v1/links/{}", link.token), None, None).await;
        expired.assert_problem(410, "link_unavailable");
        assert_eq!(expired.header("cache-control"), Some("no-store"), "errors are not cached either");
        app.get("/v1/link/documents", &session).await.assert_problem(410, "link_unavailable");
        assert_eq!(app.get(&format!("/v1/access-links/{}", link.id), &firm.owner_token).await.body["status"], "expired");
        set_expiry(&app, &link.id, Utc::now() + Duration::minutes(1));
        assert_eq!(app.get("/v1/link/documents", &session).await.status, 200, "just before its expiry it opens");

        let disabled = app.patch(&format!("/v1/access-links/{}", link.id), &firm.owner_token, &json!({ "enabled": false })).await;
        assert_eq!(disabled.status, 200, "{}", disabled.body);
        assert_eq!(disabled.body["status"], "disabled");
        app.get("/v1/link/documents", &session).await.assert_problem(401, "invalid_token");
        let closed = app.call(Method::GET, &format!("/v1/links/{}", link.token), None, None).await;
        closed.assert_problem(410, "link_unavailable");
        enter(&app, &link.token, &link.code).await.assert_problem(410, "link_unavailable");
        let unknown = app.call(Method::GET, "/v1/links/val_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", None, None).await;
        assert_eq!((unknown.status, &unknown.body["detail"]), (closed.status, &closed.body["detail"]), "unknown, expired and disabled look alike");

        let enabled = app.patch(&format!("/v1/access-links/{}", link.id), &firm.owner_token, &json!({ "enabled": true })).await;
        assert_eq!(enabled.body["status"], "enabled");
        app.get("/v1/link/documents", &session).await.assert_problem(401, "invalid_token");
        let stale = app.call_with(Method::PATCH, &format!("/v1/access-links/{}", link.id), Some(&firm.owner_token), Some(&json!({ "message": "x" })), &[("if-match", "\"1\"")]).await;
        stale.assert_problem(412, "precondition_failed");
        app.patch(&format!("/v1/access-links/{}", link.id), &firm.owner_token, &json!({ "max_uploads": 5 })).await.assert_problem(422, "validation_failed");
        app.patch(&format!("/v1/access-links/{}", link.id), &firm.owner_token, &json!({ "enabled": "yes" })).await.assert_problem(422, "validation_failed");

        let session = open_session(&app, &link).await;
        assert_eq!(app.delete(&format!("/v1/access-links/{}", link.id), &firm.owner_token).await.status, 204);
        app.get("/v1/link/documents", &session).await.assert_problem(401, "invalid_token");
        app.call(Method::GET, &format!("/v1/links/{}", link.token), None, None).await.assert_problem(410, "link_unavailable");
        app.get(&format!("/v1/access-links/{}", link.id), &firm.owner_token).await.assert_problem(404, "not_found");
        assert_eq!(app.count("access_links") + app.count("link_guards") + app.count("link_sessions"), 0);
    }

    async fn an_upload_link_takes_files_into_its_folder_within_its_limits_and_tells_the_staff(backend) {
        let smtp = SmtpListener::start().await;
        let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let matter = app.matter(&firm.owner_token, &client, false).await["id"].as_str().unwrap().to_owned();
        let folder = app.post("/v1/folders", &firm.owner_token, &json!({ "matter_id": matter, "name": "From the client" })).await.id();
        let elsewhere = app.post("/v1/folders", &firm.owner_token, &json!({ "client_id": client, "name": "Other" })).await.id();
        let wrong = app.post("/v1/access-links", &firm.owner_token, &json!({ "matter_id": matter, "kind": "upload", "folder_id": elsewhere })).await;
        wrong.assert_problem(422, "validation_failed");
        let link = create_link(&app, &firm, json!({ "matter_id": matter, "kind": "upload", "folder_id": folder, "max_uploads": 3, "message": "Receipts for 2026, please" })).await;
        let session = open_session(&app, &link).await;

        let (content_type, body) = multipart(&[("Quittung 1.pdf", b"%PDF-1.7 one"), ("../../Quittung 2.txt", b"two")]);
        let uploaded = app.send_raw(Method::POST, "/v1/link/documents", &session, &content_type, body).await;
        assert_eq!(uploaded.status, 201, "{}", uploaded.body);
        assert_eq!(uploaded.body["remaining"], 1);
        let names: Vec<&str> = uploaded.body["uploaded"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Quittung 1.pdf", "Quittung 2.txt"]);
        let staff_view = app.get(&format!("/v1/documents?uploaded_by={}", link.id), &firm.owner_token).await;
        let docs = staff_view.body["data"].as_array().unwrap();
        assert_eq!(docs.len(), 2, "{}", staff_view.body);
        assert!(docs.iter().all(|d| d["folder_id"] == folder && d["matter_id"] == matter && d["visible_to_client"] == false));
        let mails = smtp.wait_for(1).await;
        let text = mails[0].text();
        assert!(text.contains("2 files were uploaded") && text.contains("Quittung 1.pdf"), "{text}");

        let (content_type, body) = multipart(&[("a.txt", b"a"), ("b.txt", b"b")]);
        let too_many = app.send_raw(Method::POST, "/v1/link/documents", &session, &content_type, body).await;
        too_many.assert_problem(422, "validation_failed");
        assert_eq!(app.count("documents"), 2, "all or nothing");
        app.patch(&format!("/v1/access-links/{}", link.id), &firm.owner_token, &json!({ "max_uploads": 10 })).await;
        app.patch("/v1/firm", &firm.owner_token, &json!({ "upload_limit_bytes": 10 })).await;
        let blobs = blob_files(&app.data_dir.join("blobs")).len();
        let (content_type, body) = multipart(&[("small.txt", b"fits"), ("big.bin", &[7; 11])]);
        let oversize = app.send_raw(Method::POST, "/v1/link/documents", &session, &content_type, body).await;
        oversize.assert_problem(413, "payload_too_large");
        assert_eq!((app.count("documents"), app.count("pending_blobs")), (2, 0));
        assert_eq!(blob_files(&app.data_dir.join("blobs")).len(), blobs, "the file before the oversize one is gone too");
        app.patch(&format!("/v1/access-links/{}", link.id), &firm.owner_token, &json!({ "max_uploads": 3 })).await;
        app.delete(&format!("/v1/folders/{folder}"), &firm.owner_token).await.assert_problem(409, "folder_not_empty");
        let last = app.send_raw(Method::POST, "/v1/link/documents?name=last.txt", &session, "application/octet-stream", b"last".to_vec()).await;
        assert_eq!(last.status, 201, "{}", last.body);
        assert_eq!(last.body["remaining"], 0);
        let over = app.send_raw(Method::POST, "/v1/link/documents?name=more.txt", &session, "application/octet-stream", b"more".to_vec()).await;
        over.assert_problem(409, "upload_limit_reached");
        let unnamed = app.send_raw(Method::POST, "/v1/link/documents", &session, "application/octet-stream", b"x".to_vec()).await;
        unnamed.assert_problem(422, "validation_failed");

        for path in ["/v1/link/documents", "/v1/link/documents/archive", &format!("/v1/link/documents/{}/content", docs[0]["id"].as_str().unwrap())] {
            app.get(path, &session).await.assert_problem(403, "wrong_link_kind");
        }
        let download = create_link(&app, &firm, json!({ "matter_id": matter, "kind": "download" })).await;
        let download_session = open_session(&app, &download).await;
        let listed = app.get("/v1/link/documents", &download_session).await;
        assert_eq!(listed.body["data"], json!([]), "uploads stay hidden from the client until staff show them");
        let refused = app.send_raw(Method::POST, "/v1/link/documents?name=x.txt", &download_session, "application/octet-stream", b"x".to_vec()).await;
        refused.assert_problem(403, "wrong_link_kind");
        assert_eq!(app.count("documents"), 3);
    }

    async fn files_still_streaming_when_the_link_is_disabled_are_not_kept(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let link = create_link(&app, &firm, json!({ "client_id": client, "kind": "upload" })).await;
        let session = open_session(&app, &link).await;
        let blob_root = app.data_dir.join("blobs");
        let before = blob_files(&blob_root);

        let address = app.url("").trim_start_matches("http://").trim_end_matches('/').to_owned();
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        let head = format!(
            "POST /v1/link/documents?name=slow.bin HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {session}\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: 8000\r\nConnection: close\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&[1; 4000]).await.unwrap();
        socket.flush().await.unwrap();
        app.wait_for_count("pending_blobs", 1).await;
        let disabled = app.patch(&format!("/v1/access-links/{}", link.id), &firm.owner_token, &json!({ "enabled": false })).await;
        assert_eq!(disabled.status, 200, "{}", disabled.body);
        socket.write_all(&[2; 4000]).await.unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        assert_eq!((app.count("documents"), app.count("pending_blobs")), (0, 0));
        assert_eq!(blob_files(&blob_root), before, "the streamed bytes are removed");
    }

    async fn the_link_email_carries_the_url_and_never_the_code(backend) {
        let smtp = SmtpListener::start().await;
        let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let contact = app.contact(&firm.owner_token, &client, "cora@client.test").await["id"].as_str().unwrap().to_owned();
        let link = create_link(&app, &firm, json!({ "client_id": client, "kind": "download" })).await;
        let path = format!("/v1/access-links/{}/emails", link.id);
        for leaked in [format!("Your code is {}", link.code), format!("Code: {}-{}", &link.code[..4], &link.code[4..])] {
            let refused = app.post(&path, &firm.owner_token, &json!({ "contact_id": contact, "message": leaked })).await;
            refused.assert_problem(422, "validation_failed");
            assert_eq!(refused.body["errors"][0]["code"], "code_in_message");
        }
        let in_subject = app.post(&path, &firm.owner_token, &json!({ "contact_id": contact, "subject": format!("Code {}.{}", &link.code[..4], &link.code[4..]), "message": "Hello" })).await;
        in_subject.assert_problem(422, "validation_failed");
        assert_eq!(in_subject.body["errors"][0]["pointer"], "/subject");
        assert_eq!(app.count("link_emails") + app.count("deliveries WHERE channel = 'email'"), 0);

        let notice = upload(&app, &firm, &format!("client_id={client}&name=Bescheid 2026.pdf&visible_to_client=true"), b"notice").await;
        let hidden = upload(&app, &firm, &format!("client_id={client}&name=intern.txt"), b"internal").await;
        let unseen = app.post(&path, &firm.owner_token, &json!({ "contact_id": contact, "message": "Hello", "document_ids": [notice, hidden] })).await;
        unseen.assert_problem(422, "validation_failed");
        assert_eq!(unseen.body["errors"][0]["pointer"], "/document_ids/1", "a hidden document is not the link's to name");
        let sent = app.post(&path, &firm.owner_token, &json!({ "contact_id": contact, "message": "Please download your notices. I will call you with the code.", "document_ids": [notice] })).await;
        assert_eq!(sent.status, 201, "{}", sent.body);
        assert_eq!(sent.body["to"], "cora@client.test");
        assert_eq!(sent.body["subject"], "Documents for you from harbor LLP: Bescheid 2026.pdf");
        assert_eq!(sent.body["files"], json!([{ "document_id": notice, "name": "Bescheid 2026.pdf" }]));
        let log = app.get(&path, &firm.owner_token).await;
        assert_eq!(log.body["data"][0]["id"], sent.body["id"]);
        let entry = app.get(sent.header("location").unwrap(), &firm.owner_token).await;
        assert_eq!(entry.body["message"], "Please download your notices. I will call you with the code.");
        let text = smtp.wait_for(1).await[0].text();
        assert!(text.contains(&format!("/links/{}", link.token)), "{text}");
        assert!(text.contains("I will call you with the code") && !text.contains(&link.code), "{text}");
        assert!(text.contains("- Bescheid 2026.pdf"), "{text}");
        assert_eq!(app.count(&format!("deliveries WHERE content LIKE '%{}%'", link.code)), 0);

        app.patch(&format!("/v1/access-links/{}", link.id), &firm.owner_token, &json!({ "enabled": false })).await;
        app.post(&path, &firm.owner_token, &json!({ "contact_id": contact, "message": "Again" })).await.assert_problem(409, "link_not_open");
    }

    async fn each_work_has_one_link_of_each_kind_and_a_new_url_retires_the_old(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let restricted = app.matter(&firm.owner_token, &client, true).await["id"].as_str().unwrap().to_owned();
        let link = create_link(&app, &firm, json!({ "client_id": client, "kind": "download" })).await;
        app.post("/v1/access-links", &firm.owner_token, &json!({ "client_id": client, "kind": "download" })).await.assert_problem(409, "access_link_exists");
        app.post("/v1/access-links", &firm.owner_token, &json!({ "client_id": client, "kind": "download", "max_uploads": 5 })).await.assert_problem(422, "validation_failed");
        let folder = app.post("/v1/folders", &firm.owner_token, &json!({ "client_id": client, "name": "Inbox" })).await.id();
        let upload = create_link(&app, &firm, json!({ "client_id": client, "kind": "upload", "folder_id": folder })).await;
        assert_eq!(app.delete(&format!("/v1/folders/{folder}"), &firm.owner_token).await.status, 204, "an empty folder goes");
        let moved = app.get(&format!("/v1/access-links/{}", upload.id), &firm.owner_token).await;
        assert!(moved.body["folder_id"].is_null(), "uploads now land at the top level: {}", moved.body);
        let secret = create_link(&app, &firm, json!({ "matter_id": restricted, "kind": "download" })).await;
        let listed = app.get(&format!("/v1/access-links?client_id={client}"), &member_token).await;
        assert_eq!(listed.body["data"].as_array().unwrap().len(), 2, "the restricted matter's link is not the member's to see");
        app.get(&format!("/v1/access-links/{}", secret.id), &member_token).await.assert_problem(404, "not_found");
        let by_kind = app.get(&format!("/v1/access-links?client_id={client}&kind=upload"), &firm.owner_token).await;
        assert_eq!(by_kind.body["data"][0]["kind"], "upload");

        let renewed = app.call(Method::POST, &format!("/v1/access-links/{}/url", link.id), Some(&firm.owner_token), None).await;
        assert_eq!(renewed.status, 200, "{}", renewed.body);
        let new_token = renewed.body["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        assert_ne!(new_token, link.token);
        enter(&app, &link.token, &link.code).await.assert_problem(410, "link_unavailable");
        assert_eq!(enter(&app, &new_token, &link.code).await.status, 201, "the code stays");
    }

    async fn another_firms_link_opens_nothing_of_this_firm(backend) {
        let app = TestApp::spawn(backend).await;
        let a = app.firm("alpha").await;
        let b = app.firm("bravo").await;
        let client_a = app.client(&a.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let neighbour = app.client(&a.owner_token, "Bob Babbage").await["id"].as_str().unwrap().to_owned();
        let client_b = app.client(&b.owner_token, "Bea Bravo").await["id"].as_str().unwrap().to_owned();
        let document = upload(&app, &a, &format!("client_id={client_a}&name=a.txt&visible_to_client=true"), b"of alpha").await;
        let foreign = create_link(&app, &b, json!({ "client_id": client_b, "kind": "download" })).await;
        let next_door = create_link(&app, &a, json!({ "client_id": neighbour, "kind": "download" })).await;
        for link in [&foreign, &next_door] {
            let session = open_session(&app, link).await;
            let (status, _) = bytes(&app, &format!("/v1/link/documents/{document}/content"), &session).await;
            assert_eq!(status, 404);
            assert_eq!(app.get("/v1/link/documents", &session).await.body["data"], json!([]));
        }
        app.get(&format!("/v1/access-links/{}", foreign.id), &a.owner_token).await.assert_problem(404, "not_found");
        app.post("/v1/access-links", &a.owner_token, &json!({ "client_id": client_b, "kind": "upload" })).await.assert_problem(422, "validation_failed");
        assert_eq!(app.count("link_downloads"), 0);
    }

    async fn an_emailed_upload_link_is_reminded_of_once_when_empty_and_once_before_it_expires(backend) {
        let smtp = SmtpListener::start().await;
        let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let contact = app.contact(&firm.owner_token, &client, "cora@client.test").await["id"].as_str().unwrap().to_owned();
        let link = create_link(&app, &firm, json!({ "client_id": client, "kind": "upload" })).await;
        let matter = app.matter(&firm.owner_token, &client, false).await["id"].as_str().unwrap().to_owned();
        let never_emailed = create_link(&app, &firm, json!({ "matter_id": matter, "kind": "upload" })).await;
        let sent = app.post(&format!("/v1/access-links/{}/emails", link.id), &firm.owner_token, &json!({ "contact_id": contact, "message": "Please upload your receipts." })).await;
        assert_eq!(sent.status, 201, "{}", sent.body);
        smtp.wait_for(1).await;
        assert_eq!(app.reminder_pass(), 0, "nothing is due on the first day");

        // Three days on (the clock moved in the database), nothing came: one reminder.
        let age = |days: i64| {
            let created: chrono::NaiveDateTime =
                access_links::table.find(&link.id).select(access_links::created_at).first(&mut *app.conn()).unwrap();
            diesel::update(access_links::table.filter(access_links::id.eq_any([&link.id, &never_emailed.id])))
                .set(access_links::created_at.eq(created - Duration::days(days)))
                .execute(&mut *app.conn())
                .unwrap();
        };
        age(3);
        assert_eq!(app.reminder_pass(), 1);
        assert_eq!(app.reminder_pass(), 0, "once");
        let mails = smtp.wait_for(2).await;
        let text = mails[1].text();
        assert!(text.contains(&format!("/links/{}", link.token)), "{text}");
        assert!(!text.contains(&link.code), "never the code: {text}");

        // A day later, two days before it expires: one more, and no more after it.
        let yesterday = vestibule_storage::now().date() - Duration::days(1);
        diesel::update(reminders_sent::table.filter(reminders_sent::subject_id.eq(&link.id)))
            .set(reminders_sent::sent_on.eq(yesterday))
            .execute(&mut *app.conn())
            .unwrap();
        age(1);
        set_expiry(&app, &link.id, Utc::now() + Duration::hours(36));
        assert_eq!(app.reminder_pass(), 1);
        assert_eq!(app.reminder_pass(), 0);
        assert_eq!(app.count("outbox_events WHERE event_type = 'access_link.reminded'"), 2);
        assert_eq!(app.count(&format!("reminders_sent WHERE subject_id = '{}'", never_emailed.id)), 0, "no one to remind");
        set_expiry(&app, &link.id, Utc::now() - Duration::hours(1));
        assert_eq!(app.reminder_pass(), 0, "an expired link is not reminded of");
    }
}
