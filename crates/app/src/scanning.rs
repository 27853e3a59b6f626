//! Malware scanning, off the request path: an upload made while a scanner is configured is
//! `pending` and queued; a worker claims the job, streams the bytes to the scanner port and
//! records the verdict here. A scanner that cannot be reached leaves the job to be tried
//! again, so a document is never lost to an outage, only kept from downloads until judged.
//! An infected file is quarantined: its status hides it from clients and link recipients and
//! refuses every download; the staff it concerns are told. The scanner itself is the port in
//! [`crate::scanner`].

use serde_json::json;
use vestibule_domain::audit::ActorKind;
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{DocumentId, StaffId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::notification::{NotificationKind, SubjectType};
use vestibule_domain::scan::{ScanStatus, Verdict};
use vestibule_storage::documents::{self, DocumentRow};
use vestibule_storage::scans::{self, ScanWork};
use vestibule_storage::staff::StaffRow;
use vestibule_storage::{DbConnection, StorageError, clients, outbox, staff, write_tx};

use crate::audit::{self, Entry};
use crate::context::{Context, Origin, Settings};
use crate::error::{AppError, AppResult};
use crate::events;
use crate::notifications::{self, Notice};

/// The scan status a new upload gets under these settings.
pub fn on_upload(settings: &Settings) -> ScanStatus {
    ScanStatus::on_upload(settings.scanner.is_some())
}

/// Queues a new document for the scanner, when it waits for one.
pub fn queue(conn: &mut DbConnection, row: &DocumentRow) -> AppResult<()> {
    if row.scan_status == ScanStatus::Pending.as_str() {
        scans::enqueue(conn, row)?;
    }
    Ok(())
}

/// Claims up to `batch` due scan jobs for `lease`.
pub fn claim(conn: &mut DbConnection, lease: chrono::Duration, batch: i64) -> AppResult<Vec<ScanWork>> {
    let now = vestibule_storage::now();
    write_tx(conn, |conn| Ok(scans::claim(conn, now, now + lease, batch)?))
}

/// The scanner could not be asked about `work`: it is tried again after a growing wait.
#[tracing::instrument(skip(conn, work), fields(document_id = %work.document_id))]
pub fn retry_later(conn: &mut DbConnection, work: &ScanWork, error: &str) -> AppResult<()> {
    let wait = vestibule_domain::scan::retry_delay(work.attempts + 1);
    let next = vestibule_storage::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::minutes(5));
    tracing::warn!(attempts = work.attempts + 1, error, "scan deferred");
    write_tx(conn, |conn| Ok(scans::retry_later(conn, &work.document_id, next, error)?))
}

