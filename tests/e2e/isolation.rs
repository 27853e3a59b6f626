//! Every endpoint, tried by the wrong principal: a staff member of another firm, a plain
//! member where an admin is needed, a portal contact on staff endpoints and staff on
//! portal endpoints. The table must have a row for every operation in the OpenAPI document,
//! so a new endpoint without one fails this test.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{Reply, TestApp};

/// How the owner of another firm fares when the request carries this firm's ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Foreign {
    /// The id names nothing for them: 404.
    NotFound,
    /// Their own data (a list, their firm): this status, and no trace of the other firm.
    Own(u16),
    /// A create or upsert naming the other firm's records: 422, nothing created.
    Rejected,
    /// Not about another firm's data: public endpoints and the caller's own session.
    NotApplicable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    Public,
    Staff,
    Portal,
    /// Staff and contacts alike (live streams): nobody is refused for who they are.
    Person,
    /// The recipient of an access link, with a link session: staff and contact tokens are
    /// no such session (401); another link's session finds nothing of this link (404).
    Link,
}

struct Row {
    method: Method,
    path: String,
    /// Query parameters sent with the request (ids substituted like the path's).
    query: Option<String>,
    body: Option<Value>,
    audience: Audience,
    foreign: Foreign,
    /// A plain member of the same firm gets 403.
    admin_only: bool,
}

#[derive(Default)]
struct Ids {
    staff_id: String,
    office_id: String,
    client_id: String,
    contact_id: String,
    matter_id: String,
    api_key_id: String,
    endpoint_id: String,
    delivery_id: String,
    portal_id: String,
    grant_id: String,
    invitation_id: String,
    staff_invitation_id: String,
    invoice_id: String,
    conversation_id: String,
    template_id: String,
    notification_id: String,
    document_id: String,
    folder_id: String,
    share_id: String,
    signature_request_id: String,
    file_transfer_id: String,
    access_link_id: String,
    link_email_id: String,
    link_token: String,
    payment_id: String,
    document_request_id: String,
    item_id: String,
    session_id: String,
}

fn row(method: Method, path: &str, audience: Audience, foreign: Foreign) -> Row {
    Row { method, path: path.to_owned(), query: None, body: None, audience, foreign, admin_only: false }
}

impl Row {
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn query(mut self, query: &str) -> Self {
        self.query = Some(query.to_owned());
        self
    }

    fn admin_only(mut self) -> Self {
        self.admin_only = true;
        self
    }

    fn concrete_path(&self, ids: &Ids) -> String {
        let path = match &self.query {
            Some(query) => format!("{}?{query}", self.path),
            None => self.path.clone(),
        };
        path.replace("{staff_id}", &ids.staff_id)
            .replace("{office_id}", &ids.office_id)
            .replace("{client_id}", &ids.client_id)
            .replace("{contact_id}", &ids.contact_id)
            .replace("{matter_id}", &ids.matter_id)
            .replace("{api_key_id}", &ids.api_key_id)
            .replace("{endpoint_id}", &ids.endpoint_id)
            .replace("{delivery_id}", &ids.delivery_id)
            .replace("{portal_id}", &ids.portal_id)
            .replace("{grant_id}", &ids.grant_id)
            .replace("{invitation_id}", &ids.invitation_id)
            .replace("{staff_invitation_id}", &ids.staff_invitation_id)
            .replace("{invoice_id}", &ids.invoice_id)
            .replace("{conversation_id}", &ids.conversation_id)
            .replace("{template_id}", &ids.template_id)
            .replace("{notification_id}", &ids.notification_id)
            .replace("{document_id}", &ids.document_id)
            .replace("{folder_id}", &ids.folder_id)
            .replace("{share_id}", &ids.share_id)
            .replace("{signature_request_id}", &ids.signature_request_id)
            .replace("{file_transfer_id}", &ids.file_transfer_id)
            .replace("{access_link_id}", &ids.access_link_id)
            .replace("{link_email_id}", &ids.link_email_id)
            .replace("{token}", &ids.link_token)
            .replace("{payment_id}", &ids.payment_id)
            .replace("{document_request_id}", &ids.document_request_id)
            .replace("{item_id}", &ids.item_id)
            .replace("{session_id}", &ids.session_id)
            // Nobody has saved a card here: these name nothing in any firm.
            .replace("{payment_method_id}", "pmt_0193d0c0a1b27f3c9e4d5a6b7c8d9e0f")
            .replace("{setup_id}", "pst_0193d0c0a1b27f3c9e4d5a6b7c8d9e0f")
            .replace("{external_id}", "EXT-1")
    }
}

