DROP INDEX messages_conversation_side;
ALTER TABLE conversation_reads DROP COLUMN read_other;
ALTER TABLE messages DROP COLUMN side_seq;
ALTER TABLE conversations DROP COLUMN contact_messages;
ALTER TABLE conversations DROP COLUMN staff_messages;
