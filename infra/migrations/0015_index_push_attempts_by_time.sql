-- /metrics counts the failed sends of the last five minutes at every scrape: find them by time,
-- not by reading every attempt ever made.
CREATE INDEX push_attempts_time_idx ON push_attempts (attempted_at);
