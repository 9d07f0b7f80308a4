-- DOMAIN §3: a major update is announced at least a month ahead, so a platform's notice for one
-- is at least 30 days (it was 1 to 365). A platform set lower is raised to 30 first; its settings
-- version moves, so a settings form opened before is refused as stale rather than saved over.
-- Maintenances already announced keep the notice they were given.
UPDATE platforms
SET major_notice_days = 30, calendar_settings_version = calendar_settings_version + 1
WHERE major_notice_days < 30;

ALTER TABLE platforms
    DROP CONSTRAINT platforms_major_notice_days_check,
    ADD CONSTRAINT platforms_major_notice_days_check CHECK (major_notice_days BETWEEN 30 AND 365);
