-- Secure messaging (seeds 001, 003): conversations with one contact about a client or matter,
-- their messages and per-reader read state, firm-wide message templates, in-app
-- notifications of staff, and the live events SSE streams replay and fan out.

CREATE TABLE message_templates (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (firm_id, name)
);
CREATE INDEX message_templates_firm ON message_templates (firm_id, id);

-- last_message_id orders the inbox (message ids are UUIDv7); the per-side columns answer
-- "unread" without scanning messages.
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    matter_id TEXT REFERENCES matters (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    channel TEXT,
    subject TEXT NOT NULL,
    started_by_kind TEXT NOT NULL,
    started_by_id TEXT NOT NULL,
    last_message_id TEXT NOT NULL,
    last_staff_message_id TEXT,
    last_contact_message_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX conversations_firm_activity ON conversations (firm_id, last_message_id);
CREATE INDEX conversations_client ON conversations (client_id, last_message_id);
CREATE INDEX conversations_matter ON conversations (matter_id, last_message_id);
CREATE INDEX conversations_contact ON conversations (contact_id, last_message_id);
CREATE INDEX conversations_firm_channel ON conversations (firm_id, channel, last_message_id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    author_kind TEXT NOT NULL,
    author_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE conversation_reads (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    reader_id TEXT NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    last_read_message_id TEXT NOT NULL,
    read_at TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, reader_id)
);
CREATE INDEX conversation_reads_reader ON conversation_reads (reader_id, conversation_id);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    staff_id TEXT NOT NULL REFERENCES staff (id),
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    message_id TEXT NOT NULL REFERENCES messages (id),
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_staff ON notifications (staff_id, id);
CREATE INDEX notifications_staff_unread ON notifications (staff_id, read_at, id);

-- Short-lived: each instance polls recent rows and fans them out to its open streams;
-- a reconnecting stream replays what it missed (Last-Event-ID). Swept after a day.
CREATE TABLE live_events (
    id TEXT PRIMARY KEY,
    firm_id TEXT NOT NULL REFERENCES firms (id),
    recipient_kind TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX live_events_created ON live_events (created_at);
CREATE INDEX live_events_recipient ON live_events (recipient_id, id);
