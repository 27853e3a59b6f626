use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::problem::Problem;

mod finish;
pub use finish::finish;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vestibule API",
        description = "Client portal backend for law and accounting firms. See docs/api-guide.md for authentication, errors, pagination and idempotency.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(
        Problem,
        vestibule_domain::FieldError,
        vestibule_domain::events::WebhookPayload,
        vestibule_domain::events::WebhookData
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Staff sign-in"),
        (name = "portal", description = "Portal contacts' sign-in"),
        (name = "firm", description = "The caller's firm and settings"),
        (name = "staff", description = "Staff members"),
        (name = "offices", description = "Offices"),
        (name = "clients", description = "Clients (people and organisations)"),
        (name = "contacts", description = "Contact persons of clients, staff or offices"),
        (name = "matters", description = "Matters of clients, their members and access"),
        (name = "api-keys", description = "Integration API keys"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "portals", description = "Client portals: contacts' access, grants and invitations"),
        (name = "invoices", description = "Invoices and emailing them (optionally inviting recipients to the portal)"),
        (name = "messages", description = "Secure messaging: conversations with portal contacts, their messages and message templates"),
        (name = "notifications", description = "In-app notifications of the signed-in staff member or portal contact"),
        (name = "documents", description = "Documents and folders of clients and matters: streamed uploads and downloads, client visibility"),
        (name = "document-requests", description = "Asking a contact for documents: items, their review, reminders"),
        (name = "access-links", description = "Download and upload links of a client or matter, opened with a security code (staff side)"),
        (name = "links", description = "Opening an access link without an account: landing, security code, documents, uploads"),
        (name = "live", description = "Live updates as Server-Sent Events, for SPAs"),
        (name = "webhooks", description = "Webhook endpoints, their delivery logs and the event catalogue"),
        (name = "operations", description = "Health, readiness and metrics")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A staff or portal access token (JWT) from a login, or an integration API key (`vsk_…`).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "link_session",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A link session token (`vls_…`) from `POST /v1/links/{token}/sessions`: short-lived, for \
                         one access link.",
                    ))
                    .build(),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::routes::{access_links, documents, file_transfers, link_emails, shares};

    /// utoipa takes only literals for limits: each declared one must be the limit enforced.
    #[test]
    fn declared_limits_are_the_enforced_ones() {
        let doc = crate::openapi_document();
        let declared = |schema: &str, property: &str, keyword: &str| {
            let value = &doc["components"]["schemas"][schema]["properties"][property][keyword];
            usize::try_from(value.as_u64().unwrap_or_default()).unwrap_or_default()
        };
        let subject = vestibule_app::messaging::MAX_SUBJECT_CHARS;
        let cases = [
            (("CreateClient", "emails", "maxItems"), vestibule_app::clients::MAX_EMAILS),
            (("UpdateClient", "emails", "maxItems"), vestibule_app::clients::MAX_EMAILS),
            (("CreateClient", "assignee_staff_ids", "maxItems"), vestibule_app::clients::MAX_ASSIGNEES),
            (("UpdateClient", "assignee_staff_ids", "maxItems"), vestibule_app::clients::MAX_ASSIGNEES),
            (("SetVisibility", "document_ids", "maxItems"), documents::BULK_LIMIT),
            (("SendFiles", "files", "maxItems"), file_transfers::FILE_LIMIT),
            (("SendLinkEmail", "document_ids", "maxItems"), link_emails::FILE_LIMIT),
            (("ShareDocuments", "document_ids", "maxItems"), shares::SHARE_LIMIT),
            (("FilesForm", "file", "maxItems"), crate::upload::FILES_PER_REQUEST),
            (("CreateDocumentRequest", "items", "maxItems"), vestibule_domain::document_request::MAX_ITEMS),
            (("PortalReply", "document_ids", "maxItems"), vestibule_app::conversations::MAX_ATTACHMENTS),
            (("CreateAccessLink", "message", "maxLength"), access_links::MESSAGE_LIMIT),
            (("UpdateAccessLink", "message", "maxLength"), access_links::MESSAGE_LIMIT),
            (("StartConversation", "subject", "maxLength"), subject),
            (("StartPortalConversation", "subject", "maxLength"), subject),
            (("SendFiles", "subject", "maxLength"), subject),
        ];
        for ((schema, property, keyword), enforced) in cases {
            assert_eq!(declared(schema, property, keyword), enforced, "{schema}.{property} {keyword}");
        }
    }
}
