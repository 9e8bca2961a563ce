-- An event's time is when it was written, not when its transaction began. A transaction that
-- waited for a job's row lock (an assignment moving the job while its technician reported a
-- status) wrote its event after the other's, with the later id but the earlier time.
ALTER TABLE job_events ALTER COLUMN occurred_at SET DEFAULT clock_timestamp();
