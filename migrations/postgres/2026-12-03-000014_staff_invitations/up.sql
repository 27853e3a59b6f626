-- Staff invited by email: the person chooses their own password when accepting; only the
-- link's digest is stored.
CREATE TABLE staff_invitations (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    portal_permission BOOLEAN NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT REFERENCES staff (id),
    staff_id TEXT REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX staff_invitations_firm ON staff_invitations (firm_id, id);
CREATE INDEX staff_invitations_email ON staff_invitations (firm_id, email);
