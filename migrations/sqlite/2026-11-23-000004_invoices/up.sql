-- Invoices of the firm's billing system, shown to clients in their portal (seed 004).
-- Amounts are integers in the currency's minor unit; lines are a JSON array.

CREATE TABLE invoices (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    matter_id TEXT REFERENCES matters (id),
    number TEXT NOT NULL,
    external_id TEXT,
    issue_date DATE NOT NULL,
    due_date DATE,
    currency TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    balance_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    lines TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (firm_id, number),
    UNIQUE (firm_id, external_id)
);
CREATE INDEX invoices_firm ON invoices (firm_id, id);
CREATE INDEX invoices_client ON invoices (client_id, id);
CREATE INDEX invoices_matter ON invoices (matter_id, id);
CREATE INDEX invoices_firm_status ON invoices (firm_id, status, id);
