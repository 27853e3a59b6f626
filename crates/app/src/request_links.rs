//! Where emails about a document request point: the portal for the contact, the staff app
//! for staff.

use crate::context::Settings;

/// Where the contact opens the request in the portal.
pub fn portal_link(settings: &Settings, request_id: &str) -> String {
    settings.link(&format!("/portal/document-requests/{request_id}"))
}

/// Where staff open the request.
pub fn staff_link(settings: &Settings, request_id: &str) -> String {
    settings.link(&format!("/document-requests/{request_id}"))
}
