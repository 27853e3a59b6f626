-- The client's side of the portal: document requests staff send a contact, the files that
-- answer their items, the reminders sent about them, and in-app notifications for staff and
-- contacts alike (no longer tied to conversations).

-- The firm's reminder schedule, as JSON read by `domain::reminder::ReminderPolicy`; `{}` is
-- the documented default.
ALTER TABLE firms ADD COLUMN reminder_policy TEXT NOT NULL DEFAULT '{}';

-- The folder of the client that portal uploads without a folder of their own go to.
ALTER TABLE clients ADD COLUMN portal_inbox_folder_id TEXT REFERENCES folders (id) ON DELETE SET NULL;

CREATE TABLE document_requests (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    matter_id TEXT REFERENCES matters (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    title TEXT NOT NULL,
    message TEXT,
    due_on DATE,
    folder_id TEXT REFERENCES folders (id),
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
CREATE INDEX document_requests_firm ON document_requests (firm_id, id);
CREATE INDEX document_requests_client ON document_requests (firm_id, client_id, id);
CREATE INDEX document_requests_status ON document_requests (firm_id, status, id);
CREATE INDEX document_requests_contact ON document_requests (contact_id, status, id);

CREATE TABLE document_request_items (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    request_id TEXT NOT NULL REFERENCES document_requests (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    due_on DATE,
    folder_id TEXT REFERENCES folders (id),
    status TEXT NOT NULL,
    return_reason TEXT,
    uploaded_at TIMESTAMP,
    reviewed_at TIMESTAMP,
    reviewed_by TEXT,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX document_request_items_request ON document_request_items (request_id, position);
-- The reminder pass reads the items still waiting for the contact.
CREATE INDEX document_request_items_waiting ON document_request_items (status, request_id);

CREATE TABLE document_request_uploads (
    document_id TEXT PRIMARY KEY REFERENCES documents (id),
    item_id TEXT NOT NULL REFERENCES document_request_items (id),
    firm_id TEXT NOT NULL REFERENCES firms (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX document_request_uploads_item ON document_request_uploads (item_id, created_at);

-- A row is the claim on one reminder: the key lets one instance, once a day, remind about
-- a subject (a request item); every other attempt that day inserts nothing.
CREATE TABLE reminders_sent (
    subject_id TEXT NOT NULL,
    sent_on DATE NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    rule TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (subject_id, sent_on)
);

ALTER TABLE notifications RENAME TO notifications_v1;
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    recipient_kind TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id),
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    message_id TEXT REFERENCES messages (id),
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
INSERT INTO notifications
    SELECT id, firm_id, 'staff', staff_id, kind, client_id, 'conversation', conversation_id, message_id, created_at, read_at
    FROM notifications_v1;
DROP TABLE notifications_v1;
CREATE INDEX notifications_recipient ON notifications (recipient_id, id);
CREATE INDEX notifications_recipient_unread ON notifications (recipient_id, read_at, id);
