use serde::{Deserialize, Serialize};

/// What an integration API key may do. Keys get only the scopes they are created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ApiScope {
    #[serde(rename = "clients:read")]
    ClientsRead,
    #[serde(rename = "clients:write")]
    ClientsWrite,
    #[serde(rename = "contacts:read")]
    ContactsRead,
    #[serde(rename = "contacts:write")]
    ContactsWrite,
    #[serde(rename = "matters:read")]
    MattersRead,
    #[serde(rename = "matters:write")]
    MattersWrite,
    #[serde(rename = "staff:read")]
    StaffRead,
    #[serde(rename = "offices:read")]
    OfficesRead,
    #[serde(rename = "audit:read")]
    AuditRead,
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    #[serde(rename = "portals:manage")]
    PortalsManage,
    #[serde(rename = "invoices:read")]
    InvoicesRead,
    #[serde(rename = "invoices:write")]
    InvoicesWrite,
    #[serde(rename = "payments:read")]
    PaymentsRead,
    #[serde(rename = "payments:write")]
    PaymentsWrite,
    #[serde(rename = "messages:read")]
    MessagesRead,
    #[serde(rename = "documents:read")]
    DocumentsRead,
    #[serde(rename = "documents:write")]
    DocumentsWrite,
}

impl ApiScope {
    pub const ALL: [Self; 18] = [
        Self::ClientsRead,
        Self::ClientsWrite,
        Self::ContactsRead,
        Self::ContactsWrite,
        Self::MattersRead,
        Self::MattersWrite,
        Self::StaffRead,
        Self::OfficesRead,
        Self::AuditRead,
        Self::WebhooksManage,
        Self::PortalsManage,
        Self::InvoicesRead,
        Self::InvoicesWrite,
        Self::PaymentsRead,
        Self::PaymentsWrite,
        Self::MessagesRead,
        Self::DocumentsRead,
        Self::DocumentsWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientsRead => "clients:read",
            Self::ClientsWrite => "clients:write",
            Self::ContactsRead => "contacts:read",
            Self::ContactsWrite => "contacts:write",
            Self::MattersRead => "matters:read",
            Self::MattersWrite => "matters:write",
            Self::StaffRead => "staff:read",
            Self::OfficesRead => "offices:read",
            Self::AuditRead => "audit:read",
            Self::WebhooksManage => "webhooks:manage",
            Self::PortalsManage => "portals:manage",
            Self::InvoicesRead => "invoices:read",
            Self::InvoicesWrite => "invoices:write",
            Self::PaymentsRead => "payments:read",
            Self::PaymentsWrite => "payments:write",
            Self::MessagesRead => "messages:read",
            Self::DocumentsRead => "documents:read",
            Self::DocumentsWrite => "documents:write",
        }
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == raw)
    }
}
