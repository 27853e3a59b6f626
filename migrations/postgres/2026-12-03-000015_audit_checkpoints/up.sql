-- Audit heads published (signed) outside the database: inserting the row is the claim on a
-- head's checkpoint, so however many instances run the pass, one of them publishes it.
CREATE TABLE audit_checkpoints (
    firm_id TEXT NOT NULL REFERENCES firms (id),
    seq BIGINT NOT NULL,
    head_hash TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (firm_id, seq)
);
