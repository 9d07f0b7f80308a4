-- A sign-off covers the answers it was given on: each records a fingerprint of the items'
-- answers (status, reason, evidence, waiver). When the answers change before the other side
-- signs, the earlier sign-off lapses (it stays, as history, with the time it lapsed) and that
-- side signs again. One live sign-off per side; a sign-off is never changed otherwise, nor
-- deleted.
ALTER TABLE golive_signoffs ADD COLUMN answers text;
ALTER TABLE golive_signoffs ADD COLUMN lapsed_at timestamptz;
ALTER TABLE golive_signoffs DROP CONSTRAINT golive_signoffs_pkey;
CREATE UNIQUE INDEX golive_signoffs_live ON golive_signoffs (review_id, side) WHERE lapsed_at IS NULL;
CREATE INDEX golive_signoffs_review ON golive_signoffs (review_id);

CREATE FUNCTION golive_signoff_may_only_lapse() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.lapsed_at IS NULL AND NEW.lapsed_at IS NOT NULL
       AND (NEW.review_id, NEW.side, NEW.signed_by, NEW.signed_at, NEW.signer, NEW.answers)
           IS NOT DISTINCT FROM
           (OLD.review_id, OLD.side, OLD.signed_by, OLD.signed_at, OLD.signer, OLD.answers) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is history and cannot be changed: % is not allowed (a sign-off can only lapse)',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER golive_signoffs_history ON golive_signoffs;
CREATE TRIGGER golive_signoffs_history BEFORE UPDATE OR DELETE ON golive_signoffs
    FOR EACH ROW EXECUTE FUNCTION golive_signoff_may_only_lapse();
