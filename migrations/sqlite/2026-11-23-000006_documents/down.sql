DROP TABLE pending_blobs;
DROP TABLE documents;
DROP TABLE folders;
