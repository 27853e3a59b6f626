-- Payments against invoices (seed 004): offline payments recorded by staff or the billing
-- system, card payments through the processor, refunds as children of payments, and the cards
-- portal contacts save. An invoice's balance and settled status follow from its allocations.

ALTER TABLE firms ADD COLUMN member_payment_access TEXT NOT NULL DEFAULT 'record';
ALTER TABLE invoices ADD COLUMN viewed_at TIMESTAMP;

-- `issued` becomes `open`; `overdue` is worked out from the due date when read, never stored.
UPDATE invoices SET status = CASE
    WHEN status IN ('draft', 'void') THEN status
    WHEN balance_minor = 0 THEN 'paid'
    WHEN balance_minor < total_minor THEN 'partially_paid'
    ELSE 'open'
END;

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    matter_id TEXT REFERENCES matters (id),
    external_id TEXT,
    amount_minor BIGINT NOT NULL,
    refunded_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    received_on DATE NOT NULL,
    method TEXT NOT NULL,
    reference TEXT,
    status TEXT NOT NULL,
    recorded_by_staff_id TEXT REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (firm_id, external_id)
);
CREATE INDEX payments_firm ON payments (firm_id, id);
CREATE INDEX payments_firm_status ON payments (firm_id, status, id);
CREATE INDEX payments_client_date ON payments (client_id, received_on, id);

-- A card payment's side at the processor: who paid with which card, the processor's charge,
-- and what the processor said.
CREATE TABLE card_charges (
    payment_id TEXT PRIMARY KEY REFERENCES payments (id),
    processor TEXT NOT NULL,
    processor_ref TEXT,
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    payment_method_id TEXT,
    failure_reason TEXT,
    disputed_at TIMESTAMP,
    UNIQUE (processor, processor_ref)
);

-- `position` keeps the order allocations were made in: refunds give back the latest first.
CREATE TABLE payment_allocations (
    payment_id TEXT NOT NULL REFERENCES payments (id),
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    position INTEGER NOT NULL,
    amount_minor BIGINT NOT NULL,
    refunded_minor BIGINT NOT NULL,
    PRIMARY KEY (payment_id, invoice_id)
);
CREATE INDEX payment_allocations_invoice ON payment_allocations (invoice_id, payment_id);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    payment_id TEXT NOT NULL REFERENCES payments (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    matter_id TEXT REFERENCES matters (id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    refunded_on DATE NOT NULL,
    reason TEXT,
    status TEXT NOT NULL,
    processor_ref TEXT,
    created_by_staff_id TEXT REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX refunds_payment ON refunds (payment_id, id);
CREATE INDEX refunds_client_date ON refunds (client_id, refunded_on, id);

-- The statement orders a client's invoices by issue date.
CREATE INDEX invoices_client_date ON invoices (client_id, issue_date, id);

CREATE TABLE payment_customers (
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    processor TEXT NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    customer_ref TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (contact_id, processor)
);

CREATE TABLE payment_methods (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    processor TEXT NOT NULL,
    processor_ref TEXT NOT NULL,
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL,
    exp_month INTEGER NOT NULL,
    exp_year INTEGER NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (processor, processor_ref)
);
CREATE INDEX payment_methods_contact ON payment_methods (contact_id, id);

CREATE TABLE payment_setups (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    processor TEXT NOT NULL,
    processor_ref TEXT NOT NULL,
    payment_method_id TEXT REFERENCES payment_methods (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (processor, processor_ref)
);
CREATE INDEX payment_setups_contact ON payment_setups (contact_id, id);

-- Each processor webhook event is acted on once.
CREATE TABLE processor_events (
    processor TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (processor, event_id)
);
