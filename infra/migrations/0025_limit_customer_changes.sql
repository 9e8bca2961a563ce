-- Each change a customer asked for through their tracking link (a reschedule or a cancel), so
-- every API process holds a job to TRUCKROLL_TRACKING_CHANGES_PER_JOB changes within
-- TRUCKROLL_TRACKING_CHANGE_WINDOW_S: a rescheduled visit moves a technician's day and queues
-- messages, and the link is all it takes. A job's rows older than the window go as new ones come.
CREATE TABLE tracking_changes (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id    uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind      text NOT NULL CHECK (kind IN ('reschedule', 'cancel')),
    asked_at  timestamptz NOT NULL
);
CREATE INDEX tracking_changes_job_idx ON tracking_changes (job_id, asked_at);

-- A dispatcher bound to a territory sees the customers of its sites and jobs: the lookup by
-- customer needs this index on jobs.
CREATE INDEX jobs_customer_idx ON jobs (customer_id) WHERE customer_id IS NOT NULL;
