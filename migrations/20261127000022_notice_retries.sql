-- Notices to teams (webhook calls, e-mails) and maintenance reminders now get 30 attempts, which
-- with the backoff capped at one hour keep trying for about a day (domain::jobs::max_attempts);
-- five attempts gave up after about 14 minutes, so an outage of a receiver or the mail server
-- lost an announcement for good. The jobs still waiting get the new allowance too.
UPDATE jobs SET max_attempts = 30
WHERE kind IN ('deliver_webhook', 'deliver_email', 'maintenance_reminder')
  AND done_at IS NULL AND failed_at IS NULL AND max_attempts < 30;
