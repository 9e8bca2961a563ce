-- What an asset's record said, and since when: one row per attribute whose value changed, with
-- where the new value came from. assets.attributes stays the record as it stands now; this
-- table lets a question about the past (a backtest, "what did we know before that visit?") be
-- answered with what was known then.
--
-- An asset with no row here has never changed since it was written: its attributes count from
-- coalesce(installed_at, created_at). The first change to such an asset first writes its
-- attributes as they stood, from that moment, so its history starts complete.
CREATE TABLE asset_attribute_changes (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    asset_id       uuid NOT NULL REFERENCES assets (id),
    key            text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,63}$'),
    value          jsonb CHECK (value IS NULL OR jsonb_typeof(value) IN ('string', 'number', 'boolean')),  -- NULL: removed
    valid_from     timestamptz NOT NULL,
    source         text NOT NULL CHECK (source IN ('import', 'intake', 'visit', 'manual')),
    job_id         uuid REFERENCES jobs (id),
    asset_event_id uuid REFERENCES asset_events (id),
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (source <> 'visit' OR asset_event_id IS NOT NULL)
);
CREATE INDEX asset_attribute_changes_asset_idx ON asset_attribute_changes (asset_id, valid_from, id);

-- A visit whose fitted part says the record was wrong: what the record said, what was fitted,
-- and what the record says since. Kept until someone looks (resolved_at).
CREATE TABLE asset_attribute_disagreements (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    asset_id       uuid NOT NULL REFERENCES assets (id),
    key            text NOT NULL,
    recorded_value jsonb NOT NULL,
    fitted_value   jsonb NOT NULL,
    part_id        uuid NOT NULL REFERENCES parts (id),
    quantity       smallint NOT NULL,
    job_id         uuid REFERENCES jobs (id),
    asset_event_id uuid NOT NULL REFERENCES asset_events (id),
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at    timestamptz
);
CREATE INDEX asset_attribute_disagreements_asset_idx ON asset_attribute_disagreements (asset_id, occurred_at);

-- Whether a fitment condition is a range ("141..180", "..140", "331..") rather than a value the
-- attribute must equal: the same test fitment_holds makes. Only an equal-value condition tells
-- what a fitted part says about the asset; a range narrows it without naming a value.
CREATE FUNCTION fitment_condition_is_range(expected jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_typeof(expected) = 'string'
       AND (expected #>> '{}') ~ '^\s*(-?[0-9]+(\.[0-9]+)?)?\s*\.\.\s*(-?[0-9]+(\.[0-9]+)?)?\s*$'
$$;
