-- A day plan: what the optimizer was asked, what it read (each job's version, so applying can
-- refuse when any of them changed meanwhile) and what it answered.
CREATE TABLE day_plans (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    territory_id  uuid NOT NULL REFERENCES territories (id),
    day           date NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('day', 'replan')),
    status        text NOT NULL DEFAULT 'solving' CHECK (status IN ('solving', 'done', 'failed', 'applied')),
    time_limit_s  real NOT NULL CHECK (time_limit_s > 0 AND time_limit_s <= 600),
    seed          integer NOT NULL,
    requested_by  uuid REFERENCES users (id),
    read_versions jsonb NOT NULL DEFAULT '{}',  -- job id -> version when the day was read
    result        jsonb,                        -- routes, unplanned, KPIs, changes, violations
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    applied_at    timestamptz
);
CREATE INDEX day_plans_territory_day_idx ON day_plans (territory_id, day, created_at DESC);
