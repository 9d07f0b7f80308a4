-- A drill has a leader and observers (who watch and take notes, apart from those who act), and
-- a drill that is called off keeps why.
ALTER TABLE dr_drills ADD COLUMN observers text NOT NULL DEFAULT '';
ALTER TABLE dr_drills ADD COLUMN cancel_reason text;
