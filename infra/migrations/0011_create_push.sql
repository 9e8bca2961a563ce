-- Browsers subscribed to Web Push: a customer's for one job (through the tracking link), or a
-- technician's or dispatcher's for their own messages.
CREATE TABLE push_subscriptions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id      uuid REFERENCES jobs (id) ON DELETE CASCADE,
    user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    endpoint    text NOT NULL CHECK (length(endpoint) BETWEEN 10 AND 2000),
    p256dh      text NOT NULL,
    auth        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((job_id IS NULL) <> (user_id IS NULL))
);
CREATE UNIQUE INDEX push_subscriptions_job_endpoint ON push_subscriptions (job_id, endpoint) WHERE job_id IS NOT NULL;
CREATE UNIQUE INDEX push_subscriptions_user_endpoint ON push_subscriptions (user_id, endpoint) WHERE user_id IS NOT NULL;

-- One delivery per message and subscription, retried until sent or given up; every attempt is
-- recorded. Workers claim due rows with FOR UPDATE SKIP LOCKED under a lease.
CREATE TABLE push_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id       bigint NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    subscription_id uuid REFERENCES push_subscriptions (id) ON DELETE SET NULL,
    endpoint        text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'gone', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,
    last_status     integer,
    last_error      text,
    sent_at         timestamptz,
    UNIQUE (outbox_id, subscription_id)
);
CREATE INDEX push_deliveries_due_idx ON push_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE push_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  bigint NOT NULL REFERENCES push_deliveries (id) ON DELETE CASCADE,
    status_code  integer,
    error        text,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_attempts_delivery_idx ON push_attempts (delivery_id);
