-- A fitment condition may be a range, so a rule can say what a door of a given weight takes:
-- {"springs": 2, "weight_lb": "141..180"} holds for a two-spring door of 141 to 180 lb (both ends
-- included; "..140" and "331.." are open ranges). Any other value must equal the attribute.
CREATE FUNCTION fitment_holds(attributes jsonb, conditions jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT NOT EXISTS (
        SELECT 1 FROM jsonb_each(conditions) AS c(key, expected)
        WHERE NOT coalesce(
            CASE
                WHEN jsonb_typeof(c.expected) = 'string'
                     AND (c.expected #>> '{}') ~ '^\s*(-?[0-9]+(\.[0-9]+)?)?\s*\.\.\s*(-?[0-9]+(\.[0-9]+)?)?\s*$'
                THEN jsonb_typeof(attributes -> c.key) = 'number'
                     AND (attributes ->> c.key)::float8
                         >= coalesce(nullif(trim(split_part(c.expected #>> '{}', '..', 1)), '')::float8, '-Infinity')
                     AND (attributes ->> c.key)::float8
                         <= coalesce(nullif(trim(split_part(c.expected #>> '{}', '..', 2)), '')::float8, 'Infinity')
                ELSE attributes -> c.key = c.expected
            END,
            false)
    )
$$;
