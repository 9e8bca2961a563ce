-- A job whose parts are not on the van is planned with a call at a depot just before it.
ALTER TABLE jobs
    ADD COLUMN pickup_location_id uuid REFERENCES stock_locations (id),
    ADD COLUMN pickup_s integer NOT NULL DEFAULT 0 CHECK (pickup_s BETWEEN 0 AND 4 * 3600);
