-- Events are written in the transaction of the change that caused them, together with one
-- delivery per recipient (webhook endpoint or email address); the dispatcher works the
-- deliveries off later, at least once.

CREATE TABLE outbox_events (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    event_type TEXT NOT NULL,
    data TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_events_firm ON outbox_events (firm_id, id);

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    url TEXT NOT NULL,
    description TEXT,
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMP,
    disabled_at TIMESTAMP,
    disabled_reason TEXT,
    failing_since TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_firm ON webhook_endpoints (firm_id, id);

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    event_id TEXT NOT NULL REFERENCES outbox_events (id),
    channel TEXT NOT NULL,
    endpoint_id TEXT REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    recipient TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_firm ON deliveries (firm_id, id);
CREATE INDEX deliveries_firm_status ON deliveries (firm_id, status, id);
CREATE INDEX deliveries_firm_channel ON deliveries (firm_id, channel, id);

CREATE TABLE delivery_attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    status_code INTEGER,
    latency_ms BIGINT NOT NULL,
    error TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);
