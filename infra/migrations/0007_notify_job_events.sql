-- Every job event wakes the live streams (the board, and later the tracking page) in every API
-- process; the event itself is read back by id, so a missed wake-up loses nothing.
CREATE FUNCTION notify_job_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('truckroll_events', NEW.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER job_events_notify AFTER INSERT ON job_events
    FOR EACH ROW EXECUTE FUNCTION notify_job_event();
