ALTER TABLE firms DROP COLUMN new_device_alerts;
ALTER TABLE firms DROP COLUMN require_two_factor_contacts;
ALTER TABLE firms DROP COLUMN require_two_factor_staff;
ALTER TABLE sessions DROP COLUMN last_used_at;
DROP TABLE login_challenges;
DROP TABLE recovery_codes;
DROP TABLE two_factor;
