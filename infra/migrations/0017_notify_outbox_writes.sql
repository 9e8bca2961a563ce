-- A message written to the outbox wakes idle push workers at once instead of at their next poll.
-- One notification per statement; NOTIFY folds repeats within a transaction and is delivered
-- only after commit, so a worker never wakes for a message it cannot see yet.
CREATE FUNCTION notify_outbox_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('truckroll_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox_write();
