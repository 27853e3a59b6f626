-- Seed 000's "Send Files to Contact": one record per sending, from a staff member to a
-- contact's portal, with the message that carries the files and each file's signature request.
CREATE TABLE file_transfers (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    matter_id TEXT REFERENCES matters (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    portal_id TEXT NOT NULL REFERENCES portals (id),
    from_staff_id TEXT NOT NULL REFERENCES staff (id),
    -- The caller, when sending on behalf of from_staff_id.
    sent_by TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- 'secure': the message only in the portal; 'email': also in the email's body.
    delivery TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    message_id TEXT NOT NULL REFERENCES messages (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX file_transfers_firm ON file_transfers (firm_id, id);
CREATE INDEX file_transfers_contact ON file_transfers (contact_id, id);
CREATE INDEX file_transfers_client ON file_transfers (client_id, id);
CREATE INDEX file_transfers_matter ON file_transfers (matter_id, id);

CREATE TABLE file_transfer_files (
    transfer_id TEXT NOT NULL REFERENCES file_transfers (id),
    document_id TEXT NOT NULL REFERENCES documents (id),
    firm_id TEXT NOT NULL REFERENCES firms (id),
    signature_request_id TEXT REFERENCES signature_requests (id),
    PRIMARY KEY (transfer_id, document_id)
);
