DROP TABLE live_events;
DROP TABLE notifications;
DROP TABLE conversation_reads;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE message_templates;