fn table(ids: &Ids) -> Vec<Row> {
    use Audience::{Link, Person, Portal, Public, Staff};
    use Foreign::{NotApplicable, NotFound, Own, Rejected};
    let client_body = json!({ "kind": "person", "name": "Probe", "owner_staff_id": ids.staff_id });
    let contact_body = json!({ "first_name": "P", "last_name": "Q", "of": { "kind": "client", "id": ids.client_id } });
    let matter_body = json!({ "client_id": ids.client_id, "title": "Probe" });
    let login = json!({ "firm": "x", "email": "x@x.test", "password": "whatever1" });
    let refresh = json!({ "refresh_token": "vrt_nothing" });
    let challenge = json!({ "challenge_token": "vch_nothing" });
    let two_factor_login = json!({ "challenge_token": "vch_nothing", "code": "123456" });
    let code = json!({ "code": "123456" });
    let payment_body = json!({
        "client_id": ids.client_id, "amount_minor": 1, "currency": "EUR", "received_on": "2026-11-02", "method": "cheque",
        "allocations": [{ "invoice_id": ids.invoice_id, "amount_minor": 1 }]
    });
    vec![
        row(Method::GET, "/healthz", Public, NotApplicable),
        row(Method::GET, "/readyz", Public, NotApplicable),
        row(Method::GET, "/metrics", Public, NotApplicable),
        row(Method::POST, "/v1/auth/login", Public, NotApplicable).body(login.clone()),
        row(Method::POST, "/v1/auth/refresh", Public, NotApplicable).body(refresh.clone()),
        row(Method::POST, "/v1/auth/logout", Staff, NotApplicable),
        row(Method::GET, "/v1/me", Staff, Own(200)),
        row(Method::POST, "/v1/me/password", Staff, NotApplicable)
            .body(json!({ "current_password": "not it", "new_password": "another passphrase" })),
        row(Method::POST, "/v1/auth/login/two-factor", Public, NotApplicable).body(two_factor_login.clone()),
        row(Method::POST, "/v1/auth/login/two-factor/enrolment", Public, NotApplicable).body(challenge.clone()),
        row(Method::GET, "/v1/me/two-factor", Staff, NotApplicable),
        row(Method::POST, "/v1/me/two-factor/enrolment", Staff, NotApplicable),
        row(Method::POST, "/v1/me/two-factor/confirmation", Staff, NotApplicable).body(code.clone()),
        row(Method::POST, "/v1/me/two-factor/disable", Staff, NotApplicable).body(json!({ "password": "not it" })),
        row(Method::POST, "/v1/me/two-factor/recovery-codes", Staff, NotApplicable).body(code.clone()),
        row(Method::DELETE, "/v1/staff/{staff_id}/two-factor", Staff, NotFound).admin_only(),
        row(Method::DELETE, "/v1/contacts/{contact_id}/two-factor", Staff, NotFound),
        row(Method::GET, "/v1/me/sessions", Staff, NotApplicable),
        row(Method::DELETE, "/v1/me/sessions/{session_id}", Staff, NotFound),
        row(Method::DELETE, "/v1/staff/{staff_id}/sessions", Staff, NotFound).admin_only(),
        row(Method::POST, "/v1/portal/auth/login/two-factor", Public, NotApplicable).body(two_factor_login),
        row(Method::POST, "/v1/portal/auth/login/two-factor/enrolment", Public, NotApplicable).body(challenge),
        row(Method::GET, "/v1/portal/me/two-factor", Portal, NotApplicable),
        row(Method::POST, "/v1/portal/me/two-factor/enrolment", Portal, NotApplicable),
        row(Method::POST, "/v1/portal/me/two-factor/confirmation", Portal, NotApplicable).body(code.clone()),
        row(Method::POST, "/v1/portal/me/two-factor/disable", Portal, NotApplicable).body(json!({ "password": "not it" })),
        row(Method::POST, "/v1/portal/me/two-factor/recovery-codes", Portal, NotApplicable).body(code),
        row(Method::GET, "/v1/portal/me/sessions", Portal, NotApplicable),
        // Another person's session is no session of theirs.
        row(Method::DELETE, "/v1/portal/me/sessions/{session_id}", Portal, NotFound),
        row(Method::POST, "/v1/portal/auth/login", Public, NotApplicable).body(login),
        row(Method::POST, "/v1/portal/auth/refresh", Public, NotApplicable).body(refresh),
        row(Method::POST, "/v1/portal/auth/logout", Portal, NotApplicable),
        row(Method::GET, "/v1/portal/me", Portal, NotApplicable),
        row(Method::GET, "/v1/firm", Staff, Own(200)),
        row(Method::PATCH, "/v1/firm", Staff, Own(200)).body(json!({ "email_display_name": "Probe" })).admin_only(),
        row(Method::GET, "/v1/staff", Staff, Own(200)),
        row(Method::GET, "/v1/staff-invitations", Staff, Own(200)).admin_only(),
        row(Method::POST, "/v1/staff-invitations", Staff, Own(201))
            .body(json!({ "email": "probe@x.test", "name": "P", "role": "member" }))
            .admin_only(),
        row(Method::GET, "/v1/staff-invitations/{staff_invitation_id}", Staff, NotFound).admin_only(),
        row(Method::POST, "/v1/staff-invitations/{staff_invitation_id}/resend", Staff, NotFound).admin_only(),
        row(Method::POST, "/v1/staff-invitations/{staff_invitation_id}/revoke", Staff, NotFound).admin_only(),
        row(Method::POST, "/v1/staff-invitations/accept", Public, NotApplicable)
            .body(json!({ "token": "x", "password": "another passphrase" })),
        row(Method::GET, "/v1/staff/{staff_id}", Staff, NotFound),
        row(Method::PATCH, "/v1/staff/{staff_id}", Staff, NotFound).body(json!({ "name": "Probe" })).admin_only(),
        row(Method::POST, "/v1/staff/{staff_id}/disable", Staff, NotFound).admin_only(),
        row(Method::POST, "/v1/staff/{staff_id}/enable", Staff, NotFound).admin_only(),
        row(Method::GET, "/v1/offices", Staff, Own(200)),
        row(Method::POST, "/v1/offices", Staff, Own(201)).body(json!({ "name": "Probe office" })).admin_only(),
        row(Method::GET, "/v1/offices/{office_id}", Staff, NotFound),
        row(Method::PATCH, "/v1/offices/{office_id}", Staff, NotFound).body(json!({ "name": "Probe" })).admin_only(),
        row(Method::DELETE, "/v1/offices/{office_id}", Staff, NotFound).admin_only(),
        row(Method::GET, "/v1/clients", Staff, Own(200)),
        row(Method::POST, "/v1/clients", Staff, Rejected).body(client_body.clone()),
        row(Method::GET, "/v1/clients/{client_id}", Staff, NotFound),
        row(Method::PATCH, "/v1/clients/{client_id}", Staff, NotFound).body(json!({ "name": "Probe" })),
        row(Method::DELETE, "/v1/clients/{client_id}", Staff, NotFound),
        row(Method::PUT, "/v1/clients/external/{external_id}", Staff, Rejected).body(client_body),
        row(Method::GET, "/v1/contacts", Staff, Own(200)),
        row(Method::POST, "/v1/contacts", Staff, Rejected).body(contact_body.clone()),
        row(Method::GET, "/v1/contacts/{contact_id}", Staff, NotFound),
        row(Method::PATCH, "/v1/contacts/{contact_id}", Staff, NotFound).body(json!({ "first_name": "Probe" })),
        row(Method::DELETE, "/v1/contacts/{contact_id}", Staff, NotFound),
        row(Method::PUT, "/v1/contacts/external/{external_id}", Staff, Rejected).body(contact_body),
        row(Method::GET, "/v1/matters", Staff, Own(200)),
        row(Method::POST, "/v1/matters", Staff, Rejected).body(matter_body.clone()),
        row(Method::GET, "/v1/matters/{matter_id}", Staff, NotFound),
        row(Method::PATCH, "/v1/matters/{matter_id}", Staff, NotFound).body(json!({ "title": "Probe" })),
        row(Method::DELETE, "/v1/matters/{matter_id}", Staff, NotFound),
        row(Method::PUT, "/v1/matters/external/{external_id}", Staff, Rejected).body(matter_body),
        row(Method::GET, "/v1/matters/{matter_id}/members", Staff, NotFound),
        row(Method::PUT, "/v1/matters/{matter_id}/members/{staff_id}", Staff, NotFound).body(json!({ "role": "assistant" })),
        row(Method::DELETE, "/v1/matters/{matter_id}/members/{staff_id}", Staff, NotFound),
        row(Method::GET, "/v1/api-keys", Staff, Own(200)).admin_only(),
        row(Method::POST, "/v1/api-keys", Staff, Own(201)).body(json!({ "name": "probe", "scopes": ["clients:read"] })).admin_only(),
        row(Method::GET, "/v1/api-keys/{api_key_id}", Staff, NotFound).admin_only(),
        row(Method::DELETE, "/v1/api-keys/{api_key_id}", Staff, NotFound).admin_only(),
        row(Method::GET, "/v1/audit-events", Staff, Own(200)).admin_only(),
        row(Method::GET, "/v1/audit-events/verification", Staff, Own(200)).admin_only(),
        row(Method::GET, "/v1/audit-events/checkpoint-key", Staff, Own(200)).admin_only(),
        row(Method::GET, "/v1/webhook-event-types", Staff, Own(200)).admin_only(),
        row(Method::GET, "/v1/webhook-endpoints", Staff, Own(200)).admin_only(),
        row(Method::POST, "/v1/webhook-endpoints", Staff, Own(201)).body(json!({ "url": "https://hooks.example.com/b" })).admin_only(),
        row(Method::GET, "/v1/webhook-endpoints/{endpoint_id}", Staff, NotFound).admin_only(),
        row(Method::PATCH, "/v1/webhook-endpoints/{endpoint_id}", Staff, NotFound).body(json!({ "disabled": true })).admin_only(),
        row(Method::DELETE, "/v1/webhook-endpoints/{endpoint_id}", Staff, NotFound).admin_only(),
        row(Method::POST, "/v1/webhook-endpoints/{endpoint_id}/rotate-secret", Staff, NotFound).admin_only(),
        row(Method::POST, "/v1/webhook-endpoints/{endpoint_id}/test", Staff, NotFound).admin_only(),
        row(Method::GET, "/v1/webhook-endpoints/{endpoint_id}/deliveries", Staff, NotFound).admin_only(),
        row(Method::POST, "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/replay", Staff, NotFound).admin_only(),
        row(Method::GET, "/v1/deliveries", Staff, Own(200)).admin_only(),
        row(Method::GET, "/v1/portals", Staff, Own(200)),
        row(Method::POST, "/v1/portals", Staff, Rejected).body(json!({ "contact_id": ids.contact_id, "kind": "full", "invite": false })),
        row(Method::GET, "/v1/portals/{portal_id}", Staff, NotFound),
        row(Method::PATCH, "/v1/portals/{portal_id}", Staff, NotFound).body(json!({ "kind": "full" })),
        row(Method::POST, "/v1/portals/{portal_id}/disable", Staff, NotFound),
        row(Method::POST, "/v1/portals/{portal_id}/enable", Staff, NotFound),
        row(Method::POST, "/v1/portals/{portal_id}/grants", Staff, NotFound).body(json!({ "client_id": ids.client_id })),
        row(Method::DELETE, "/v1/portals/{portal_id}/grants/{grant_id}", Staff, NotFound),
        row(Method::POST, "/v1/portals/{portal_id}/invitation", Staff, NotFound),
        row(Method::GET, "/v1/invoices", Staff, Own(200)),
        row(Method::POST, "/v1/invoices", Staff, Rejected).body(json!({ "number": "P-1", "client_id": ids.client_id, "issue_date": "2026-11-01", "currency": "EUR", "total_minor": 1, "status": "open" })),
        row(Method::GET, "/v1/invoices/{invoice_id}", Staff, NotFound),
        row(Method::PUT, "/v1/invoices/external/{external_id}", Staff, Rejected).body(json!({ "number": "P-2", "client_id": ids.client_id, "issue_date": "2026-11-01", "currency": "EUR", "total_minor": 1, "status": "open" })),
        row(Method::POST, "/v1/invoices/{invoice_id}/email", Staff, NotFound).body(json!({ "to": "x@y.test" })),
        row(Method::GET, "/v1/payments", Staff, Own(200)),
        row(Method::POST, "/v1/payments", Staff, Rejected).body(payment_body.clone()),
        row(Method::GET, "/v1/payments/{payment_id}", Staff, NotFound),
        row(Method::PUT, "/v1/payments/external/{external_id}", Staff, Rejected).body(payment_body),
        row(Method::POST, "/v1/payments/{payment_id}/refunds", Staff, NotFound).body(json!({ "amount_minor": 1 })).admin_only(),
        row(Method::GET, "/v1/clients/{client_id}/statement", Staff, NotFound),
        row(Method::POST, "/v1/payment-processor/webhook", Public, NotApplicable).body(json!({ "id": "evt_1" })),
        row(Method::GET, "/v1/portal/payment-settings", Portal, NotApplicable),
        row(Method::GET, "/v1/portal/clients/{client_id}/statement", Portal, NotFound),
        row(Method::GET, "/v1/portal/payments", Portal, NotApplicable),
        row(Method::GET, "/v1/portal/payments/{payment_id}", Portal, NotFound),
        // Without a card processor (as here) paying answers 409 to anyone; who may pay what is
        // tried in payments.rs against the processor.
        row(Method::POST, "/v1/portal/invoices/{invoice_id}/payments", Portal, NotApplicable).body(json!({ "card_token": "pm_card_visa" })),
        row(Method::GET, "/v1/portal/payment-methods", Portal, NotApplicable),
        row(Method::POST, "/v1/portal/payment-methods/setups", Portal, NotApplicable),
        row(Method::POST, "/v1/portal/payment-methods/setups/{setup_id}/confirm", Portal, NotFound),
        row(Method::POST, "/v1/portal/payment-methods/{payment_method_id}/default", Portal, NotFound),
        row(Method::DELETE, "/v1/portal/payment-methods/{payment_method_id}", Portal, NotFound),
        row(Method::GET, "/v1/portal/invoices", Portal, NotApplicable),
        row(Method::GET, "/v1/portal/invoices/{invoice_id}", Portal, NotFound),
        row(Method::GET, "/v1/conversations", Staff, Own(200)),
        row(Method::POST, "/v1/conversations", Staff, Rejected).body(json!({ "contact_id": ids.contact_id, "subject": "s", "body": "b" })),
        row(Method::GET, "/v1/conversations/{conversation_id}", Staff, NotFound),
        row(Method::GET, "/v1/conversations/{conversation_id}/messages", Staff, NotFound),
        row(Method::POST, "/v1/conversations/{conversation_id}/messages", Staff, NotFound).body(json!({ "body": "probe" })),
        row(Method::POST, "/v1/conversations/{conversation_id}/read", Staff, NotFound).body(json!({})),
        row(Method::GET, "/v1/portal/conversations", Portal, NotApplicable),
        row(Method::POST, "/v1/portal/conversations", Portal, NotApplicable).body(json!({ "subject": "s", "body": "b" })),
        row(Method::GET, "/v1/portal/conversations/{conversation_id}", Portal, NotFound),
        row(Method::GET, "/v1/portal/conversations/{conversation_id}/messages", Portal, NotFound),
        row(Method::POST, "/v1/portal/conversations/{conversation_id}/messages", Portal, NotFound).body(json!({ "body": "probe" })),
        row(Method::POST, "/v1/portal/conversations/{conversation_id}/read", Portal, NotFound).body(json!({})),
        row(Method::GET, "/v1/message-templates", Staff, Own(200)),
        row(Method::POST, "/v1/message-templates", Staff, Own(201)).body(json!({ "name": "Probe", "subject": "s", "body": "b" })).admin_only(),
        row(Method::GET, "/v1/message-templates/{template_id}", Staff, NotFound),
        row(Method::PATCH, "/v1/message-templates/{template_id}", Staff, NotFound).body(json!({ "name": "Probe" })).admin_only(),
        row(Method::DELETE, "/v1/message-templates/{template_id}", Staff, NotFound).admin_only(),
        row(Method::POST, "/v1/message-templates/{template_id}/render", Staff, NotFound).body(json!({ "contact_id": ids.contact_id })),
        row(Method::GET, "/v1/notifications", Person, Own(200)),
        row(Method::GET, "/v1/notifications/unread-count", Person, Own(200)),
        row(Method::POST, "/v1/notifications/{notification_id}/read", Person, NotFound),
        row(Method::POST, "/v1/notifications/read-all", Person, Own(200)),
        row(Method::POST, "/v1/live/tickets", Person, NotApplicable),
        // A stream never ends by itself; its refusals are tested in live.rs.
        row(Method::GET, "/v1/live", Person, NotApplicable),
        row(Method::GET, "/v1/folders", Staff, Own(200)),
        row(Method::POST, "/v1/folders", Staff, Rejected).body(json!({ "client_id": ids.client_id, "name": "Probe" })),
        row(Method::GET, "/v1/folders/{folder_id}", Staff, NotFound),
        row(Method::PATCH, "/v1/folders/{folder_id}", Staff, NotFound).body(json!({ "name": "Probe" })),
        row(Method::DELETE, "/v1/folders/{folder_id}", Staff, NotFound),
        row(Method::GET, "/v1/documents", Staff, Own(200)),
        row(Method::POST, "/v1/documents", Staff, Rejected).query("client_id={client_id}&name=probe.txt"),
        row(Method::POST, "/v1/documents/visibility", Staff, Rejected).body(json!({ "document_ids": [ids.document_id], "visible_to_client": true })),
        row(Method::GET, "/v1/documents/{document_id}", Staff, NotFound),
        row(Method::PATCH, "/v1/documents/{document_id}", Staff, NotFound).body(json!({ "name": "probe.txt" })),
        row(Method::DELETE, "/v1/documents/{document_id}", Staff, NotFound),
        row(Method::GET, "/v1/documents/{document_id}/content", Staff, NotFound),
        row(Method::GET, "/v1/documents/{document_id}/receipts", Staff, NotFound),
        row(Method::POST, "/v1/documents/{document_id}/rescan", Staff, NotFound).admin_only(),
        row(Method::GET, "/v1/documents/archive", Staff, Own(200)).query("client_id={client_id}"),
        row(Method::POST, "/v1/documents/share", Staff, Rejected).body(json!({ "document_ids": [ids.document_id], "contact_id": ids.contact_id })),
        row(Method::GET, "/v1/shares", Staff, Own(200)),
        row(Method::POST, "/v1/shares/{share_id}/end", Staff, NotFound),
        row(Method::POST, "/v1/documents/{document_id}/signature-requests", Staff, NotFound).body(json!({ "contact_id": ids.contact_id })),
        row(Method::GET, "/v1/documents/{document_id}/signature-requests", Staff, NotFound),
        row(Method::GET, "/v1/portal/signature-requests", Portal, NotApplicable),
        row(Method::POST, "/v1/file-transfers", Staff, Rejected).body(json!({ "contact_id": ids.contact_id, "subject": "Probe", "message": "Probe", "files": [{ "document_id": ids.document_id }] })),
        row(Method::GET, "/v1/file-transfers", Staff, Own(200)),
        row(Method::GET, "/v1/file-transfers/{file_transfer_id}", Staff, NotFound),
        row(Method::POST, "/v1/portal/signature-requests/{signature_request_id}/sign", Portal, NotFound).body(json!({ "typed_name": "Probe", "consent": true })),
        row(Method::POST, "/v1/portal/signature-requests/{signature_request_id}/decline", Portal, NotFound).body(json!({})),
        row(Method::GET, "/v1/signature-requests/{signature_request_id}/certificate", Staff, NotFound),
        row(Method::GET, "/v1/signature-requests/{signature_request_id}/certificate.pdf", Staff, NotFound),
        row(Method::GET, "/v1/portal/signature-requests/{signature_request_id}/certificate", Portal, NotFound),
        row(Method::GET, "/v1/portal/signature-requests/{signature_request_id}/certificate.pdf", Portal, NotFound),
        row(Method::GET, "/v1/portal/documents", Portal, NotApplicable),
        row(Method::POST, "/v1/portal/documents", Portal, NotApplicable).query("client_id={client_id}&name=probe.txt"),
        row(Method::DELETE, "/v1/portal/documents/{document_id}", Portal, NotFound),
        row(Method::POST, "/v1/document-requests", Staff, Rejected)
            .body(json!({ "client_id": ids.client_id, "contact_id": ids.contact_id, "title": "Probe", "items": [{ "name": "Probe" }] })),
        row(Method::GET, "/v1/document-requests", Staff, Own(200)),
        row(Method::GET, "/v1/clients/{client_id}/outstanding", Staff, NotFound),
        row(Method::GET, "/v1/document-requests/{document_request_id}", Staff, NotFound),
        row(Method::POST, "/v1/document-requests/{document_request_id}/cancel", Staff, NotFound),
        row(Method::POST, "/v1/document-requests/{document_request_id}/remind", Staff, NotFound),
        row(Method::POST, "/v1/document-requests/{document_request_id}/items/{item_id}/accept", Staff, NotFound),
        row(Method::POST, "/v1/document-requests/{document_request_id}/items/{item_id}/return", Staff, NotFound)
            .body(json!({ "reason": "Probe" })),
        row(Method::GET, "/v1/portal/document-requests", Portal, NotApplicable),
        row(Method::GET, "/v1/portal/document-requests/{document_request_id}", Portal, NotFound),
        row(Method::POST, "/v1/portal/document-requests/{document_request_id}/items/{item_id}/uploads", Portal, NotFound)
            .query("name=probe.txt"),
        row(Method::GET, "/v1/portal/documents/archive", Portal, NotApplicable),
        row(Method::GET, "/v1/portal/documents/{document_id}", Portal, NotFound),
        row(Method::GET, "/v1/portal/documents/{document_id}/content", Portal, NotFound),
        row(Method::POST, "/v1/access-links", Staff, Rejected).body(json!({ "client_id": ids.client_id, "kind": "upload" })),
        row(Method::GET, "/v1/access-links", Staff, Own(200)),
        row(Method::GET, "/v1/access-links/{access_link_id}", Staff, NotFound),
        row(Method::PATCH, "/v1/access-links/{access_link_id}", Staff, NotFound).body(json!({ "enabled": false })),
        row(Method::POST, "/v1/access-links/{access_link_id}/code", Staff, NotFound),
        row(Method::POST, "/v1/access-links/{access_link_id}/url", Staff, NotFound),
        row(Method::POST, "/v1/access-links/{access_link_id}/emails", Staff, NotFound).body(json!({ "contact_id": ids.contact_id, "message": "Probe" })),
        row(Method::GET, "/v1/access-links/{access_link_id}/emails", Staff, NotFound),
        row(Method::GET, "/v1/access-links/{access_link_id}/emails/{link_email_id}", Staff, NotFound),
        row(Method::DELETE, "/v1/access-links/{access_link_id}", Staff, NotFound),
        row(Method::GET, "/v1/links/{token}", Public, NotApplicable),
        row(Method::POST, "/v1/links/{token}/sessions", Public, NotApplicable).body(json!({ "code": "00000000" })),
        row(Method::GET, "/v1/link/documents", Link, NotApplicable),
        row(Method::GET, "/v1/link/documents/archive", Link, NotApplicable),
        row(Method::GET, "/v1/link/documents/{document_id}/content", Link, NotFound),
        row(Method::POST, "/v1/link/documents", Link, NotApplicable).query("name=probe.txt"),
        row(Method::GET, "/v1/invitations", Staff, Own(200)).admin_only(),
        row(Method::POST, "/v1/invitations", Staff, Rejected).body(json!({ "client_id": ids.client_id, "contact_id": ids.contact_id })).admin_only(),
        row(Method::GET, "/v1/invitations/{invitation_id}", Staff, NotFound).admin_only(),
        row(Method::POST, "/v1/invitations/{invitation_id}/resend", Staff, NotFound).admin_only(),
        row(Method::POST, "/v1/invitations/{invitation_id}/revoke", Staff, NotFound).admin_only(),
        row(Method::POST, "/v1/portal/invitations/accept", Public, NotApplicable).body(json!({ "token": "x", "password": "whatever1" })),
        row(Method::POST, "/v1/portal/auth/password-reset", Public, NotApplicable).body(json!({ "firm": "x", "email": "a@b.test" })),
        row(Method::POST, "/v1/portal/auth/password-reset/confirm", Public, NotApplicable).body(json!({ "token": "x", "password": "whatever1" })),
    ]
}

