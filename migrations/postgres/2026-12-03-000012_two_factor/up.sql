-- Two-factor sign-in (TOTP, RFC 6238) for staff and contacts, the challenges between the
-- password step and the code step, and what the sessions list shows.

-- One authenticator per account (staff member or contact). `secret` is the base32 TOTP
-- secret, read and written by one storage function each so it can be encrypted at rest.
-- Until `confirmed_at` the enrolment is pending and ends at `pending_expires_at`.
-- `last_step` is the last accepted 30-second time step: codes of that step or earlier are
-- refused, so a code works once.
CREATE TABLE two_factor (
    owner_id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    secret TEXT NOT NULL,
    confirmed_at TIMESTAMP,
    pending_expires_at TIMESTAMP NOT NULL,
    last_step BIGINT,
    created_at TIMESTAMP NOT NULL
);

-- Single-use recovery codes, SHA-256 hashed; a used one is deleted.
CREATE TABLE recovery_codes (
    code_hash TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX recovery_codes_owner ON recovery_codes (owner_id);

-- What a correct password opens for an account with (or required to have) 2FA: a
-- short-lived challenge, hashed, that only the code step (or enrolment) accepts.
-- `purpose` is `verify` or `enrol`.
CREATE TABLE login_challenges (
    token_hash TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    account_kind TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

ALTER TABLE sessions ADD COLUMN last_used_at TIMESTAMP;

ALTER TABLE firms ADD COLUMN require_two_factor_staff BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE firms ADD COLUMN require_two_factor_contacts BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE firms ADD COLUMN new_device_alerts BOOLEAN NOT NULL DEFAULT TRUE;
