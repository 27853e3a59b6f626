-- Certificates of completion of signature requests: issued once, when the request is
-- answered, and kept byte for byte, since their SHA-256s are recorded in the audit chain.
CREATE TABLE signature_certificates (
    signature_request_id TEXT PRIMARY KEY REFERENCES signature_requests (id),
    firm_id TEXT NOT NULL REFERENCES firms (id),
    json TEXT NOT NULL,
    pdf BYTEA NOT NULL,
    json_sha256 TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,
    audit_event_id TEXT NOT NULL,
    issued_at TIMESTAMP NOT NULL
);
CREATE INDEX signature_certificates_firm ON signature_certificates (firm_id, signature_request_id);