#[test]
fn every_operation_in_the_spec_has_a_row() {
    let spec = vestibule_http::openapi_document();
    let documented: BTreeSet<String> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().keys().map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    let ids = Ids::default();
    let tabled: BTreeSet<String> = table(&ids).iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    let missing: Vec<_> = documented.difference(&tabled).collect();
    let stale: Vec<_> = tabled.difference(&documented).collect();
    assert!(missing.is_empty(), "endpoints without an isolation row: {missing:?}");
    assert!(stale.is_empty(), "rows for endpoints that do not exist: {stale:?}");
}

/// Everything firm A has, as its owner sees it, to show nothing changed.
async fn snapshot(app: &TestApp, token: &str, ids: &Ids, firm_id: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/v1/firm".to_owned(),
        format!("/v1/staff/{}", ids.staff_id),
        format!("/v1/offices/{}", ids.office_id),
        format!("/v1/clients/{}", ids.client_id),
        format!("/v1/contacts/{}", ids.contact_id),
        format!("/v1/matters/{}", ids.matter_id),
        format!("/v1/matters/{}/members", ids.matter_id),
        format!("/v1/api-keys/{}", ids.api_key_id),
        format!("/v1/webhook-endpoints/{}", ids.endpoint_id),
        format!("/v1/portals/{}", ids.portal_id),
        format!("/v1/invoices/{}", ids.invoice_id),
        format!("/v1/payments/{}", ids.payment_id),
        format!("/v1/clients/{}/statement", ids.client_id),
        format!("/v1/conversations/{}", ids.conversation_id),
        format!("/v1/conversations/{}/messages", ids.conversation_id),
        format!("/v1/message-templates/{}", ids.template_id),
        "/v1/notifications".to_owned(),
        format!("/v1/documents/{}", ids.document_id),
        format!("/v1/folders/{}", ids.folder_id),
        "/v1/documents".to_owned(),
        "/v1/shares".to_owned(),
        format!("/v1/documents/{}/signature-requests", ids.document_id),
        format!("/v1/document-requests/{}", ids.document_request_id),
        "/v1/file-transfers".to_owned(),
        format!("/v1/access-links/{}", ids.access_link_id),
        format!("/v1/access-links/{}/emails", ids.access_link_id),
        "/v1/clients".to_owned(),
        "/v1/staff".to_owned(),
        "/v1/staff-invitations".to_owned(),
    ] {
        let reply = app.get(&path, token).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        let mut body = reply.body;
        // Using the key is recorded on it; that is not a change by the other principals.
        if let Some(key) = body.as_object_mut() {
            key.remove("last_used_at");
        }
        seen.push(body);
    }
    seen.push(json!(app.audit_count(firm_id)));
    seen
}

