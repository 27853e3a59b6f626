DROP TABLE pending_blobs;
DROP TABLE download_receipts;
DROP TABLE documents;
DROP TABLE folders;
