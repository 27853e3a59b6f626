-- Access links (seed 002): per client or matter ("work") one download and one upload link,
-- opened without an account by a URL plus a security code passed on by another channel.
CREATE TABLE access_links (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    matter_id TEXT REFERENCES matters (id),
    -- The matter's id, or the client's for a link of the client itself: one of each kind.
    work_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('download', 'upload')),
    enabled BOOLEAN NOT NULL,
    message TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    -- Where uploads land; NULL: the top level of the work.
    folder_id TEXT REFERENCES folders (id),
    max_uploads INTEGER NOT NULL CHECK (max_uploads BETWEEN 1 AND 1000),
    last_accessed_at TIMESTAMP,
    created_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX access_links_work ON access_links (work_id, kind);
CREATE INDEX access_links_firm ON access_links (firm_id, id);
CREATE INDEX access_links_client ON access_links (client_id, id);
CREATE INDEX access_links_matter ON access_links (matter_id, id);
CREATE INDEX access_links_folder ON access_links (folder_id);

-- What guards a link, apart from its setup. The URL's token is derived from `token_nonce`
-- with the server's link secret, so staff can copy it again; only its SHA-256 is stored, for
-- the lookup. The code is stored as an HMAC with the same secret: eight digits would be
-- guessed offline from a plain hash.
CREATE TABLE link_guards (
    access_link_id TEXT PRIMARY KEY REFERENCES access_links (id),
    token_nonce TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    code_hash TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_at TIMESTAMP
);

-- What a correct code opens: a short-lived bearer session, stored by the SHA-256 of its token.
CREATE TABLE link_sessions (
    token_hash TEXT PRIMARY KEY,
    access_link_id TEXT NOT NULL REFERENCES access_links (id),
    firm_id TEXT NOT NULL REFERENCES firms (id),
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX link_sessions_link ON link_sessions (access_link_id);
CREATE INDEX link_sessions_expiry ON link_sessions (expires_at);

-- Downloads through a link, per document (seed 002's confirmation icon), like the portal's.
CREATE TABLE link_downloads (
    document_id TEXT NOT NULL REFERENCES documents (id),
    access_link_id TEXT NOT NULL REFERENCES access_links (id),
    firm_id TEXT NOT NULL REFERENCES firms (id),
    first_at TIMESTAMP NOT NULL,
    last_at TIMESTAMP NOT NULL,
    downloads BIGINT NOT NULL,
    PRIMARY KEY (document_id, access_link_id)
);

-- The contact log: emails that carried a link (never its code), sent through the outbox.
CREATE TABLE link_emails (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    access_link_id TEXT NOT NULL REFERENCES access_links (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- The documents the email named (seed 002's "Send"), as a JSON array of {document_id, name}.
    files TEXT NOT NULL,
    sent_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX link_emails_link ON link_emails (access_link_id, id);

-- Uploads through a link are counted against its limit by their uploader.
CREATE INDEX documents_uploaded_by ON documents (uploaded_by);
