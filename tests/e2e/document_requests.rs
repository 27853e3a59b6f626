//! Collecting documents from clients: staff ask a contact for a list of items, the contact
//! uploads in the portal, staff accept or return each item, reminders go out on the firm's
//! schedule (the clock is moved in the database, never slept on), and both sides hear of
//! every step in the app.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};
use vestibule_storage::schema::{document_request_items, document_requests, outbox_events, reminders_sent};

use crate::on_both_backends;
use crate::support::fixtures::Firm;
use crate::support::{Reply, TestApp, multipart};

const CONTACT_EMAIL: &str = "cora@client.test";

struct World {
    firm: Firm,
    client_id: String,
    contact_id: String,
    contact_token: String,
}

/// A client assigned to the owner (so the firm's policy tells them of uploads), with a
/// contact signed in to a portal that shows it.
async fn world(app: &TestApp) -> World {
    let firm = app.firm("harbor").await;
    let body = json!({ "kind": "person", "name": "Ada Lovelace", "assignee_staff_ids": [firm.owner_id] });
    let client = app.post("/v1/clients", &firm.owner_token, &body).await;
    assert_eq!(client.status, 201, "{}", client.body);
    let client_id = client.id();
    let contact = app.contact(&firm.owner_token, &client_id, CONTACT_EMAIL).await;
    let contact_id = contact["id"].as_str().unwrap().to_owned();
    let contact_token = app.contact_token(&firm, &contact_id, CONTACT_EMAIL).await;
    World { firm, client_id, contact_id, contact_token }
}

fn today() -> NaiveDate {
    vestibule_storage::now().date()
}

fn day(offset: i64) -> String {
    (today() + Duration::days(offset)).to_string()
}

async fn ask(app: &TestApp, w: &World, due_in: i64) -> Reply {
    let body = json!({
        "client_id": w.client_id, "contact_id": w.contact_id, "title": "2025 tax return",
        "message": "Please upload these by the due date.", "due_on": day(due_in),
        "items": [
            { "name": "W-2 forms", "description": "From every employer" },
            { "name": "1099-INT" },
            { "name": "Photo ID", "due_on": day(due_in) },
        ]
    });
    app.post("/v1/document-requests", &w.firm.owner_token, &body).await
}

async fn upload_raw(app: &TestApp, token: &str, request: &Reply, item: usize, name: &str) -> Reply {
    let path = format!("{}?name={name}", uploads_path(request, item));
    app.send_raw(Method::POST, &path, token, "application/pdf", format!("%PDF-1.7 {name}").into_bytes()).await
}

fn uploads_path(request: &Reply, item: usize) -> String {
    format!("/v1/portal/document-requests/{}/items/{}/uploads", request.id(), item_id(request, item))
}

fn item_id(request: &Reply, item: usize) -> String {
    request.body["items"][item]["id"].as_str().unwrap().to_owned()
}

fn statuses(body: &Value) -> Vec<String> {
    body["items"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap().to_owned()).collect()
}

