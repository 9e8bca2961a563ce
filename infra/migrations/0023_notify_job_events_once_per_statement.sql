-- A wake-up is only a hint (the streams read the events back from the table), so one per
-- statement does what one per row did. An import writing 117,000 job events in one statement
-- queued 117,000 notifications for every listening API process; now it queues one, and
-- PostgreSQL folds the identical wake-ups of one transaction into one.
DROP TRIGGER job_events_notify ON job_events;

CREATE OR REPLACE FUNCTION notify_job_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('truckroll_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER job_events_notify AFTER INSERT ON job_events
    FOR EACH STATEMENT EXECUTE FUNCTION notify_job_event();
