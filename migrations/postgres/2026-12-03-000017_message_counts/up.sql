-- Unread counts in constant time per inbox page: each conversation counts the messages of
-- each side, each message knows its place among its side's messages, and each read position
-- how many of the other side's messages it covers. Unread = the other side's count minus the
-- covered count; nothing scans a thread's messages to list an inbox.
ALTER TABLE conversations ADD COLUMN staff_messages BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN contact_messages BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN side_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversation_reads ADD COLUMN read_other BIGINT NOT NULL DEFAULT 0;

-- The newest message of one side at or before a read position, for marking read.
CREATE INDEX messages_conversation_side ON messages (conversation_id, author_kind, id);

UPDATE messages SET side_seq = numbered.n
FROM (
    SELECT id, ROW_NUMBER() OVER (PARTITION BY conversation_id, author_kind ORDER BY id) AS n FROM messages
) AS numbered
WHERE numbered.id = messages.id;
UPDATE conversations SET
    staff_messages = (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = conversations.id AND m.author_kind = 'staff'),
    contact_messages = (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = conversations.id AND m.author_kind = 'contact');
-- A contact reads staff messages; anyone else (staff, integrations) reads the contact's.
UPDATE conversation_reads SET read_other = (
    SELECT COUNT(*) FROM messages m
    WHERE m.conversation_id = conversation_reads.conversation_id
      AND m.id <= conversation_reads.last_read_message_id
      AND m.author_kind = CASE WHEN conversation_reads.reader_id = (
          SELECT c.contact_id FROM conversations c WHERE c.id = conversation_reads.conversation_id
      ) THEN 'staff' ELSE 'contact' END
);
