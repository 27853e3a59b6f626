DROP TABLE pending_blobs;
DROP TABLE signature_requests;
DROP TABLE message_attachments;
DROP TABLE shares;
DROP TABLE download_receipts;
DROP TABLE documents;
DROP TABLE folders;
