-- Who signed a side, by identity rather than display name (a person's user id, also when they
-- sign with one of their API tokens), so one person cannot sign both sides under two names.
ALTER TABLE golive_signoffs ADD COLUMN signer text;
