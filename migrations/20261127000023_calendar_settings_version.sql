-- A platform's notice and reminder settings get a version of their own, so two people changing
-- them at once cannot silently overwrite each other (the second is refused as stale). It is kept
-- apart from the platform's version: renaming the platform does not make an open settings form
-- stale, nor the other way round.
ALTER TABLE platforms ADD COLUMN calendar_settings_version integer NOT NULL DEFAULT 1;
