-- Documents (seeds 000, 002, 003): files of a client or matter, kept in the blob store under
-- a server-made key; the user's filename is for display only. Folders nest per client or
-- matter. A pending upload is recorded before its bytes go out, so a crash between the blob
-- and its row leaves a trace the maintenance sweep can clean up.

CREATE TABLE folders (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    matter_id TEXT REFERENCES matters (id),
    parent_id TEXT REFERENCES folders (id),
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX folders_firm ON folders (firm_id, id);
CREATE INDEX folders_client ON folders (client_id, matter_id, parent_id);
CREATE INDEX folders_parent ON folders (parent_id);

CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    matter_id TEXT REFERENCES matters (id),
    folder_id TEXT REFERENCES folders (id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    blob_key TEXT NOT NULL UNIQUE,
    visible_to_client BOOLEAN NOT NULL DEFAULT FALSE,
    -- A staff or contact id; its prefix tells which.
    uploaded_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    deleted_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX documents_firm ON documents (firm_id, id);
CREATE INDEX documents_client ON documents (client_id, id);
CREATE INDEX documents_matter ON documents (matter_id, id);
CREATE INDEX documents_folder ON documents (folder_id, id);

-- Who downloaded what through the portal (seed 002's confirmation icon): first and last time.
CREATE TABLE download_receipts (
    document_id TEXT NOT NULL REFERENCES documents (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    firm_id TEXT NOT NULL REFERENCES firms (id),
    first_at TIMESTAMP NOT NULL,
    last_at TIMESTAMP NOT NULL,
    downloads BIGINT NOT NULL,
    PRIMARY KEY (document_id, contact_id)
);

-- Documents shared to one contact's portal (seed 003), with or without a message. A share
-- with a message ends only with the message, which stays in the conversation.
CREATE TABLE shares (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    document_id TEXT NOT NULL REFERENCES documents (id),
    portal_id TEXT NOT NULL REFERENCES portals (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    folder_id TEXT REFERENCES folders (id),
    message_id TEXT REFERENCES messages (id),
    shared_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    ended_by TEXT
);
CREATE INDEX shares_firm ON shares (firm_id, id);
CREATE INDEX shares_document ON shares (document_id, id);
CREATE INDEX shares_portal ON shares (portal_id, ended_at);

CREATE TABLE message_attachments (
    message_id TEXT NOT NULL REFERENCES messages (id),
    document_id TEXT NOT NULL REFERENCES documents (id),
    firm_id TEXT NOT NULL REFERENCES firms (id),
    PRIMARY KEY (message_id, document_id)
);

-- A contact asked to sign a document (seed 000's "signature required"). The signature
-- records the document's SHA-256 at signing, with time, address and user agent.
CREATE TABLE signature_requests (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    document_id TEXT NOT NULL REFERENCES documents (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    requested_by TEXT NOT NULL,
    status TEXT NOT NULL,
    signed_name TEXT,
    document_sha256 TEXT,
    ip TEXT,
    user_agent TEXT,
    decline_reason TEXT,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX signature_requests_document ON signature_requests (document_id, id);
CREATE INDEX signature_requests_contact ON signature_requests (contact_id, status, id);

CREATE TABLE pending_blobs (
    blob_key TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    started_at TIMESTAMP NOT NULL
);
CREATE INDEX pending_blobs_started ON pending_blobs (started_at);
