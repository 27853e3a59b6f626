-- Ids are prefixed text, times are UTC TIMESTAMP, JSON is TEXT: the same shape on both backends.

CREATE TABLE firms (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email_display_name TEXT NOT NULL,
    thread_notification_policy TEXT NOT NULL DEFAULT 'assignees',
    default_link_expiry_days INTEGER NOT NULL DEFAULT 14,
    upload_limit_bytes BIGINT NOT NULL DEFAULT 104857600,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE offices (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX offices_firm ON offices (firm_id, id);

CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    portal_permission BOOLEAN NOT NULL DEFAULT FALSE,
    office_id TEXT REFERENCES offices (id),
    disabled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (firm_id, email)
);
CREATE INDEX staff_firm ON staff (firm_id, id);
CREATE INDEX staff_firm_role ON staff (firm_id, role);
CREATE INDEX staff_office ON staff (office_id);

CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    external_id TEXT,
    owner_staff_id TEXT REFERENCES staff (id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (firm_id, external_id)
);
CREATE INDEX clients_firm ON clients (firm_id, id);
CREATE INDEX clients_firm_kind ON clients (firm_id, kind, id);
CREATE INDEX clients_owner ON clients (owner_staff_id);

CREATE TABLE client_emails (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    email TEXT NOT NULL,
    PRIMARY KEY (client_id, position)
);
CREATE INDEX client_emails_firm_email ON client_emails (firm_id, email);

CREATE TABLE client_assignees (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    staff_id TEXT NOT NULL REFERENCES staff (id),
    firm_id TEXT NOT NULL REFERENCES firms (id),
    PRIMARY KEY (client_id, staff_id)
);
CREATE INDEX client_assignees_staff ON client_assignees (staff_id);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    external_id TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    client_id TEXT REFERENCES clients (id),
    staff_id TEXT REFERENCES staff (id),
    office_id TEXT REFERENCES offices (id),
    disabled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (firm_id, external_id),
    UNIQUE (firm_id, email),
    CHECK (CAST(client_id IS NOT NULL AS INTEGER) + CAST(staff_id IS NOT NULL AS INTEGER) + CAST(office_id IS NOT NULL AS INTEGER) = 1)
);
CREATE INDEX contacts_firm ON contacts (firm_id, id);
CREATE INDEX contacts_client ON contacts (client_id);
CREATE INDEX contacts_staff ON contacts (staff_id);
CREATE INDEX contacts_office ON contacts (office_id);

CREATE TABLE matters (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    title TEXT NOT NULL,
    reference TEXT,
    email TEXT,
    restricted BOOLEAN NOT NULL DEFAULT FALSE,
    external_id TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (firm_id, external_id)
);
CREATE INDEX matters_firm ON matters (firm_id, id);
CREATE INDEX matters_client ON matters (client_id, id);

CREATE TABLE matter_members (
    matter_id TEXT NOT NULL REFERENCES matters (id) ON DELETE CASCADE,
    staff_id TEXT NOT NULL REFERENCES staff (id),
    firm_id TEXT NOT NULL REFERENCES firms (id),
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (matter_id, staff_id)
);
CREATE INDEX matter_members_staff ON matter_members (staff_id);

-- Passwords and lockout state of staff and contacts alike; owner_id is a stf_ or con_ id.
CREATE TABLE credentials (
    owner_id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    staff_id TEXT REFERENCES staff (id),
    contact_id TEXT REFERENCES contacts (id),
    ip TEXT,
    user_agent TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    CHECK ((staff_id IS NULL) <> (contact_id IS NULL))
);
CREATE INDEX sessions_staff ON sessions (staff_id);
CREATE INDEX sessions_contact ON sessions (contact_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_keys_firm ON api_keys (firm_id, id);

CREATE TABLE audit_heads (
    firm_id TEXT PRIMARY KEY REFERENCES firms (id),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    seq BIGINT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_kind TEXT,
    target_id TEXT,
    outcome TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (firm_id, seq)
);
CREATE INDEX audit_events_actor ON audit_events (firm_id, actor_id, seq);
CREATE INDEX audit_events_target ON audit_events (firm_id, target_id, seq);
CREATE INDEX audit_events_action ON audit_events (firm_id, action, seq);
CREATE INDEX audit_events_time ON audit_events (firm_id, occurred_at);

CREATE TABLE idempotency_keys (
    principal_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (principal_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