fn kinds(reply: &Reply) -> Vec<String> {
    reply.body["data"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect()
}

fn emails_of(app: &TestApp, event_type: &str, recipient: &str) -> i64 {
    app.count(&format!(
        "deliveries d JOIN outbox_events e ON e.id = d.event_id \
         WHERE e.event_type = '{event_type}' AND d.channel = 'email' AND d.recipient = '{recipient}'"
    ))
}

fn events_of(app: &TestApp, event_type: &str) -> i64 {
    app.count(&format!("outbox_events WHERE event_type = '{event_type}'"))
}

/// Moves the clock `days` forward for the request: its dates, and the reminders already
/// sent, move back by as much.
fn travel(app: &TestApp, request_id: &str, days: i64) {
    let shift = Duration::days(days);
    let mut conn = app.conn();
    let (created, due): (chrono::NaiveDateTime, Option<NaiveDate>) = document_requests::table
        .find(request_id)
        .select((document_requests::created_at, document_requests::due_on))
        .first(&mut *conn)
        .unwrap();
    diesel::update(document_requests::table.find(request_id))
        .set((document_requests::created_at.eq(created - shift), document_requests::due_on.eq(due.map(|d| d - shift))))
        .execute(&mut *conn)
        .unwrap();
    let items: Vec<(String, Option<NaiveDate>)> = document_request_items::table
        .filter(document_request_items::request_id.eq(request_id))
        .select((document_request_items::id, document_request_items::due_on))
        .load(&mut *conn)
        .unwrap();
    for (id, due) in items {
        diesel::update(document_request_items::table.find(&id))
            .set(document_request_items::due_on.eq(due.map(|d| d - shift)))
            .execute(&mut *conn)
            .unwrap();
        let sent: Vec<NaiveDate> = reminders_sent::table
            .filter(reminders_sent::subject_id.eq(&id))
            .select(reminders_sent::sent_on)
            .load(&mut *conn)
            .unwrap();
        for on in sent {
            diesel::update(reminders_sent::table.find((&id, on)))
                .set(reminders_sent::sent_on.eq(on - shift))
                .execute(&mut *conn)
                .unwrap();
        }
    }
}

fn reminder_pass(app: &TestApp) -> usize {
    app.reminder_pass()
}

on_both_backends! {
    async fn a_request_of_three_items_is_uploaded_returned_redone_and_completed_with_reminders_on_schedule(backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let policy = json!({ "reminders": { "before_due_days": [3], "on_due_date": true, "overdue_every_days": 2 } });
        let firm = app.patch("/v1/firm", &w.firm.owner_token, &policy).await;
        assert_eq!(firm.status, 200, "{}", firm.body);
        assert_eq!(firm.body["settings"]["reminders"]["overdue_every_days"], 2);

        let request = ask(&app, &w, 5).await;
        assert_eq!(request.status, 201, "{}", request.body);
        assert_eq!(request.header("location"), Some(format!("/v1/document-requests/{}", request.id()).as_str()));
        assert_eq!(request.body["status"], "open");
        assert_eq!(request.body["progress"], json!({ "total": 3, "requested": 3, "uploaded": 0, "accepted": 0, "returned": 0 }));
        assert_eq!(request.body["created_by"], w.firm.owner_id);
        assert_eq!(emails_of(&app, "document_request.created", CONTACT_EMAIL), 1, "the contact is emailed");
        let told = app.get("/v1/notifications", &w.contact_token).await;
        assert_eq!(told.status, 200, "{}", told.body);
        assert_eq!(kinds(&told), ["document_request_created"]);
        assert_eq!(told.body["data"][0]["subject_type"], "document_request");
        assert_eq!(told.body["data"][0]["subject_id"], request.id());
        assert_eq!(app.get("/v1/notifications/unread-count", &w.contact_token).await.body["unread"], 1);

        let mine = app.get("/v1/portal/document-requests", &w.contact_token).await;
        assert_eq!(mine.status, 200, "{}", mine.body);
        assert_eq!(mine.body["data"][0]["id"], request.id());
        assert!(mine.body["data"][0]["created_by"].is_null(), "the contact is not shown staff ids");
        assert_eq!(statuses(&mine.body["data"][0]), ["requested", "requested", "requested"]);

        // The schedule: nothing five days ahead; three days ahead, one reminder and only one.
        assert_eq!(reminder_pass(&app), 0);
        travel(&app, &request.id(), 2);
        assert_eq!(reminder_pass(&app), 1);
        assert_eq!(reminder_pass(&app), 0, "one reminder per item and day");
        assert_eq!(emails_of(&app, "document_request.reminded", CONTACT_EMAIL), 1);

        // Two items uploaded in the portal: one raw, one as two files of a form.
        let first = upload_raw(&app, &w.contact_token, &request, 0, "w2.pdf").await;
        assert_eq!(first.status, 201, "{}", first.body);
        assert_eq!(statuses(&first.body), ["uploaded", "requested", "requested"]);
        let (content_type, body) = multipart(&[("1099-bank-a.pdf", b"%PDF-1.7 a"), ("1099-bank-b.pdf", b"%PDF-1.7 b")]);
        let second = app.send_raw(Method::POST, &uploads_path(&request, 1), &w.contact_token, &content_type, body).await;
        assert_eq!(second.status, 201, "{}", second.body);
        assert_eq!(second.body["items"][1]["documents"].as_array().unwrap().len(), 2);
        let document = &first.body["items"][0]["documents"][0];
        assert_eq!(document["uploaded_by"], w.contact_id);
        assert_eq!(document["visible_to_client"], true);
        assert_eq!(events_of(&app, "document.uploaded"), 3);
        assert_eq!(events_of(&app, "document_request.item_uploaded"), 2);
        assert_eq!(emails_of(&app, "document.uploaded", &format!("owner@{}.test", w.firm.slug)), 2, "one email per upload");
        let staff_told = app.get("/v1/notifications?unread=true", &w.firm.owner_token).await;
        assert_eq!(kinds(&staff_told), ["request_item_uploaded", "request_item_uploaded"]);
        let staff_side = app.get(&format!("/v1/documents/{}", document["id"].as_str().unwrap()), &w.firm.owner_token).await;
        assert_eq!(staff_side.status, 200, "staff see the upload at once: {}", staff_side.body);

        // On the due date the third item still waits: a reminder names only it.
        travel(&app, &request.id(), 3);
        assert_eq!(reminder_pass(&app), 1);
        let reminded = app.count(&format!("reminders_sent WHERE subject_id = '{}'", item_id(&request, 2)));
        assert_eq!(reminded, 2, "the waiting item was reminded before the due date and on it");
        assert_eq!(app.count(&format!("reminders_sent WHERE subject_id = '{}'", item_id(&request, 0))), 1);

        // Staff accept one, return one with a reason; the contact hears of the return.
        let base = format!("/v1/document-requests/{}/items", request.id());
        let accepted = app.post(&format!("{base}/{}/accept", item_id(&request, 0)), &w.firm.owner_token, &json!({})).await;
        assert_eq!(accepted.status, 200, "{}", accepted.body);
        let returned = app.post(&format!("{base}/{}/return", item_id(&request, 1)), &w.firm.owner_token, &json!({ "reason": "Bank B's form is cut off" })).await;
        assert_eq!(returned.status, 200, "{}", returned.body);
        assert_eq!(statuses(&returned.body), ["accepted", "returned", "requested"]);
        assert_eq!(emails_of(&app, "document_request.item_returned", CONTACT_EMAIL), 1);
        let contact_told = app.get("/v1/notifications?unread=true", &w.contact_token).await;
        assert_eq!(kinds(&contact_told), ["request_item_returned", "document_request_created"]);
        let seen = app.get(&format!("/v1/portal/document-requests/{}", request.id()), &w.contact_token).await;
        assert_eq!(seen.body["items"][1]["return_reason"], "Bank B's form is cut off");
        assert!(seen.body["items"][1]["reviewed_by"].is_null());

        // Two days overdue, the returned item and the third wait: one reminder for both.
        travel(&app, &request.id(), 2);
        assert_eq!(reminder_pass(&app), 1);
        assert_eq!(emails_of(&app, "document_request.reminded", CONTACT_EMAIL), 3);
        let overdue: String = reminders_sent::table
            .filter(reminders_sent::subject_id.eq(item_id(&request, 1)))
            .order(reminders_sent::sent_on.desc())
            .select(reminders_sent::rule)
            .first(&mut *app.conn())
            .unwrap();
        assert_eq!(overdue, "overdue");

        // Redone and the last item uploaded; staff accept both and the request completes.
        assert_eq!(upload_raw(&app, &w.contact_token, &request, 1, "1099-bank-b-full.pdf").await.status, 201);
        assert_eq!(upload_raw(&app, &w.contact_token, &request, 2, "passport.pdf").await.status, 201);
        for item in [1, 2] {
            let reply = app.post(&format!("{base}/{}/accept", item_id(&request, item)), &w.firm.owner_token, &json!({})).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
        let done = app.get(&format!("/v1/document-requests/{}", request.id()), &w.firm.owner_token).await;
        assert_eq!(done.body["status"], "completed");
        assert!(done.body["closed_at"].is_string());
        assert_eq!(done.body["progress"]["accepted"], 3);
        assert_eq!(events_of(&app, "document_request.completed"), 1);

        // Completed: no reminder, whatever the day; nothing more can be uploaded.
        travel(&app, &request.id(), 2);
        assert_eq!(reminder_pass(&app), 0);
        upload_raw(&app, &w.contact_token, &request, 2, "again.pdf").await.assert_problem(409, "request_completed");
        let audit = app.count("audit_events WHERE action LIKE 'document_request.%'");
        assert!(audit >= 9, "every step is audited: {audit}");
    }

    async fn staff_remind_now_at_most_once_a_day_and_never_after_cancelling(backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let request = ask(&app, &w, 20).await;
        let remind = format!("/v1/document-requests/{}/remind", request.id());
        let reminded = app.post(&remind, &w.firm.owner_token, &json!({})).await;
        assert_eq!(reminded.status, 200, "{}", reminded.body);
        assert_eq!(emails_of(&app, "document_request.reminded", CONTACT_EMAIL), 1);
        app.post(&remind, &w.firm.owner_token, &json!({})).await.assert_problem(409, "already_reminded");

        let cancelled = app.post(&format!("/v1/document-requests/{}/cancel", request.id()), &w.firm.owner_token, &json!({})).await;
        assert_eq!(cancelled.status, 200, "{}", cancelled.body);
        assert_eq!(cancelled.body["status"], "cancelled");
        travel(&app, &request.id(), 17);
        assert_eq!(reminder_pass(&app), 0, "a cancelled request is never reminded");
        app.post(&remind, &w.firm.owner_token, &json!({})).await.assert_problem(409, "request_closed");
        upload_raw(&app, &w.contact_token, &request, 0, "late.pdf").await.assert_problem(409, "request_cancelled");
        assert_eq!(app.count("documents"), 0, "the refused upload left nothing");
        app.post(&format!("/v1/document-requests/{}/cancel", request.id()), &w.firm.owner_token, &json!({}))
            .await
            .assert_problem(409, "request_cancelled");
    }

    async fn bad_requests_are_refused_with_nothing_stored(backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let post = |body: Value| {
            let (app, token) = (&app, w.firm.owner_token.clone());
            async move { app.post("/v1/document-requests", &token, &body).await }
        };
        let base = json!({ "client_id": w.client_id, "contact_id": w.contact_id, "title": "Papers", "items": [{ "name": "ID" }] });
        let mut no_items = base.clone();
        no_items["items"] = json!([]);
        post(no_items).await.assert_problem(422, "validation_failed");
        let mut past = base.clone();
        past["items"][0]["due_on"] = json!(day(-1));
        let reply = post(past).await;
        reply.assert_problem(422, "validation_failed");
        assert_eq!(reply.body["errors"][0]["pointer"], "/items/0/due_on");
        let mut blank = base.clone();
        blank["items"][0]["name"] = json!("  ");
        assert_eq!(post(blank).await.body["errors"][0]["pointer"], "/items/0/name");
        let mut nul = base.clone();
        nul["title"] = json!("Pa\u{0}pers");
        post(nul).await.assert_problem(422, "validation_failed");
        let mut unknown = base.clone();
        unknown["contact_id"] = json!("con_0193d0c0a1b27f3c9e4d5a6b7c8d9e0f");
        assert_eq!(post(unknown).await.body["errors"][0]["pointer"], "/contact_id");
        // A contact of the firm whose portal does not show this client.
        let other = app.client(&w.firm.owner_token, "Bob Babbage").await;
        let stranger = app.contact(&w.firm.owner_token, other["id"].as_str().unwrap(), "bob@client.test").await;
        let mut elsewhere = base.clone();
        elsewhere["contact_id"] = stranger["id"].clone();
        post(elsewhere).await.assert_problem(409, "portal_required");
        assert_eq!(app.count("document_requests"), 0);
        assert_eq!(app.count("document_request_items"), 0);

        let request = post(base).await;
        assert_eq!(request.status, 201, "{}", request.body);
        let accept = format!("/v1/document-requests/{}/items/{}/accept", request.id(), item_id(&request, 0));
        app.post(&accept, &w.firm.owner_token, &json!({})).await.assert_problem(409, "nothing_uploaded");
        let wrong_item = format!("/v1/document-requests/{}/items/dri_0193d0c0a1b27f3c9e4d5a6b7c8d9e0f/accept", request.id());
        app.post(&wrong_item, &w.firm.owner_token, &json!({})).await.assert_problem(404, "not_found");
        let give_back = format!("/v1/document-requests/{}/items/{}/return", request.id(), item_id(&request, 0));
        app.post(&give_back, &w.firm.owner_token, &json!({ "reason": "" })).await.assert_problem(422, "validation_failed");

        // An upload over the firm's limit keeps nothing and leaves the item as it was.
        let limit = app.patch("/v1/firm", &w.firm.owner_token, &json!({ "upload_limit_bytes": 8 })).await;
        assert_eq!(limit.status, 200, "{}", limit.body);
        upload_raw(&app, &w.contact_token, &request, 0, "too-big.pdf").await.assert_problem(413, "payload_too_large");
        assert_eq!(app.count("documents"), 0);
        assert_eq!(app.count("pending_blobs"), 0);
        let seen = app.get(&format!("/v1/portal/document-requests/{}", request.id()), &w.contact_token).await;
        assert_eq!(statuses(&seen.body), ["requested"]);
        assert_eq!(app.patch("/v1/firm", &w.firm.owner_token, &json!({ "reminders": { "before_due_days": [0] } })).await.status, 422);
    }

    async fn a_contact_uploads_in_the_portal_and_removes_own_files_until_they_are_accepted(backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let folder = app.post("/v1/folders", &w.firm.owner_token, &json!({ "client_id": w.client_id, "name": "From the client" })).await;
        let path = format!("/v1/portal/documents?client_id={}&folder_id={}&name=receipts.pdf", w.client_id, folder.id());
        let uploaded = app.send_raw(Method::POST, &path, &w.contact_token, "application/pdf", b"%PDF-1.7 receipts".to_vec()).await;
        assert_eq!(uploaded.status, 201, "{}", uploaded.body);
        let document = uploaded.body[0].clone();
        assert_eq!(document["folder_id"], folder.id());
        assert_eq!(document["uploaded_by"], w.contact_id);
        assert_eq!(document["content_type"], "application/pdf");
        let listed = app.get("/v1/portal/documents", &w.contact_token).await;
        assert_eq!(listed.body["data"][0]["id"], document["id"], "the contact sees their upload");
        let staff_told = app.get("/v1/notifications", &w.firm.owner_token).await;
        assert_eq!(kinds(&staff_told), ["upload_received"]);
        assert_eq!(staff_told.body["data"][0]["subject_id"], document["id"]);
        assert_eq!(emails_of(&app, "document.uploaded", &format!("owner@{}.test", w.firm.slug)), 1);
        let data: String = outbox_events::table
            .filter(outbox_events::event_type.eq("document.uploaded"))
            .select(outbox_events::data)
            .first(&mut *app.conn())
            .unwrap();
        let data: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(data["uploaded_by"], json!({ "type": "contact", "id": w.contact_id }));
        assert_eq!(data["id"], document["id"]);

        // Another client's place is unknown to the contact; nothing is kept.
        let other = app.client(&w.firm.owner_token, "Bob Babbage").await;
        let elsewhere = format!("/v1/portal/documents?client_id={}&name=x.pdf", other["id"].as_str().unwrap());
        let refused = app.send_raw(Method::POST, &elsewhere, &w.contact_token, "application/pdf", b"x".to_vec()).await;
        refused.assert_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["pointer"], "#/query/client_id");
        assert_eq!(app.count("documents"), 1);

        // The contact attaches their upload to a message; staff see it with the message.
        let conversation = app.post("/v1/conversations", &w.firm.owner_token, &json!({ "contact_id": w.contact_id, "subject": "Receipts", "body": "Send them here." })).await;
        assert_eq!(conversation.status, 201, "{}", conversation.body);
        let messages = format!("/v1/portal/conversations/{}/messages", conversation.id());
        let sent = app.post(&messages, &w.contact_token, &json!({ "body": "Attached.", "document_ids": [document["id"]] })).await;
        assert_eq!(sent.status, 201, "{}", sent.body);
        let thread = app.get(&format!("/v1/conversations/{}/messages", conversation.id()), &w.firm.owner_token).await;
        let last = thread.body["data"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["attachments"][0]["document_id"], document["id"], "{last}");
        let staff_file = app
            .send_raw(Method::POST, &format!("/v1/documents?client_id={}&name=memo.txt&visible_to_client=true", w.client_id), &w.firm.owner_token, "text/plain", b"memo".to_vec())
            .await;
        let refused = app.post(&messages, &w.contact_token, &json!({ "body": "Theirs.", "document_ids": [staff_file.id()] })).await;
        refused.assert_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["pointer"], "/document_ids/0");

        // Staff's document is not the contact's to remove; their own is.
        let staff_doc = app
            .send_raw(Method::POST, &format!("/v1/documents?client_id={}&name=letter.txt&visible_to_client=true", w.client_id), &w.firm.owner_token, "text/plain", b"letter".to_vec())
            .await;
        app.delete(&format!("/v1/portal/documents/{}", staff_doc.id()), &w.contact_token).await.assert_problem(403, "forbidden");
        let removed = app.delete(&format!("/v1/portal/documents/{}", document["id"].as_str().unwrap()), &w.contact_token).await;
        assert_eq!(removed.status, 204, "{}", removed.body);
        assert_eq!(app.get("/v1/portal/documents", &w.contact_token).await.body["data"].as_array().unwrap().len(), 2);

        // An upload into a request item can be removed until staff accept it.
        let request = ask(&app, &w, 10).await;
        let first = upload_raw(&app, &w.contact_token, &request, 0, "w2.pdf").await;
        let doc_id = first.body["items"][0]["documents"][0]["id"].as_str().unwrap().to_owned();
        let removed = app.delete(&format!("/v1/portal/documents/{doc_id}"), &w.contact_token).await;
        assert_eq!(removed.status, 204);
        let seen = app.get(&format!("/v1/portal/document-requests/{}", request.id()), &w.contact_token).await;
        assert_eq!(statuses(&seen.body)[0], "requested", "an item without files is asked for again");
        let again = upload_raw(&app, &w.contact_token, &request, 0, "w2.pdf").await;
        let doc_id = again.body["items"][0]["documents"][0]["id"].as_str().unwrap().to_owned();
        let accept = format!("/v1/document-requests/{}/items/{}/accept", request.id(), item_id(&request, 0));
        assert_eq!(app.post(&accept, &w.firm.owner_token, &json!({})).await.status, 200);
        app.delete(&format!("/v1/portal/documents/{doc_id}"), &w.contact_token).await.assert_problem(409, "item_accepted");
    }

    async fn what_is_outstanding_with_a_client_shows_at_a_glance(backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let outstanding = format!("/v1/clients/{}/outstanding", w.client_id);
        let nothing = app.get(&outstanding, &w.firm.owner_token).await;
        assert_eq!(nothing.status, 200, "{}", nothing.body);
        assert_eq!(nothing.body["open_requests"], 0);

        let request = ask(&app, &w, 10).await;
        assert_eq!(upload_raw(&app, &w.contact_token, &request, 0, "w2.pdf").await.status, 201);
        let letter = app
            .send_raw(Method::POST, &format!("/v1/documents?client_id={}&name=letter.txt&visible_to_client=true", w.client_id), &w.firm.owner_token, "text/plain", b"letter".to_vec())
            .await;
        let signature = app.post(&format!("/v1/documents/{}/signature-requests", letter.id()), &w.firm.owner_token, &json!({ "contact_id": w.contact_id })).await;
        assert_eq!(signature.status, 201, "{}", signature.body);
        let started = app.post("/v1/portal/conversations", &w.contact_token, &json!({ "subject": "Question", "body": "When is it due?" })).await;
        assert_eq!(started.status, 201, "{}", started.body);

        let counts = app.get(&outstanding, &w.firm.owner_token).await;
        assert_eq!(counts.body, json!({
            "client_id": w.client_id, "open_requests": 1, "items_waiting_for_client": 2, "items_to_review": 1,
            "unsigned_signature_requests": 1, "unread_conversations": 1, "documents_never_downloaded": 1,
        }));

        let read = app.post(&format!("/v1/conversations/{}/read", started.id()), &w.firm.owner_token, &json!({})).await;
        assert_eq!(read.status, 204, "{}", read.body);
        let download = app.get(&format!("/v1/portal/documents/{}/content", letter.id()), &w.contact_token).await;
        assert_eq!(download.status, 200);
        let counts = app.get(&outstanding, &w.firm.owner_token).await;
        assert_eq!(counts.body["unread_conversations"], 0);
        assert_eq!(counts.body["documents_never_downloaded"], 0);
        app.get("/v1/clients/cli_0193d0c0a1b27f3c9e4d5a6b7c8d9e0f/outstanding", &w.firm.owner_token).await.assert_problem(404, "not_found");
    }

    async fn uploads_without_a_folder_go_to_the_inbox_staff_chose_for_the_client(backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let inbox = app.post("/v1/folders", &w.firm.owner_token, &json!({ "client_id": w.client_id, "name": "Inbox" })).await.id();
        let matter = app.matter(&w.firm.owner_token, &w.client_id, false).await["id"].as_str().unwrap().to_owned();
        let of_matter = app.post("/v1/folders", &w.firm.owner_token, &json!({ "matter_id": matter, "name": "Estate" })).await.id();
        let client_path = format!("/v1/clients/{}", w.client_id);
        let refused = app.patch(&client_path, &w.firm.owner_token, &json!({ "portal_inbox_folder_id": of_matter })).await;
        refused.assert_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["pointer"], "/portal_inbox_folder_id");
        let set = app.patch(&client_path, &w.firm.owner_token, &json!({ "portal_inbox_folder_id": inbox })).await;
        assert_eq!(set.status, 200, "{}", set.body);
        assert_eq!(set.body["portal_inbox_folder_id"], inbox);

        let path = format!("/v1/portal/documents?client_id={}&name=scan.pdf", w.client_id);
        let uploaded = app.send_raw(Method::POST, &path, &w.contact_token, "application/pdf", b"%PDF-1.7 scan".to_vec()).await;
        assert_eq!(uploaded.status, 201, "{}", uploaded.body);
        assert_eq!(uploaded.body[0]["folder_id"], inbox);
        let request = ask(&app, &w, 10).await;
        let answered = upload_raw(&app, &w.contact_token, &request, 0, "w2.pdf").await;
        assert_eq!(answered.body["items"][0]["documents"][0]["folder_id"], inbox, "request uploads too");

        let cleared = app.patch(&client_path, &w.firm.owner_token, &json!({ "portal_inbox_folder_id": null })).await;
        assert!(cleared.body["portal_inbox_folder_id"].is_null(), "{}", cleared.body);
        let loose = app.send_raw(Method::POST, &path, &w.contact_token, "application/pdf", b"%PDF-1.7 loose".to_vec()).await;
        assert!(loose.body[0]["folder_id"].is_null());
    }
}
