-- A sign-off lapses only while its review is open: once approved, the sign-offs are the
-- approval's, and stay as they are.
CREATE OR REPLACE FUNCTION golive_signoff_may_only_lapse() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.lapsed_at IS NULL AND NEW.lapsed_at IS NOT NULL
       AND (NEW.review_id, NEW.side, NEW.signed_by, NEW.signed_at, NEW.signer, NEW.answers)
           IS NOT DISTINCT FROM
           (OLD.review_id, OLD.side, OLD.signed_by, OLD.signed_at, OLD.signer, OLD.answers)
       AND (SELECT state FROM golive_reviews WHERE id = OLD.review_id) = 'open' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is history and cannot be changed: % is not allowed (a sign-off can only lapse, while its review is open)',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
