ALTER TABLE deliveries DROP COLUMN content;
DROP TABLE password_resets;
DROP TABLE invitations;
DROP TABLE portal_grants;
DROP TABLE portals;
