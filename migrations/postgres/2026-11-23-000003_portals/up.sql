-- A portal is one contact's access to the firm's client portal; grants decide which clients
-- and matters it shows. Invitations carry a one-time token (stored as a SHA-256 digest).

CREATE TABLE portals (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    kind TEXT NOT NULL,
    expires_at TIMESTAMP,
    status TEXT NOT NULL,
    created_by TEXT REFERENCES staff (id),
    activated_at TIMESTAMP,
    disabled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (contact_id)
);
CREATE INDEX portals_firm ON portals (firm_id, id);
CREATE INDEX portals_firm_status ON portals (firm_id, status, id);

CREATE TABLE portal_grants (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    portal_id TEXT NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    client_id TEXT REFERENCES clients (id),
    matter_id TEXT REFERENCES matters (id) ON DELETE CASCADE,
    granted_by TEXT REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (portal_id, client_id, matter_id)
);
CREATE INDEX portal_grants_portal ON portal_grants (portal_id);
CREATE INDEX portal_grants_client ON portal_grants (client_id);
CREATE INDEX portal_grants_matter ON portal_grants (matter_id);

CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    portal_id TEXT NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    client_id TEXT REFERENCES clients (id),
    email TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    invited_by TEXT REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_sent_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX invitations_firm ON invitations (firm_id, id);
CREATE INDEX invitations_portal ON invitations (portal_id);
CREATE INDEX invitations_invited_by ON invitations (firm_id, invited_by, id);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_resets_contact ON password_resets (contact_id);

-- What one email needs beyond the thin event (a one-time link, a chosen subject and message);
-- cleared as soon as the delivery is finished, so secrets do not outlive their sending.
ALTER TABLE deliveries ADD COLUMN content TEXT;
