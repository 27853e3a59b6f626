-- Malware scanning: every document carries its scan status; uploads made while a scanner is
-- configured wait in scan_jobs, claimed and leased like deliveries, until the scanner has
-- judged them. Documents from before scanning existed were never scanned.

ALTER TABLE documents ADD COLUMN scan_status TEXT NOT NULL DEFAULT 'unscanned';
ALTER TABLE documents ADD COLUMN scan_threat TEXT;
ALTER TABLE documents ADD COLUMN scanned_at TIMESTAMP;
CREATE INDEX documents_scan_status ON documents (firm_id, scan_status, id);

CREATE TABLE scan_jobs (
    document_id TEXT PRIMARY KEY REFERENCES documents (id),
    firm_id TEXT NOT NULL REFERENCES firms (id),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX scan_jobs_due ON scan_jobs (next_attempt_at);