fn assert_no_trace(reply: &Reply, ids: &Ids, firm_id: &str, what: &str) {
    let text = reply.body.to_string();
    let ours = [
        &ids.staff_id,
        &ids.office_id,
        &ids.client_id,
        &ids.contact_id,
        &ids.matter_id,
        &ids.api_key_id,
        &ids.endpoint_id,
        &ids.portal_id,
        &ids.invoice_id,
        &ids.payment_id,
        &ids.conversation_id,
        &ids.template_id,
        &ids.notification_id,
        &ids.document_id,
        &ids.folder_id,
        &ids.access_link_id,
    ];
    for id in std::iter::once(firm_id).chain(ours.into_iter().map(String::as_str)) {
        assert!(!text.contains(id), "{what} revealed {id}: {text}");
    }
}

on_both_backends! {
    async fn no_endpoint_lets_the_wrong_principal_see_or_change_anything(backend) {
        let app = TestApp::spawn(backend).await;
        let a = app.firm("alpha").await;
        let b = app.firm("bravo").await;
        let (member_id, member_token) = app.staff(&a, "member", "mia@alpha.test").await;
        let office = app.office(&a.owner_token).await;
        let client = app.client(&a.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap().to_owned();
        let contact = app.contact(&a.owner_token, &client_id, "cora@client.test").await;
        let matter = app.matter(&a.owner_token, &client_id, false).await;
        let (api_key_id, _) = app.api_key(&a.owner_token, &["clients:read"]).await;
        let receiver = crate::support::receiver::Receiver::start().await;
        let endpoint = app.post("/v1/webhook-endpoints", &a.owner_token, &json!({ "url": receiver.url })).await;
        let endpoint_id = endpoint.id();
        let test = app.call(Method::POST, &format!("/v1/webhook-endpoints/{endpoint_id}/test"), Some(&a.owner_token), None).await;
        receiver.wait_for(1).await;
        let ids = Ids {
            staff_id: member_id,
            office_id: office["id"].as_str().unwrap().to_owned(),
            client_id,
            contact_id: contact["id"].as_str().unwrap().to_owned(),
            matter_id: matter["id"].as_str().unwrap().to_owned(),
            api_key_id,
            endpoint_id,
            delivery_id: test.id(),
            ..Ids::default()
        };
        let contact_token = app.contact_token(&a, &ids.contact_id, "cora@client.test").await;
        let member_sessions = app.get("/v1/me/sessions", &member_token).await;
        let session_id = member_sessions.body["data"][0]["id"].as_str().unwrap().to_owned();
        let portal = app.get(&format!("/v1/portals?contact_id={}", ids.contact_id), &a.owner_token).await;
        let other_contact = app.contact(&a.owner_token, &ids.client_id, "otto@client.test").await;
        let other_contact = other_contact["id"].as_str().unwrap().to_owned();
        let invitation = app.post("/v1/invitations", &a.owner_token, &json!({ "client_id": ids.client_id, "contact_id": other_contact })).await;
        assert_eq!(invitation.status, 201, "{}", invitation.body);
        let staff_invitation = app.post("/v1/staff-invitations", &a.owner_token, &json!({ "email": "nina@a.test", "name": "Nina", "role": "member" })).await;
        assert_eq!(staff_invitation.status, 201, "{}", staff_invitation.body);
        let invoice = app.post("/v1/invoices", &a.owner_token, &json!({ "number": "A-1", "client_id": ids.client_id, "issue_date": "2026-11-01", "currency": "EUR", "total_minor": 1, "status": "open" })).await;
        assert_eq!(invoice.status, 201, "{}", invoice.body);
        let payment = app.post("/v1/payments", &a.owner_token, &json!({
            "client_id": ids.client_id, "amount_minor": 1, "currency": "EUR", "received_on": "2026-11-02", "method": "cheque",
            "allocations": [{ "invoice_id": invoice.id(), "amount_minor": 1 }]
        })).await;
        assert_eq!(payment.status, 201, "{}", payment.body);
        let conversation = app.post("/v1/conversations", &a.owner_token, &json!({ "contact_id": ids.contact_id, "subject": "Hello", "body": "Secure hello" })).await;
        assert_eq!(conversation.status, 201, "{}", conversation.body);
        let answer = app.post(&format!("/v1/portal/conversations/{}/messages", conversation.id()), &contact_token, &json!({ "body": "Hi" })).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        let template = app.post("/v1/message-templates", &a.owner_token, &json!({ "name": "Hello", "subject": "Hi {{client.name}}", "body": "Dear {{contact.first_name}}" })).await;
        assert_eq!(template.status, 201, "{}", template.body);
        let notification = app.get("/v1/notifications", &a.owner_token).await;
        // Another client's contact, in the same firm, for the portal rows.
        let neighbour_client = app.client(&a.owner_token, "Bob Babbage").await;
        let neighbour = app.contact(&a.owner_token, neighbour_client["id"].as_str().unwrap(), "bob@client.test").await;
        let neighbour_token = app.contact_token(&a, neighbour["id"].as_str().unwrap(), "bob@client.test").await;
        let folder = app.post("/v1/folders", &a.owner_token, &json!({ "client_id": ids.client_id, "name": "Tax" })).await;
        assert_eq!(folder.status, 201, "{}", folder.body);
        let document = app
            .send_raw(Method::POST, &format!("/v1/documents?folder_id={}&name=a.txt&visible_to_client=true", folder.id()), &a.owner_token, "text/plain", b"secret".to_vec())
            .await;
        assert_eq!(document.status, 201, "{}", document.body);
        let share = app.post("/v1/documents/share", &a.owner_token, &json!({ "document_ids": [document.id()], "contact_id": ids.contact_id })).await;
        assert_eq!(share.status, 201, "{}", share.body);
        let signature = app.post(&format!("/v1/documents/{}/signature-requests", document.id()), &a.owner_token, &json!({ "contact_id": ids.contact_id })).await;
        assert_eq!(signature.status, 201, "{}", signature.body);
        let transfer = app.post("/v1/file-transfers", &a.owner_token, &json!({ "contact_id": ids.contact_id, "subject": "Files", "message": "Here", "files": [{ "document_id": document.id() }] })).await;
        assert_eq!(transfer.status, 201, "{}", transfer.body);
        let request = app.post("/v1/document-requests", &a.owner_token, &json!({
            "client_id": ids.client_id, "contact_id": ids.contact_id, "title": "Tax papers", "items": [{ "name": "W-2" }]
        })).await;
        assert_eq!(request.status, 201, "{}", request.body);
        let link = app.post("/v1/access-links", &a.owner_token, &json!({ "client_id": ids.client_id, "kind": "download" })).await;
        assert_eq!(link.status, 201, "{}", link.body);
        let link_url = link.body["access_link"]["url"].as_str().unwrap().to_owned();
        let link_id = link.body["access_link"]["id"].as_str().unwrap().to_owned();
        let link_email = app.post(&format!("/v1/access-links/{link_id}/emails"), &a.owner_token, &json!({ "contact_id": ids.contact_id, "message": "Your documents" })).await;
        assert_eq!(link_email.status, 201, "{}", link_email.body);
        let neighbour_link = app.post("/v1/access-links", &a.owner_token, &json!({ "client_id": neighbour_client["id"], "kind": "download" })).await;
        let neighbour_link_token = neighbour_link.body["access_link"]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let code = json!({ "code": neighbour_link.body["security_code"] });
        let neighbour_session = app.call(Method::POST, &format!("/v1/links/{neighbour_link_token}/sessions"), None, Some(&code)).await;
        assert_eq!(neighbour_session.status, 201, "{}", neighbour_session.body);
        let neighbour_session = neighbour_session.body["token"].as_str().unwrap().to_owned();
        let ids = Ids {
            access_link_id: link_id,
            link_email_id: link_email.id(),
            link_token: link_url.rsplit('/').next().unwrap().to_owned(),
            file_transfer_id: transfer.body["transfer"]["id"].as_str().unwrap().to_owned(),
            signature_request_id: signature.id(),
            document_request_id: request.id(),
            item_id: request.body["items"][0]["id"].as_str().unwrap().to_owned(),
            share_id: share.body["shares"][0]["id"].as_str().unwrap().to_owned(),
            document_id: document.id(),
            folder_id: folder.id(),
            conversation_id: conversation.id(),
            template_id: template.id(),
            notification_id: notification.body["data"][0]["id"].as_str().unwrap().to_owned(),
            invoice_id: invoice.id(),
            payment_id: payment.id(),
            invitation_id: invitation.id(),
            staff_invitation_id: staff_invitation.id(),
            portal_id: portal.body["data"][0]["id"].as_str().unwrap().to_owned(),
            session_id,
            grant_id: portal.body["data"][0]["grants"][0]["id"].as_str().unwrap().to_owned(),
            ..ids
        };
        let before = snapshot(&app, &a.owner_token, &ids, &a.id).await;

        for row in table(&ids) {
            let path = row.concrete_path(&ids);
            let what = format!("{} {}", row.method, row.path);
            let call = |token: &str| {
                let token = token.to_owned();
                let (method, path, body) = (row.method.clone(), path.clone(), row.body.clone());
                let app = &app;
                async move { app.call(method, &path, Some(&token), body.as_ref()).await }
            };
            if matches!(row.audience, Audience::Staff | Audience::Person) {
                match row.foreign {
                    Foreign::NotFound => call(&b.owner_token).await.assert_problem(404, "not_found"),
                    Foreign::Rejected => call(&b.owner_token).await.assert_problem(422, "validation_failed"),
                    Foreign::Own(status) => {
                        let reply = call(&b.owner_token).await;
                        assert_eq!(reply.status.as_u16(), status, "{what} as another firm: {}", reply.body);
                        assert_no_trace(&reply, &ids, &a.id, &what);
                    }
                    Foreign::NotApplicable => {}
                }
            }
            if row.audience == Audience::Person && row.foreign == Foreign::NotFound {
                call(&neighbour_token).await.assert_problem(404, "not_found");
            }
            if row.audience == Audience::Staff {
                let as_contact = call(&contact_token).await;
                assert_eq!(as_contact.status, 403, "{what} as a portal contact: {}", as_contact.body);
                if row.admin_only {
                    let as_member = call(&member_token).await;
                    assert_eq!(as_member.status, 403, "{what} as a plain member: {}", as_member.body);
                }
            }
            if row.audience == Audience::Link {
                call(&a.owner_token).await.assert_problem(401, "invalid_token");
                call(&contact_token).await.assert_problem(401, "invalid_token");
                if row.foreign == Foreign::NotFound {
                    call(&neighbour_session).await.assert_problem(404, "not_found");
                }
            }
            if row.audience == Audience::Portal {
                let as_staff = call(&a.owner_token).await;
                assert_eq!(as_staff.status, 403, "{what} as staff: {}", as_staff.body);
                if row.foreign == Foreign::NotFound {
                    call(&neighbour_token).await.assert_problem(404, "not_found");
                }
            }
        }

        let after = snapshot(&app, &a.owner_token, &ids, &a.id).await;
        assert_eq!(before, after, "firm A changed");
        assert_eq!(app.get("/v1/me", &member_token).await.status, 200, "the member's session survived");
    }
}
