//! Bad input gets a clear problem+json answer and changes nothing.

use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;
use crate::support::fixtures::PASSWORD;
use crate::support::{Reply, TestApp};

/// The methods an `Allow` header names, in any order.
fn allowed(reply: &Reply) -> Vec<String> {
    let mut methods: Vec<String> = reply
        .header("allow")
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect();
    methods.sort();
    methods
}

fn sorted(methods: &[&str]) -> Vec<String> {
    let mut methods: Vec<String> = methods.iter().map(|m| (*m).to_owned()).collect();
    methods.sort();
    methods
}

/// The single field error of a `validation_failed` answer: its pointer and code.
fn the_field_error(reply: &Reply) -> (String, String) {
    reply.assert_problem(422, "validation_failed");
    let errors = reply.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{}", reply.body);
    (errors[0]["pointer"].as_str().unwrap().to_owned(), errors[0]["code"].as_str().unwrap().to_owned())
}

fn nul_at(reply: &Reply, pointer: &str) {
    assert_eq!(the_field_error(reply), (pointer.to_owned(), "invalid_characters".to_owned()), "{}", reply.body);
}

/// Sends a JSON text as it is, which `serde_json` could not produce (trailing data, escapes).
async fn send_text(app: &TestApp, method: Method, path: &str, token: Option<&str>, text: &str) -> Reply {
    let mut request =
        app.http.request(method, app.url(path)).header("content-type", "application/json").body(text.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    app.exchange(request).await
}

/// A `multipart/form-data` body with one text field `note` and one file part.
fn multipart(note: &[u8], filename: &[u8]) -> (String, Vec<u8>) {
    let boundary = "vestibule-boundary-nul";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n").into_bytes();
    body.extend_from_slice(note);
    body.extend_from_slice(
        format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"").as_bytes(),
    );
    body.extend_from_slice(filename);
    body.extend_from_slice(b"\"\r\nContent-Type: text/plain\r\n\r\nthe file\r\n");
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

on_both_backends! {
    async fn malformed_and_mistyped_bodies_are_refused_without_side_effects(backend) {
        let app = TestApp::spawn_with(backend, &[("JSON_BODY_LIMIT_BYTES", "2048")]).await;
        let firm = app.firm("harbor").await;
        let token = &firm.owner_token;
        let clients_before = app.count("clients");
        let audit_before = app.audit_count(&firm.id);

        app.send_raw(Method::POST, "/v1/clients", token, "application/json", b"{\"kind\": \"person\",".to_vec()).await.assert_problem(400, "malformed_json");
        app.send_raw(Method::POST, "/v1/clients", token, "application/json", Vec::new()).await.assert_problem(400, "malformed_json");
        app.send_raw(Method::POST, "/v1/clients", token, "text/plain", b"{}".to_vec()).await.assert_problem(415, "unsupported_media_type");

        let missing = app.post("/v1/clients", token, &json!({ "kind": "person" })).await;
        missing.assert_problem(422, "validation_failed");
        assert!(missing.body["errors"][0]["detail"].as_str().unwrap().contains("name"));
        let wrong_type = app.post("/v1/clients", token, &json!({ "kind": "person", "name": "A", "emails": "a@b.test" })).await;
        wrong_type.assert_problem(422, "validation_failed");
        assert_eq!(wrong_type.body["errors"][0]["pointer"], "/emails");
        let nested = app.post("/v1/clients", token, &json!({ "kind": "person", "name": "A", "emails": ["a@b.test", 7] })).await;
        assert_eq!(nested.body["errors"][0]["pointer"], "/emails/1");
        let unknown_field = app.post("/v1/clients", token, &json!({ "kind": "person", "name": "A", "nmae": "typo" })).await;
        unknown_field.assert_problem(422, "validation_failed");
        let bad_enum = app.post("/v1/clients", token, &json!({ "kind": "robot", "name": "A" })).await;
        assert_eq!(bad_enum.body["errors"][0]["pointer"], "/kind");

        let huge = json!({ "kind": "person", "name": "x".repeat(5000) });
        app.post("/v1/clients", token, &huge).await.assert_problem(413, "payload_too_large");
        let keyed = app.call_with(Method::POST, "/v1/clients", Some(token), Some(&huge), &[("idempotency-key", "big-1")]).await;
        keyed.assert_problem(413, "payload_too_large");

        assert_eq!(app.count("clients"), clients_before);
        assert_eq!(app.audit_count(&firm.id), audit_before);
    }

    async fn unknown_and_malformed_ids_are_not_found(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let token = &firm.owner_token;
        app.get("/v1/clients/cli_00000000000000000000000000000000", token).await.assert_problem(404, "not_found");
        app.get("/v1/clients/not-an-id", token).await.assert_problem(404, "not_found");
        app.get("/v1/clients/mat_00000000000000000000000000000000", token).await.assert_problem(404, "not_found");
        app.patch("/v1/matters/mat_00000000000000000000000000000000", token, &json!({ "title": "x" })).await.assert_problem(404, "not_found");
        app.delete("/v1/offices/ofc_00000000000000000000000000000000", token).await.assert_problem(404, "not_found");
        app.get("/v1/no-such-thing", token).await.assert_problem(404, "not_found");
    }

    async fn bad_pagination_parameters_are_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let token = &firm.owner_token;
        let too_many = app.get("/v1/clients?limit=500", token).await;
        too_many.assert_problem(422, "validation_failed");
        assert_eq!(too_many.body["errors"][0]["pointer"], "#/query/limit");
        app.get("/v1/clients?limit=0", token).await.assert_problem(422, "validation_failed");
        app.get("/v1/clients?limit=ten", token).await.assert_problem(400, "invalid_query");
        app.get("/v1/clients?cursor=%25%25%25", token).await.assert_problem(422, "validation_failed");
    }

    async fn every_answer_carries_a_request_id(backend) {
        let app = TestApp::spawn(backend).await;
        let given = app.call_with(Method::GET, "/healthz", None, None, &[("x-request-id", "trace-abc_123")]).await;
        assert_eq!(given.header("x-request-id"), Some("trace-abc_123"));
        let generated = app.call_with(Method::GET, "/v1/me", None, None, &[("x-request-id", "bad id with spaces")]).await;
        let id = generated.header("x-request-id").unwrap();
        assert_ne!(id, "bad id with spaces");
        assert_eq!(id.len(), 36);
        generated.assert_problem(401, "unauthenticated");
    }

    async fn health_readiness_metrics_and_docs_answer(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.call(Method::GET, "/healthz", None, None).await.body["status"], "ok");
        assert_eq!(app.call(Method::GET, "/readyz", None, None).await.body["status"], "ok");
        let metrics = crate::support::open(app.http.get(app.url("/metrics"))).await.text().await.unwrap();
        assert!(metrics.contains("http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1"), "{metrics}");
        assert!(metrics.contains("db_pool_connections"));
        let spec = app.call(Method::GET, "/openapi.json", None, None).await;
        assert_eq!(spec.body["openapi"], "3.1.0");
        let docs = app.http.get(app.url("/docs/")).send().await.unwrap();
        assert_eq!(docs.status(), 200);
        assert!(docs.text().await.unwrap().contains("swagger"));
    }

    async fn a_method_a_path_lacks_answers_405_with_the_methods_it_has(backend) {
        let app = TestApp::spawn_with(backend, &[("CORS_ALLOWED_ORIGINS", "https://app.example")]).await;
        let firm = app.firm("harbor").await;
        let token = &firm.owner_token;
        let client = app.client(token, "Ada Lovelace").await;
        let client_path = format!("/v1/clients/{}", client["id"].as_str().unwrap());
        let clients_before = app.count("clients");
        let audit_before = app.audit_count(&firm.id);

        let public = app.call(Method::DELETE, "/v1/auth/login", None, None).await;
        public.assert_problem(405, "method_not_allowed");
        assert_eq!(allowed(&public), sorted(&["POST"]));
        let collection = app.put("/v1/clients", token, &json!({ "kind": "person", "name": "A" })).await;
        collection.assert_problem(405, "method_not_allowed");
        assert_eq!(allowed(&collection), sorted(&["GET", "POST"]));
        let item = app.post(&client_path, token, &json!({ "kind": "person", "name": "A" })).await;
        item.assert_problem(405, "method_not_allowed");
        assert_eq!(allowed(&item), sorted(&["GET", "PATCH", "DELETE"]));
        let keyed = app.call_with(Method::POST, &client_path, Some(token), Some(&json!({ "name": "A" })), &[("idempotency-key", "wrong-method-1")]).await;
        keyed.assert_problem(405, "method_not_allowed");
        let replayed = app.call_with(Method::POST, &client_path, Some(token), Some(&json!({ "name": "A" })), &[("idempotency-key", "wrong-method-1")]).await;
        replayed.assert_problem(405, "method_not_allowed");
        assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
        assert_eq!(allowed(&replayed), sorted(&["GET", "PATCH", "DELETE"]), "a replay names the methods too");
        let health = app.call(Method::POST, "/healthz", None, None).await;
        health.assert_problem(405, "method_not_allowed");
        assert_eq!(allowed(&health), sorted(&["GET"]));
        // `/documents/archive` is also matched by `/documents/{document_id}`: the methods of both.
        let both = app.call(Method::POST, "/v1/documents/archive", Some(token), None).await;
        both.assert_problem(405, "method_not_allowed");
        assert_eq!(allowed(&both), sorted(&["GET", "PATCH", "DELETE"]));
        let head = app.exchange(app.http.head(app.url("/v1/clients")).bearer_auth(token)).await;
        assert_eq!(head.status, 405, "HEAD is not served: a GET may have effects (a download receipt)");
        assert_eq!(allowed(&head), sorted(&["GET", "POST"]));
        let options = app.call(Method::OPTIONS, "/v1/clients", Some(token), None).await;
        options.assert_problem(405, "method_not_allowed");
        assert_eq!(allowed(&options), sorted(&["GET", "POST"]));

        // A browser's preflight is the CORS layer's to answer, before any route.
        let preflight = app
            .http
            .request(Method::OPTIONS, app.url("/v1/clients"))
            .header("origin", "https://app.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), 200);
        assert_eq!(preflight.headers().get("access-control-allow-origin").unwrap(), "https://app.example");
        assert!(preflight.headers().get("access-control-allow-methods").unwrap().to_str().unwrap().contains("POST"));

        // What matches no path at all is still unknown, whatever the method.
        app.delete("/v1/no-such-thing", token).await.assert_problem(404, "not_found");
        app.call(Method::PUT, "/v1/clients/cli_00000000000000000000000000000000/extra", Some(token), None).await.assert_problem(404, "not_found");
        app.call(Method::POST, "/v1/clients/", Some(token), None).await.assert_problem(404, "not_found");
        // A method the path has still reaches its handler, even where another template matches too.
        app.call(Method::PATCH, "/v1/documents/archive", Some(token), Some(&json!({ "name": "x" }))).await.assert_problem(404, "not_found");

        assert_eq!(app.count("clients"), clients_before);
        assert_eq!(app.audit_count(&firm.id), audit_before);
    }

    async fn data_after_the_json_value_is_malformed(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let token = Some(firm.owner_token.as_str());
        let audit_before = app.audit_count(&firm.id);

        for text in [
            r#"{"kind":"person","name":"Ada"} garbage"#,
            r#"{"kind":"person","name":"Ada"}{"kind":"person","name":"Grace"}"#,
            r#"{"kind":"person","name":"Ada"},"#,
            // A type error does not hide that the body is not JSON at all.
            r#"{"kind":"robot","name":"Ada"} garbage"#,
            r#"{"kind":"robot","#,
        ] {
            let reply = send_text(&app, Method::POST, "/v1/clients", token, text).await;
            reply.assert_problem(400, "malformed_json");
        }
        let keyed = app.exchange(app.http.post(app.url("/v1/clients")).bearer_auth(&firm.owner_token).header("content-type", "application/json").header("idempotency-key", "trailing-1").body(r#"{"kind":"person","name":"Ada"} x"#)).await;
        keyed.assert_problem(400, "malformed_json");
        let login = send_text(&app, Method::POST, "/v1/auth/login", None, &format!(r#"{{"firm":"harbor","email":"owner@harbor.test","password":"{PASSWORD}"}} x"#)).await;
        login.assert_problem(400, "malformed_json");
        assert_eq!(app.count("clients"), 0);
        assert_eq!(app.audit_count(&firm.id), audit_before);

        let spaced = send_text(&app, Method::POST, "/v1/clients", token, "{\"kind\":\"person\",\"name\":\"Ada\"}\r\n\t \n").await;
        assert_eq!(spaced.status, 201, "whitespace after the value is fine: {}", spaced.body);
        assert_eq!(app.count("clients"), 1);
    }

    async fn nul_characters_are_refused_at_their_pointer(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let token = firm.owner_token.as_str();
        let client = app.client(token, "Ada Lovelace").await;
        let client_path = format!("/v1/clients/{}", client["id"].as_str().unwrap());
        let audit_before = app.audit_count(&firm.id);
        let sessions_before = app.count("sessions");

        let email = send_text(&app, Method::POST, "/v1/auth/login", None, &format!(r#"{{"firm":"harbor","email":"owner@harbor.test\u0000","password":"{PASSWORD}"}}"#)).await;
        nul_at(&email, "/email");
        let password = send_text(&app, Method::POST, "/v1/auth/login", None, r#"{"firm":"harbor","email":"owner@harbor.test","password":"a sturdy\u0000passphrase"}"#).await;
        nul_at(&password, "/password");
        let firm_slug = send_text(&app, Method::POST, "/v1/portal/auth/login", None, r#"{"firm":"har\u0000bor","email":"cora@client.test","password":"whatever"}"#).await;
        nul_at(&firm_slug, "/firm");

        let created = send_text(&app, Method::POST, "/v1/clients", Some(token), r#"{"kind":"person","name":"Grace\u0000Hopper"}"#).await;
        nul_at(&created, "/name");
        let email_entry = send_text(&app, Method::POST, "/v1/clients", Some(token), r#"{"kind":"person","name":"Grace","emails":["ok@x.test","grace\u0000@x.test"]}"#).await;
        nul_at(&email_entry, "/emails/1");
        let external = send_text(&app, Method::POST, "/v1/clients", Some(token), r#"{"kind":"person","name":"Grace","external_id":"PM\u0000"}"#).await;
        nul_at(&external, "/external_id");
        let patched = send_text(&app, Method::PATCH, &client_path, Some(token), r#"{"name":"Ada\u0000King"}"#).await;
        nul_at(&patched, "/name");
        let invoice = json!({
            "number": "2026-\u{0}1", "client_id": client["id"], "issue_date": "2026-11-01", "currency": "EUR",
            "total_minor": 100, "status": "open",
            "lines": [{ "description": "Advice\u{0}", "quantity_milli": 1000, "unit_price_minor": 100, "amount_minor": 100 }]
        });
        let nested = app.post("/v1/invoices", token, &invoice).await;
        nested.assert_problem(422, "validation_failed");
        let mut pointers: Vec<&str> = nested.body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
        pointers.sort_unstable();
        assert_eq!(pointers, vec!["/lines/0/description", "/number"], "every string with a NUL is named");
        // An escaped backslash before `u0000` is no NUL.
        let literal = send_text(&app, Method::POST, "/v1/clients", Some(token), r#"{"kind":"person","name":"Grace \\u0000 Hopper"}"#).await;
        assert_eq!(literal.status, 201, "{}", literal.body);
        assert_eq!(literal.body["name"], "Grace \\u0000 Hopper");
        // A lone surrogate is no character at all.
        let surrogate = send_text(&app, Method::POST, "/v1/clients", Some(token), r#"{"kind":"person","name":"Grace \ud800"}"#).await;
        surrogate.assert_problem(400, "malformed_json");

        nul_at(&app.get("/v1/clients?q=Ada%00", token).await, "#/query/q");
        nul_at(&app.get("/v1/clients?external_id=PM%00", token).await, "#/query/external_id");
        nul_at(&app.get("/v1/clients?email=ada%00%40client.test", token).await, "#/query/email");
        nul_at(&app.get("/v1/contacts?q=%00", token).await, "#/query/q");
        nul_at(&app.get("/v1/documents?q=%00&limit=5", token).await, "#/query/q");
        nul_at(&app.get("/v1/audit-events?action=client.created%00", token).await, "#/query/action");
        app.get("/v1/clients?owner_staff_id=stf_%00", token).await.assert_problem(400, "invalid_query");

        let put = app.put("/v1/clients/external/PM-1%00", token, &json!({ "kind": "person", "name": "Grace" })).await;
        assert_eq!(the_field_error(&put), ("#/path/external_id".to_owned(), "invalid_external_id".to_owned()));
        let spaced = app.put("/v1/matters/external/M%201", token, &json!({ "client_id": client["id"], "title": "Estate" })).await;
        assert_eq!(the_field_error(&spaced), ("#/path/external_id".to_owned(), "invalid_external_id".to_owned()));
        app.get(&format!("{client_path}%00"), token).await.assert_problem(404, "not_found");

        assert_eq!(app.count("clients"), 2, "only the client with a literal backslash was stored");
        assert_eq!(app.count("matters"), 0);
        assert_eq!(app.count("invoices"), 0);
        assert_eq!(app.count("sessions"), sessions_before);
        assert_eq!(app.audit_count(&firm.id), audit_before + 1, "only the literal backslash's client.created");
        let stored = app.get(&client_path, token).await;
        assert_eq!(stored.body["name"], "Ada Lovelace");
        assert_eq!(stored.body["version"], 1);
    }

    async fn nul_characters_in_uploads_are_refused_and_nothing_is_kept(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let token = firm.owner_token.as_str();
        let client = app.client(token, "Ada Lovelace").await;
        let upload = format!("/v1/documents?client_id={}", client["id"].as_str().unwrap());
        let audit_before = app.audit_count(&firm.id);

        let raw_name = app.send_raw(Method::POST, &format!("{upload}&name=Vollmacht%00.pdf"), token, "application/octet-stream", b"bytes".to_vec()).await;
        nul_at(&raw_name, "#/query/name");
        let (content_type, body) = multipart(b"fine", b"Voll\0macht.txt");
        // Part headers cannot carry a NUL (nor any control character but tab): the part is malformed.
        app.send_raw(Method::POST, &upload, token, &content_type, body).await.assert_problem(400, "malformed_multipart");
        let (content_type, body) = multipart(b"a note \0 with a NUL", b"Vollmacht.txt");
        let field = app.send_raw(Method::POST, &upload, token, &content_type, body).await;
        nul_at(&field, "/note");

        assert_eq!(app.count("documents"), 0);
        assert_eq!(app.count("pending_blobs"), 0);
        assert_eq!(app.audit_count(&firm.id), audit_before);
    }
}

on_both_backends! {
    async fn a_lookup_that_fails_is_a_server_error_not_an_unknown_reference(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let token = &firm.owner_token;
        let client = app.client(token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let contact = app.contact(token, client_id, "cora@client.test").await;
        let portals_before = app.count("portals");
        // The contacts table goes away under the running server: looking the contact up
        // fails, which says nothing about whether the request named a real contact.
        use diesel::RunQueryDsl;
        diesel::sql_query("ALTER TABLE contacts RENAME TO contacts_gone").execute(&mut *app.conn()).unwrap();

        let body = json!({ "contact_id": contact["id"], "kind": "full", "invite": false, "grants": [{ "client_id": client_id }] });
        let refused = app.post("/v1/portals", token, &body).await;
        refused.assert_problem(500, "internal_error");
        assert_eq!(refused.body["detail"], "an unexpected error occurred", "opaque: {}", refused.body);
        assert_eq!(app.count("portals"), portals_before);
    }
}
