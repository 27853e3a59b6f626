DROP INDEX documents_uploaded_by;
DROP TABLE link_emails;
DROP TABLE link_downloads;
DROP TABLE link_sessions;
DROP TABLE link_guards;
DROP TABLE access_links;
