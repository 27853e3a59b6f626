DROP TABLE scan_jobs;
DROP INDEX documents_scan_status;
ALTER TABLE documents DROP COLUMN scanned_at;
ALTER TABLE documents DROP COLUMN scan_threat;
ALTER TABLE documents DROP COLUMN scan_status;
