ALTER TABLE notifications RENAME TO notifications_v2;
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    staff_id TEXT NOT NULL REFERENCES staff (id),
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    message_id TEXT NOT NULL REFERENCES messages (id),
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
INSERT INTO notifications
    SELECT id, firm_id, recipient_id, kind, client_id, subject_id, message_id, created_at, read_at
    FROM notifications_v2 WHERE recipient_kind = 'staff' AND subject_type = 'conversation';
DROP TABLE notifications_v2;
CREATE INDEX notifications_staff ON notifications (staff_id, id);
CREATE INDEX notifications_staff_unread ON notifications (staff_id, read_at, id);
DROP TABLE reminders_sent;
DROP TABLE document_request_uploads;
DROP TABLE document_request_items;
DROP TABLE document_requests;
ALTER TABLE clients DROP COLUMN portal_inbox_folder_id;
ALTER TABLE firms DROP COLUMN reminder_policy;
