-- A team's delivery log reads the queue's notification jobs by the channel they go to: index the
-- channel id inside the payload, for the two kinds that deliver.
CREATE INDEX jobs_webhook_channel ON jobs ((payload->>'webhook_id'), created_at DESC)
    WHERE kind = 'deliver_webhook';
CREATE INDEX jobs_email_channel ON jobs ((payload->>'email_id'), created_at DESC)
    WHERE kind = 'deliver_email';
CREATE INDEX delivery_attempts_job_attempt ON delivery_attempts (job_id, attempt);
DROP INDEX delivery_attempts_job;
