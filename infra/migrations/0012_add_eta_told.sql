-- The ETA the customer was last told, so a new one is only sent when it moved enough.
ALTER TABLE jobs ADD COLUMN eta_told_at timestamptz;
