-- Who lived at a site at a given time, and whether a new occupancy overlaps a stored one, are
-- looked up by site and start for every imported job and occupancy; only the current
-- occupancy had an index.
CREATE INDEX site_occupancies_site_time_idx ON site_occupancies (site_id, started_at) INCLUDE (ended_at, customer_id);
