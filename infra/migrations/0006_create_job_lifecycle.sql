-- The working day: messages waiting to be delivered, replayable requests from the mobile app,
-- technicians' notes and the parts they used.

-- The outbox: a message is written in the same transaction as the change it tells of, and a
-- worker delivers it later (leases let a second worker take over a dead one's rows).
CREATE TABLE outbox (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{1,63}$'),
    audience       text NOT NULL CHECK (audience IN ('customer', 'technician', 'dispatcher')),
    job_id         uuid REFERENCES jobs (id) ON DELETE CASCADE,
    technician_id  uuid REFERENCES technicians (id) ON DELETE CASCADE,
    territory_id   uuid REFERENCES territories (id),
    payload        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
    -- Web Push: messages of one topic replace each other on an offline phone.
    topic          text CHECK (topic ~ '^[A-Za-z0-9_-]{1,32}$'),
    urgency        text NOT NULL DEFAULT 'normal' CHECK (urgency IN ('very-low', 'low', 'normal', 'high')),
    ttl_s          integer NOT NULL DEFAULT 3600 CHECK (ttl_s BETWEEN 0 AND 28 * 86400),
    created_at     timestamptz NOT NULL DEFAULT now(),
    available_at   timestamptz NOT NULL DEFAULT now(),
    leased_until   timestamptz,
    attempts       integer NOT NULL DEFAULT 0,
    sent_at        timestamptz,
    failed_at      timestamptz,
    last_error     text
);
CREATE INDEX outbox_pending_idx ON outbox (available_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_job_idx ON outbox (job_id);

-- A repeated Idempotency-Key returns the first answer; the key is the caller's own.
CREATE TABLE idempotency_keys (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    fingerprint  bytea NOT NULL,
    status_code  integer,
    response     bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

CREATE TABLE job_notes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id        uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    author_user_id uuid REFERENCES users (id),
    text          text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    client_at     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_notes_job_idx ON job_notes (job_id, id);

CREATE TABLE job_parts_used (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id        uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    part_id       uuid NOT NULL REFERENCES parts (id),
    quantity      smallint NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    technician_id uuid REFERENCES technicians (id),
    client_at     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_parts_used_job_idx ON job_parts_used (job_id);

ALTER TABLE jobs
    ADD COLUMN outcome text CHECK (outcome IN ('completed', 'incomplete')),
    ADD COLUMN outcome_reason text NOT NULL DEFAULT '' CHECK (length(outcome_reason) <= 2000),
    -- The client time of the last status change applied, so a stale offline event is spotted.
    ADD COLUMN status_client_at timestamptz;
