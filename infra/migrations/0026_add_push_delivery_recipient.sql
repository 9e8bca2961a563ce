-- Who a delivery is for: the job for a customer's browsers (every browser on one tracking link
-- counts as one recipient), the user for a technician's or a dispatcher's. The worker shares each
-- batch out among recipients, so one flooded job (thousands of subscriptions, or hundreds of
-- messages) cannot hold back a technician's message; the index lets it find each recipient's
-- oldest due deliveries without reading the whole backlog.
ALTER TABLE push_deliveries ADD COLUMN recipient_id uuid;

UPDATE push_deliveries d SET recipient_id = coalesce(s.user_id, s.job_id)
FROM push_subscriptions s
WHERE s.id = d.subscription_id AND d.status = 'pending';

-- A pending delivery whose subscription was deleted has nothing to send to (the worker does the same).
UPDATE push_deliveries SET status = 'gone' WHERE status = 'pending' AND recipient_id IS NULL;

ALTER TABLE push_deliveries
    ADD CONSTRAINT push_deliveries_pending_has_recipient CHECK (status <> 'pending' OR recipient_id IS NOT NULL);

CREATE INDEX push_deliveries_recipient_due_idx ON push_deliveries (recipient_id, next_attempt_at)
    WHERE status = 'pending';
