//! Secure messaging (seeds 001 and 003): conversations, replies, read state, templates,
//! the firm's notification policy, emails without content, and who sees what.

use reqwest::Method;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::fixtures::Firm;
use crate::support::smtp::SmtpListener;
use crate::support::{Reply, TestApp};

/// A client with one contact whose portal is active; returns client id, contact id and the
/// contact's token.
async fn client_with_portal(app: &TestApp, firm: &Firm, name: &str, email: &str) -> (String, String, String) {
    let client = app.client(&firm.owner_token, name).await;
    let client_id = client["id"].as_str().unwrap().to_owned();
    let contact = app.contact(&firm.owner_token, &client_id, email).await;
    let contact_id = contact["id"].as_str().unwrap().to_owned();
    let token = app.contact_token(firm, &contact_id, email).await;
    (client_id, contact_id, token)
}

async fn start(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post("/v1/conversations", token, &body).await
}

async fn portal_start(app: &TestApp, token: &str, subject: &str) -> Reply {
    app.post("/v1/portal/conversations", token, &json!({ "subject": subject, "body": "Hello, I have a question." }))
        .await
}

fn ids(reply: &Reply) -> Vec<String> {
    reply.body["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

on_both_backends! {
    async fn staff_write_only_to_a_contact_whose_portal_is_active(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let contact = app.contact(&firm.owner_token, client_id, "cora@client.test").await;
        let contact_id = contact["id"].as_str().unwrap();
        let body = json!({ "contact_id": contact_id, "subject": "Your documents", "body": "Please log in." });

        start(&app, &firm.owner_token, body.clone()).await.assert_problem(409, "portal_required");
        let portal = app.post("/v1/portals", &firm.owner_token, &json!({ "contact_id": contact_id, "kind": "full", "invite": false, "grants": [] })).await;
        assert_eq!(portal.status, 201, "{}", portal.body);
        start(&app, &firm.owner_token, body.clone()).await.assert_problem(409, "portal_inactive");
        vestibule_storage::portals::activate(&mut app.conn(), &portal.id(), vestibule_storage::now()).unwrap();
        start(&app, &firm.owner_token, body.clone()).await.assert_problem(409, "portal_lacks_access");
        assert_eq!(app.count("conversations"), 0);
        assert_eq!(app.count("messages"), 0);
        assert_eq!(
            app.count("outbox_events WHERE event_type IN ('conversation.started', 'message.created')"),
            0,
            "a refused message tells nobody"
        );

        let grant = app.post(&format!("/v1/portals/{}/grants", portal.id()), &firm.owner_token, &json!({ "client_id": client_id })).await;
        assert_eq!(grant.status, 201, "{}", grant.body);
        let started = start(&app, &firm.owner_token, body).await;
        assert_eq!(started.status, 201, "{}", started.body);
        assert_eq!(started.header("location"), Some(format!("/v1/conversations/{}", started.id()).as_str()));
        assert_eq!(started.body["client_id"], client_id, "the contact's client by default");
        assert_eq!(started.body["started_by"], "staff");
        assert_eq!(started.body["last_message"]["body"], "Please log in.");
        assert_eq!(started.body["last_message"]["author"]["name"], "Olive Owner");
        assert_eq!(started.body["unread_count"], 0, "the sender has read what they wrote");
        assert_eq!(app.count("outbox_events WHERE event_type IN ('conversation.started', 'message.created')"), 2);
    }

    async fn the_contact_email_says_a_message_waits_but_never_what_it_says(backend) {
        let smtp = SmtpListener::start().await;
        let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        let (_, contact_id, _) = client_with_portal(&app, &firm, "Ada Lovelace", "cora@client.test").await;
        let secret = "The settlement offer is 250,000 EUR";
        let started = start(&app, &firm.owner_token, json!({ "contact_id": contact_id, "subject": "Settlement offer", "body": secret })).await;
        assert_eq!(started.status, 201, "{}", started.body);
        let reply = app.post(&format!("/v1/conversations/{}/messages", started.id()), &firm.owner_token, &json!({ "body": "A second confidential note" })).await;
        assert_eq!(reply.status, 201, "{}", reply.body);

        let mails = smtp.wait_for(2).await;
        for mail in &mails {
            assert_eq!(mail.to, vec!["cora@client.test"]);
            let text = mail.text();
            assert!(text.contains("secure message"), "{text}");
            assert!(text.contains(&format!("http://vestibule.test/portal/conversations/{}", started.id())), "{text}");
            for confidential in [secret, "Settlement offer", "confidential note"] {
                assert!(!mail.data.contains(confidential) && !text.contains(confidential), "the email carried {confidential:?}");
            }
        }
        assert_eq!(app.count("deliveries WHERE content LIKE '%250,000%'"), 0, "the outbox holds no content either");
    }

    async fn a_client_started_thread_notifies_whom_the_firm_policy_names(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (assignee, _) = app.staff(&firm, "member", "asa@harbor.test").await;
        let (owner, _) = app.staff(&firm, "member", "oscar@harbor.test").await;
        let (bystander, _) = app.staff(&firm, "member", "ben@harbor.test").await;
        let (disabled, _) = app.staff(&firm, "member", "dora@harbor.test").await;
        let off = app.call(Method::POST, &format!("/v1/staff/{disabled}/disable"), Some(&firm.owner_token), None).await;
        assert_eq!(off.status, 200, "{}", off.body);
        let client = app.post("/v1/clients", &firm.owner_token, &json!({ "kind": "person", "name": "Ada Lovelace", "owner_staff_id": owner, "assignee_staff_ids": [assignee] })).await;
        let client_id = client.id();
        let contact = app.contact(&firm.owner_token, &client_id, "cora@client.test").await;
        let contact_token = app.contact_token(&firm, contact["id"].as_str().unwrap(), "cora@client.test").await;

        let everyone_active = {
            let mut all = vec![firm.owner_id.clone(), assignee.clone(), owner.clone(), bystander.clone()];
            all.sort();
            all
        };
        let cases = [
            ("assignees", vec![assignee.clone()]),
            ("assignees_and_owner", { let mut v = vec![assignee.clone(), owner.clone()]; v.sort(); v }),
            ("all_members", everyone_active),
            ("no_one", vec![]),
        ];
        for (policy, expected) in cases {
            let set = app.patch("/v1/firm", &firm.owner_token, &json!({ "thread_notification_policy": policy })).await;
            assert_eq!(set.status, 200, "{}", set.body);
            let started = portal_start(&app, &contact_token, policy).await;
            assert_eq!(started.status, 201, "{}", started.body);
            let conversation = started.id();
            let notified: Vec<String> = {
                #[derive(diesel::QueryableByName)]
                struct Recipient {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    staff_id: String,
                }
                use diesel::RunQueryDsl;
                diesel::sql_query(format!("SELECT recipient_id AS staff_id FROM notifications WHERE subject_id = '{conversation}' AND recipient_kind = 'staff' ORDER BY recipient_id"))
                    .load::<Recipient>(&mut *app.conn())
                    .unwrap()
                    .into_iter()
                    .map(|r| r.staff_id)
                    .collect()
            };
            assert_eq!(notified, expected, "in-app notifications under {policy}");
            let emailed = app.count(&format!(
                "deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE d.channel = 'email' AND e.event_type = 'conversation.started' AND e.data LIKE '%{conversation}%'"
            ));
            assert_eq!(emailed, i64::try_from(expected.len()).unwrap(), "emails under {policy}");
        }
        assert_eq!(app.count(&format!("notifications WHERE recipient_id = '{disabled}'")), 0, "disabled staff hear nothing");
    }

    async fn a_client_reply_notifies_every_member_with_access_in_the_app_only(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (member, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let (outsider, outsider_token) = app.staff(&firm, "member", "otto@harbor.test").await;
        let (client_id, contact_id, contact_token) = client_with_portal(&app, &firm, "Ada Lovelace", "cora@client.test").await;
        let started = start(&app, &member_token, json!({ "contact_id": contact_id, "subject": "Hello", "body": "How are you?" })).await;
        assert_eq!(started.status, 201, "{}", started.body);
        let answer = app.post(&format!("/v1/portal/conversations/{}/messages", started.id()), &contact_token, &json!({ "body": "Fine, thanks." })).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(answer.body["author"]["kind"], "contact");
        assert_eq!(answer.body["author"]["name"], "Cora Contact");
        for staff_id in [&firm.owner_id, &member, &outsider] {
            assert_eq!(app.count(&format!("notifications WHERE recipient_id = '{staff_id}' AND kind = 'message_received'")), 1);
        }
        assert_eq!(app.count("deliveries WHERE channel = 'email' AND recipient LIKE '%harbor.test'"), 0, "replies notify in the app, not by email");

        // In a restricted matter, only its members and the admins hear of it.
        let matter = app.matter(&firm.owner_token, &client_id, true).await;
        let matter_id = matter["id"].as_str().unwrap();
        let joined = app.put(&format!("/v1/matters/{matter_id}/members/{member}"), &firm.owner_token, &json!({ "role": "case_handler" })).await;
        assert!(joined.status.is_success(), "{}", joined.body);
        let secret = start(&app, &member_token, json!({ "contact_id": contact_id, "matter_id": matter_id, "subject": "Sealed", "body": "Restricted." })).await;
        assert_eq!(secret.status, 201, "{}", secret.body);
        let answer = app.post(&format!("/v1/portal/conversations/{}/messages", secret.id()), &contact_token, &json!({ "body": "Understood." })).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(app.count(&format!("notifications WHERE recipient_id = '{outsider}'")), 1, "nothing about the restricted matter");
        assert_eq!(app.count(&format!("notifications WHERE recipient_id = '{member}'")), 2);

        let list = app.get("/v1/conversations", &outsider_token).await;
        assert_eq!(ids(&list), vec![started.id()], "the outsider does not see the restricted conversation");
        for path in [format!("/v1/conversations/{}", secret.id()), format!("/v1/conversations/{}/messages", secret.id())] {
            app.get(&path, &outsider_token).await.assert_problem(404, "not_found");
        }
        app.post(&format!("/v1/conversations/{}/messages", secret.id()), &outsider_token, &json!({ "body": "Peek" })).await.assert_problem(404, "not_found");
        let filtered = app.get(&format!("/v1/conversations?matter_id={matter_id}"), &outsider_token).await;
        assert_eq!(ids(&filtered), Vec::<String>::new());
        assert_eq!(app.count(&format!("messages WHERE conversation_id = '{}'", secret.id())), 2, "the peek wrote nothing");
    }

    async fn a_contact_never_sees_another_clients_conversations(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, contact_a, token_a) = client_with_portal(&app, &firm, "Ada Lovelace", "ada@client.test").await;
        let (client_b, contact_b, token_b) = client_with_portal(&app, &firm, "Bob Babbage", "bob@client.test").await;
        let to_a = start(&app, &firm.owner_token, json!({ "contact_id": contact_a, "subject": "For A", "body": "A only" })).await;
        let to_b = start(&app, &firm.owner_token, json!({ "contact_id": contact_b, "subject": "For B", "body": "B only" })).await;
        assert_eq!(to_b.status, 201, "{}", to_b.body);

        let mine = app.get("/v1/portal/conversations", &token_a).await;
        assert_eq!(ids(&mine), vec![to_a.id()]);
        assert!(!mine.body.to_string().contains("B only"));
        for path in [format!("/v1/portal/conversations/{}", to_b.id()), format!("/v1/portal/conversations/{}/messages", to_b.id())] {
            app.get(&path, &token_a).await.assert_problem(404, "not_found");
        }
        app.post(&format!("/v1/portal/conversations/{}/messages", to_b.id()), &token_a, &json!({ "body": "Hi B" })).await.assert_problem(404, "not_found");
        app.post(&format!("/v1/portal/conversations/{}/read", to_b.id()), &token_a, &json!({})).await.assert_problem(404, "not_found");
        let started = app.post("/v1/portal/conversations", &token_a, &json!({ "client_id": client_b, "subject": "Sneaky", "body": "x" })).await;
        started.assert_problem(422, "validation_failed");
        assert_eq!(started.body["errors"][0]["pointer"], "/client_id");
        assert_eq!(app.count(&format!("messages WHERE conversation_id = '{}'", to_b.id())), 1);
        assert_eq!(ids(&app.get("/v1/portal/conversations", &token_b).await), vec![to_b.id()]);
    }

    async fn read_state_is_kept_per_participant(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, contact_id, contact_token) = client_with_portal(&app, &firm, "Ada Lovelace", "cora@client.test").await;
        let (_, colleague_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let started = start(&app, &firm.owner_token, json!({ "contact_id": contact_id, "subject": "Two things", "body": "First" })).await;
        let id = started.id();
        let second = app.post(&format!("/v1/conversations/{id}/messages"), &firm.owner_token, &json!({ "body": "Second" })).await;
        assert_eq!(second.status, 201, "{}", second.body);

        let inbox = app.get("/v1/portal/conversations?unread=true", &contact_token).await;
        assert_eq!(inbox.body["data"][0]["unread_count"], 2);
        assert_eq!(inbox.body["data"][0]["last_message"]["body"], "Second");
        let chain = app.get(&format!("/v1/portal/conversations/{id}/messages"), &contact_token).await;
        let bodies: Vec<&str> = chain.body["data"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
        assert_eq!(bodies, vec!["First", "Second"], "the whole chain, oldest first");
        let first_id = chain.body["data"][0]["id"].as_str().unwrap().to_owned();

        let partly = app.post(&format!("/v1/portal/conversations/{id}/read"), &contact_token, &json!({ "up_to": first_id })).await;
        assert_eq!(partly.status, 204, "{}", partly.body);
        assert_eq!(app.get(&format!("/v1/portal/conversations/{id}"), &contact_token).await.body["unread_count"], 1);
        let all = app.post(&format!("/v1/portal/conversations/{id}/read"), &contact_token, &json!({})).await;
        assert_eq!(all.status, 204);
        let backwards = app.post(&format!("/v1/portal/conversations/{id}/read"), &contact_token, &json!({ "up_to": first_id })).await;
        assert_eq!(backwards.status, 204);
        let seen = app.get(&format!("/v1/portal/conversations/{id}"), &contact_token).await;
        assert_eq!(seen.body["unread_count"], 0, "a read position never moves back");
        assert_eq!(app.get("/v1/portal/conversations?unread=true", &contact_token).await.body["data"], json!([]));

        let staff_view = app.get(&format!("/v1/conversations/{id}"), &firm.owner_token).await;
        assert_eq!(staff_view.body["contact_read"]["message_id"], second.id(), "staff see the client read it");

        let answer = app.post(&format!("/v1/portal/conversations/{id}/messages"), &contact_token, &json!({ "body": "Thanks" })).await;
        assert_eq!(answer.status, 201);
        for token in [&firm.owner_token, &colleague_token] {
            let unread = app.get("/v1/conversations?unread=true", token).await;
            assert_eq!(unread.body["data"][0]["unread_count"], 1, "each staff member reads for themselves");
        }
        app.post(&format!("/v1/conversations/{id}/read"), &firm.owner_token, &json!({})).await;
        assert_eq!(app.get("/v1/conversations?unread=true", &firm.owner_token).await.body["data"], json!([]));
        assert_eq!(ids(&app.get("/v1/conversations?unread=false", &firm.owner_token).await), vec![id.clone()]);
        assert_eq!(ids(&app.get("/v1/conversations?unread=true", &colleague_token).await), vec![id.clone()]);
        let bad = app.post(&format!("/v1/conversations/{id}/read"), &firm.owner_token, &json!({ "up_to": "msg_0193a3b2c4d57e8f9a0b1c2d3e4f5a6b" })).await;
        bad.assert_problem(422, "validation_failed");
        assert_eq!(bad.body["errors"][0]["pointer"], "/up_to");
    }

    async fn the_inbox_filters_and_pages_by_latest_activity(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (client_id, contact_id, contact_token) = client_with_portal(&app, &firm, "Ada Lovelace", "cora@client.test").await;
        let matter = app.matter(&firm.owner_token, &client_id, false).await;
        let matter_id = matter["id"].as_str().unwrap();
        let mut started = Vec::new();
        for (subject, channel, matter) in [("One", Some("Documents"), None), ("Two", None, Some(matter_id)), ("Three", Some("Documents"), None)] {
            let reply = start(&app, &firm.owner_token, json!({ "contact_id": contact_id, "subject": subject, "body": "text", "channel": channel, "matter_id": matter })).await;
            assert_eq!(reply.status, 201, "{}", reply.body);
            started.push(reply.id());
        }
        // New activity moves the first conversation to the top.
        let bump = app.post(&format!("/v1/portal/conversations/{}/messages", started[0]), &contact_token, &json!({ "body": "bump" })).await;
        assert_eq!(bump.status, 201);
        let first = app.get("/v1/conversations?limit=2", &firm.owner_token).await;
        assert_eq!(ids(&first), vec![started[0].clone(), started[2].clone()]);
        let cursor = first.body["next_cursor"].as_str().unwrap();
        let rest = app.get(&format!("/v1/conversations?limit=2&cursor={cursor}"), &firm.owner_token).await;
        assert_eq!(ids(&rest), vec![started[1].clone()]);
        assert!(rest.body["next_cursor"].is_null());
        assert_eq!(ids(&app.get("/v1/conversations?channel=Documents", &firm.owner_token).await), vec![started[0].clone(), started[2].clone()]);
        assert_eq!(ids(&app.get(&format!("/v1/conversations?matter_id={matter_id}"), &firm.owner_token).await), vec![started[1].clone()]);
        assert_eq!(ids(&app.get(&format!("/v1/conversations?client_id={client_id}&contact_id={contact_id}"), &firm.owner_token).await).len(), 3);
        assert_eq!(ids(&app.get("/v1/portal/conversations?channel=Documents", &contact_token).await).len(), 2);
        let (_, archive) = app.api_key(&firm.owner_token, &["messages:read"]).await;
        assert_eq!(ids(&app.get("/v1/conversations", &archive).await).len(), 3, "an archive integration reads");
        start(&app, &archive, json!({ "contact_id": contact_id, "subject": "Bot", "body": "x" })).await.assert_problem(403, "forbidden");
    }

    async fn templates_fill_placeholders_and_refuse_unknown_ones(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let (client_id, contact_id, _) = client_with_portal(&app, &firm, "Ada Lovelace", "cora@client.test").await;

        let unknown = app.post("/v1/message-templates", &firm.owner_token, &json!({ "name": "Bad", "subject": "Hi", "body": "Dear {{contact.nickname}}" })).await;
        unknown.assert_problem(422, "validation_failed");
        assert_eq!(unknown.body["errors"][0]["pointer"], "/body");
        assert_eq!(unknown.body["errors"][0]["code"], "unknown_placeholder");
        let unclosed = app.post("/v1/message-templates", &firm.owner_token, &json!({ "name": "Bad", "subject": "Hi {{client.name", "body": "x" })).await;
        assert_eq!(unclosed.body["errors"][0]["code"], "malformed_placeholder");
        assert_eq!(app.count("message_templates"), 0);
        app.post("/v1/message-templates", &member_token, &json!({ "name": "Mine", "subject": "s", "body": "b" })).await.assert_problem(403, "forbidden");

        let template = app.post("/v1/message-templates", &firm.owner_token, &json!({
            "name": "Welcome", "subject": "Welcome, {{client.name}}",
            "body": "Dear {{ contact.first_name }},\nwelcome to {{firm.name}}.\n{{staff.name}}"
        })).await;
        assert_eq!(template.status, 201, "{}", template.body);
        let template_id = template.id();
        app.post("/v1/message-templates", &firm.owner_token, &json!({ "name": "Welcome", "subject": "s", "body": "b" })).await.assert_problem(409, "template_name_taken");
        let listed = app.get("/v1/message-templates?q=welc", &member_token).await;
        assert_eq!(ids(&listed), vec![template_id.clone()]);

        let rendered = app.post(&format!("/v1/message-templates/{template_id}/render"), &member_token, &json!({ "contact_id": contact_id })).await;
        assert_eq!(rendered.status, 200, "{}", rendered.body);
        assert_eq!(rendered.body["subject"], "Welcome, Ada Lovelace");
        assert_eq!(rendered.body["body"], "Dear Cora,\nwelcome to harbor LLP.\nSam Staff");

        let started = start(&app, &firm.owner_token, json!({ "contact_id": contact_id, "template_id": template_id })).await;
        assert_eq!(started.status, 201, "{}", started.body);
        assert_eq!(started.body["subject"], "Welcome, Ada Lovelace");
        assert_eq!(started.body["last_message"]["body"], "Dear Cora,\nwelcome to harbor LLP.\nOlive Owner");

        let about_matter = app.patch(&format!("/v1/message-templates/{template_id}"), &firm.owner_token, &json!({ "body": "About {{matter.title}}" })).await;
        assert_eq!(about_matter.status, 200, "{}", about_matter.body);
        let refused = start(&app, &firm.owner_token, json!({ "contact_id": contact_id, "client_id": client_id, "template_id": template_id })).await;
        refused.assert_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["code"], "placeholder_unavailable");
        assert_eq!(refused.body["errors"][0]["pointer"], "/template_id");
        let reply = app.post(&format!("/v1/conversations/{}/messages", started.id()), &firm.owner_token, &json!({ "template_id": template_id })).await;
        assert_eq!(reply.body["errors"][0]["code"], "placeholder_unavailable", "{}", reply.body);
        assert_eq!(app.count("conversations"), 1);
        assert_eq!(app.count("messages"), 1);

        let deleted = app.delete(&format!("/v1/message-templates/{template_id}"), &firm.owner_token).await;
        assert_eq!(deleted.status, 204);
        app.get(&format!("/v1/message-templates/{template_id}"), &member_token).await.assert_problem(404, "not_found");
    }

    async fn notifications_list_count_and_mark_read(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let (_, _, contact_token) = client_with_portal(&app, &firm, "Ada Lovelace", "cora@client.test").await;
        app.patch("/v1/firm", &firm.owner_token, &json!({ "thread_notification_policy": "all_members" })).await;
        let started = portal_start(&app, &contact_token, "Question").await;
        let id = started.id();
        for body in ["More", "Even more"] {
            let reply = app.post(&format!("/v1/portal/conversations/{id}/messages"), &contact_token, &json!({ "body": body })).await;
            assert_eq!(reply.status, 201, "{}", reply.body);
        }
        let count = app.get("/v1/notifications/unread-count", &member_token).await;
        assert_eq!(count.body["unread"], 3);
        let list = app.get("/v1/notifications?limit=2", &member_token).await;
        assert_eq!(list.body["data"][0]["kind"], "message_received", "newest first");
        assert_eq!(list.body["data"][0]["client_name"], "Ada Lovelace");
        assert!(list.body["next_cursor"].is_string());
        let oldest = app.get(&format!("/v1/notifications?cursor={}", list.body["next_cursor"].as_str().unwrap()), &member_token).await;
        assert_eq!(oldest.body["data"][0]["kind"], "conversation_started");
        assert_eq!(oldest.body["data"][0]["conversation_id"], id);

        let one = list.body["data"][0]["id"].as_str().unwrap();
        let read = app.call(Method::POST, &format!("/v1/notifications/{one}/read"), Some(&member_token), None).await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert!(read.body["read_at"].is_string());
        assert_eq!(app.get("/v1/notifications/unread-count", &member_token).await.body["unread"], 2);
        app.call(Method::POST, &format!("/v1/notifications/{one}/read"), Some(&firm.owner_token), None).await.assert_problem(404, "not_found");
        let all = app.call(Method::POST, "/v1/notifications/read-all", Some(&member_token), None).await;
        assert_eq!(all.body["marked"], 2);
        assert_eq!(app.get("/v1/notifications?unread=true", &member_token).await.body["data"], json!([]));
        assert_eq!(app.get("/v1/notifications/unread-count", &firm.owner_token).await.body["unread"], 3, "the owner's stay unread");
    }

    async fn bad_messages_are_refused_and_store_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, contact_id, contact_token) = client_with_portal(&app, &firm, "Ada Lovelace", "cora@client.test").await;
        let cases = [
            json!({ "contact_id": contact_id, "subject": "s" }),
            json!({ "contact_id": contact_id, "subject": "  ", "body": "b" }),
            json!({ "contact_id": contact_id, "subject": "s", "body": "x".repeat(20_001) }),
            json!({ "contact_id": "con_0193a3b2c4d57e8f9a0b1c2d3e4f5a6b", "subject": "s", "body": "b" }),
            json!({ "contact_id": contact_id, "subject": "s", "body": "b", "matter_id": "mat_0193a3b2c4d57e8f9a0b1c2d3e4f5a6b" }),
            json!({ "contact_id": contact_id, "subject": "s", "body": "b", "template_id": "tpl_0193a3b2c4d57e8f9a0b1c2d3e4f5a6b" }),
            json!({ "contact_id": contact_id, "subject": 7, "body": "b" }),
            json!({ "contact_id": contact_id, "subject": "s", "body": "b", "colour": "red" }),
        ];
        for body in cases {
            let reply = start(&app, &firm.owner_token, body.clone()).await;
            assert_eq!(reply.status, 422, "{body}: {}", reply.body);
        }
        let malformed = app.send_raw(Method::POST, "/v1/conversations", &firm.owner_token, "application/json", b"{\"contact_id\":".to_vec()).await;
        malformed.assert_problem(400, "malformed_json");
        let portal = app.send_raw(Method::POST, "/v1/portal/conversations", &contact_token, "application/json", b"[]".to_vec()).await;
        assert_eq!(portal.status, 422, "{}", portal.body);
        app.post("/v1/portal/conversations", &contact_token, &json!({ "subject": "s", "body": "" })).await.assert_problem(422, "validation_failed");
        app.get("/v1/conversations/cnv_0193a3b2c4d57e8f9a0b1c2d3e4f5a6b", &firm.owner_token).await.assert_problem(404, "not_found");
        app.get("/v1/conversations/not-an-id", &firm.owner_token).await.assert_problem(404, "not_found");
        assert_eq!(app.count("conversations"), 0);
        assert_eq!(app.count("messages"), 0);
        assert_eq!(app.count("outbox_events WHERE event_type IN ('conversation.started', 'message.created')"), 0);
        assert_eq!(app.count("audit_events WHERE action LIKE 'conversation.%' OR action LIKE 'message.%'"), 0);
    }
}