/// Records the scanner's verdict: the status, an audit entry, the event, and for malware
/// the alert to the staff concerned.
#[tracing::instrument(skip(conn, settings, work), fields(document_id = %work.document_id))]
pub fn record(conn: &mut DbConnection, settings: &Settings, work: &ScanWork, verdict: &Verdict) -> AppResult<()> {
    let status = verdict.status();
    let detail = match verdict {
        Verdict::Clean => None,
        Verdict::Infected(threat) | Verdict::Unscannable(threat) => Some(threat.as_str()),
    };
    write_tx(conn, |conn| {
        let now = vestibule_storage::now();
        scans::record_verdict(conn, &work.document_id, status.as_str(), detail, now)?;
        let row = match documents::get(
            conn,
            &work.firm_id,
            &work.document_id,
            &vestibule_domain::authz::MatterVisibility::All,
        ) {
            Ok(row) => row,
            // Deleted while it waited: nobody will see it, nobody needs telling.
            Err(StorageError::NotFound) => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        let entry = Entry::success("document.scanned", "document", &row.id)
            .with_details(json!({ "scan_status": status.as_str(), "threat": detail, "sha256": row.sha256 }));
        audit::record_as(conn, &Origin::default(), &row.firm_id, ActorKind::System, None, entry)?;
        let (event_type, threat) = match verdict {
            Verdict::Infected(threat) => (EventType::DocumentInfected, Some(threat.as_str())),
            Verdict::Clean | Verdict::Unscannable(_) => (EventType::DocumentScanned, None),
        };
        let data = json!({ "id": row.id, "scan_status": status.as_str(), "threat": threat });
        let event = events::publish_data(conn, &row.firm_id, event_type, &data)?;
        if let Some(threat) = threat {
            alert(conn, settings, &row, &event, threat)?;
        }
        Ok(())
    })
}

/// Tells the staff a quarantined file concerns: the staff member who uploaded it, or for a
/// file from the client side (portal, link, integration) those the firm's policy names for
/// the client's uploads.
fn alert(
    conn: &mut DbConnection,
    settings: &Settings,
    row: &DocumentRow,
    event: &vestibule_storage::outbox::EventRow,
    threat: &str,
) -> AppResult<()> {
    let members: Vec<StaffRow> = if StaffId::parse(&row.uploaded_by).is_ok() {
        match staff::get(conn, &row.firm_id, &row.uploaded_by) {
            Ok(member) => vec![member],
            Err(StorageError::NotFound) => Vec::new(),
            Err(error) => return Err(error.into()),
        }
    } else {
        notifications::staff_to_tell(conn, &row.firm_id, &row.client_id, row.matter_id.as_deref())?
    };
    let members: Vec<StaffRow> = members.into_iter().filter(|m| m.disabled_at.is_none()).collect();
    let client = clients::get(conn, &row.firm_id, &row.client_id)?;
    let content = Email::DocumentQuarantined(mail::Quarantined {
        link: settings.link(&format!("/documents/{}", row.id)),
        client_name: client.row.name,
        document_name: row.name.clone(),
        threat: threat.to_owned(),
    });
    for member in &members {
        outbox::queue_email(conn, event, &member.email, &content)?;
    }
    let notice = Notice::new(NotificationKind::DocumentQuarantined, &row.client_id, (SubjectType::Document, &row.id));
    notifications::notify(conn, &row.firm_id, notifications::to_staff(&members), notice)
}

/// Has a document scanned again (one the scanner could not judge, or any other after its
/// signatures changed); owners and admins only.
#[tracing::instrument(skip(conn, ctx))]
pub fn rescan(conn: &mut DbConnection, ctx: &Context, id: &DocumentId) -> AppResult<DocumentRow> {
    authorize(&ctx.principal, Action::ManageQuarantine)?;
    write_tx(conn, |conn| {
        let mut row = documents::get(conn, ctx.firm_id(), id.as_str(), &matter_visibility(&ctx.principal))?;
        if ctx.settings.scanner.is_none() {
            return Err(AppError::conflict("scanning_disabled", "no malware scanner is configured (SCANNER=none)"));
        }
        scans::rescan(conn, &row, ScanStatus::Pending.as_str())?;
        let entry = Entry::success("document.rescan_requested", "document", &row.id)
            .with_details(json!({ "previous_scan_status": row.scan_status }));
        audit::record(conn, ctx, entry)?;
        row.scan_status = ScanStatus::Pending.as_str().to_owned();
        row.scan_threat = None;
        Ok(row)
    })
}

/// A document's scan status as stored; anything unreadable counts as not yet judged.
pub fn status_of(row: &DocumentRow) -> ScanStatus {
    ScanStatus::parse(&row.scan_status).unwrap_or(ScanStatus::Pending)
}

/// Refuses the download of a file the scanner has not cleared (409 with the reason).
pub fn downloadable(row: &DocumentRow) -> AppResult<()> {
    status_of(row).download().map_err(|w| AppError::conflict(w.code, w.detail))
}

/// Refuses to share, send or put up for signature a file in quarantine or not judged.
pub fn may_pass_on(rows: &[DocumentRow]) -> AppResult<()> {
    rows.iter().try_for_each(|row| status_of(row).may_pass_on().map_err(|w| AppError::conflict(w.code, w.detail)))
}

/// What "Download All" holds of these documents: the files that can be downloaded now.
pub fn only_downloadable(rows: Vec<DocumentRow>) -> Vec<DocumentRow> {
    rows.into_iter().filter(|row| status_of(row).download().is_ok()).collect()
}
