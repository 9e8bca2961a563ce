-- What each finished first visit took, kept up to date by the database itself, so that parts
-- prediction reads its evidence with indexed, set-based queries instead of walking the whole
-- service history for every call. One row per first visit (a job with no parent that finished),
-- and one row per part it used, its follow-ups' parts merged in.
--
-- Triggers keep both tables right whoever writes (a technician's report, an import, the demo):
-- jobs, asset events and their parts, an asset's make or model and a part's family are the inputs.

-- Makes and models are typed many ways in real records ("OHD", "Overhead Door", "overhead door"):
-- evidence is pooled by a key that ignores case, spaces and punctuation, and known aliases.
CREATE TABLE make_aliases (
    alias text PRIMARY KEY CHECK (alias ~ '^[a-z0-9]+$'),
    make  text NOT NULL CHECK (make ~ '^[a-z0-9]+$')
);
INSERT INTO make_aliases (alias, make) VALUES
    ('ohd', 'overheaddoor'),
    ('overheaddoorcorp', 'overheaddoor'),
    ('overheaddoorcorporation', 'overheaddoor'),
    ('chi', 'chioverheaddoors'),
    ('chioverhead', 'chioverheaddoors'),
    ('clopaycorp', 'clopay'),
    ('clopaybuildingproducts', 'clopay'),
    ('liftmaster', 'liftmaster'),
    ('chamberlaingroup', 'chamberlain'),
    ('amarr', 'amarr'),
    ('amarrgaragedoors', 'amarr'),
    ('wayne', 'waynedalton'),
    ('wd', 'waynedalton'),
    ('carrierhvac', 'carrier'),
    ('trane', 'trane'),
    ('tranetechnologies', 'trane'),
    ('lennoxinternational', 'lennox'),
    ('goodmanmfg', 'goodman'),
    ('vw', 'volkswagen'),
    ('chevy', 'chevrolet'),
    ('mercedes', 'mercedesbenz'),
    ('mb', 'mercedesbenz');

CREATE FUNCTION spelling_key(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN regexp_replace(lower(raw), '[^a-z0-9]+', '', 'g');

-- STABLE, not IMMUTABLE: it reads make_aliases, so it may not back an index.
CREATE FUNCTION make_key(raw text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE STRICT
    RETURN coalesce((SELECT m.make FROM make_aliases m WHERE m.alias = spelling_key(raw)), spelling_key(raw));

-- A fitment rule names a make (and model) or none; it applies to an asset typed any of the ways
-- its make is typed. The one place this rule is written.
CREATE FUNCTION fitment_names(rule_make text, rule_model text, make text, model text) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (rule_make IS NULL OR make_key(rule_make) = make_key(make))
       AND (rule_model IS NULL OR spelling_key(rule_model) = spelling_key(model));

CREATE TABLE visit_outcomes (
    -- No foreign keys: the rows are derived, written in bulk, and taken back by the triggers below.
    job_id              uuid PRIMARY KEY,
    asset_id            uuid NOT NULL,
    problem_code        text NOT NULL,
    choice              text NOT NULL,  -- '' when the problem offers no choice
    make_key            text NOT NULL,
    model_key           text NOT NULL,
    status              text NOT NULL,
    took_s              integer,         -- on-site time of the first visit, when it was measured
    finished_at         timestamptz NOT NULL,
    needed_second_visit boolean NOT NULL
);
CREATE INDEX visit_outcomes_problem_idx ON visit_outcomes (problem_code, choice, make_key, model_key)
    INCLUDE (status, took_s);
CREATE INDEX visit_outcomes_asset_idx ON visit_outcomes (asset_id);

CREATE TABLE visit_outcome_parts (
    job_id       uuid NOT NULL,
    part_id      uuid NOT NULL,
    quantity     integer NOT NULL,
    follow_up    boolean NOT NULL,  -- a follow-up visit brought (some of) it
    -- The family as counted: taking a visit back must take back what was added, even after the
    -- part moved to another family.
    family       text NOT NULL,
    problem_code text NOT NULL,
    choice       text NOT NULL,
    make_key     text NOT NULL,
    model_key    text NOT NULL,
    PRIMARY KEY (job_id, part_id)
);
CREATE INDEX visit_outcome_parts_problem_idx ON visit_outcome_parts (problem_code, choice, make_key, model_key)
    INCLUDE (job_id, part_id, quantity, follow_up);

-- The indexes the history's joins need: a visit's follow-ups, and a job's asset events.
CREATE INDEX jobs_parent_idx ON jobs (parent_job_id) WHERE parent_job_id IS NOT NULL;
CREATE INDEX asset_events_job_idx ON asset_events (job_id) WHERE job_id IS NOT NULL;

-- The first visit a job belongs to: itself, or the visit it follows up. Follow-ups point at the
-- first visit (the report and the import write them so; older chains are flattened below); the
-- walk up is for a chain written some other way.
CREATE FUNCTION visit_root(of_job uuid) RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE STRICT
    RETURN (
        WITH RECURSIVE up (id, parent_job_id, depth) AS (
            SELECT j.id, j.parent_job_id, 0 FROM jobs j WHERE j.id = of_job
            UNION ALL
            SELECT p.id, p.parent_job_id, up.depth + 1 FROM jobs p JOIN up ON p.id = up.parent_job_id
            WHERE up.depth < 20
        )
        SELECT id FROM up WHERE parent_job_id IS NULL
    );

-- Running counts per problem, choice, make and model, so that the evidence for one call is a few
-- hundred rows whatever the size of the history: visits (family ''), visits that used a family,
-- and visits that used a part in a quantity. A follow-up "brought" a family when it fitted it.
CREATE TABLE visit_family_counts (
    problem_code   text NOT NULL,
    choice         text NOT NULL,
    make_key       text NOT NULL,
    model_key      text NOT NULL,
    family         text NOT NULL,  -- '' counts the visits themselves
    jobs           integer NOT NULL,
    follow_up_jobs integer NOT NULL,
    PRIMARY KEY (problem_code, choice, make_key, model_key, family)
);

CREATE TABLE visit_part_counts (
    problem_code text NOT NULL,
    choice       text NOT NULL,
    make_key     text NOT NULL,
    model_key    text NOT NULL,
    part_id      uuid NOT NULL,
    quantity     integer NOT NULL,
    jobs         integer NOT NULL,
    PRIMARY KEY (problem_code, choice, make_key, model_key, part_id, quantity)
);

CREATE FUNCTION part_family(attributes jsonb, sku text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce(attributes ->> 'family', sku);

-- Adds (sign 1) or takes away (sign -1) what these visits count. Rows are written in key order,
-- so two transactions counting visits of the same models lock the same rows in the same order.
CREATE FUNCTION count_visit_outcomes(roots uuid[], sign integer) RETURNS void
    LANGUAGE sql AS $$
    INSERT INTO visit_family_counts AS c (problem_code, choice, make_key, model_key, family, jobs, follow_up_jobs)
    SELECT x.problem_code, x.choice, x.make_key, x.model_key, x.family,
           sign * count(*), sign * count(*) FILTER (WHERE x.follow_up)
    FROM (
        SELECT o.problem_code, o.choice, o.make_key, o.model_key, '' AS family, false AS follow_up
        FROM unnest(roots) AS r (id) JOIN visit_outcomes o ON o.job_id = r.id
        UNION ALL
        SELECT v.problem_code, v.choice, v.make_key, v.model_key, v.family, bool_or(v.follow_up)
        FROM unnest(roots) AS r (id)
        JOIN visit_outcome_parts v ON v.job_id = r.id
        GROUP BY v.job_id, v.problem_code, v.choice, v.make_key, v.model_key, v.family
    ) x
    GROUP BY x.problem_code, x.choice, x.make_key, x.model_key, x.family
    ORDER BY x.problem_code, x.choice, x.make_key, x.model_key, x.family
    ON CONFLICT (problem_code, choice, make_key, model_key, family)
    DO UPDATE SET jobs = c.jobs + excluded.jobs, follow_up_jobs = c.follow_up_jobs + excluded.follow_up_jobs;

    INSERT INTO visit_part_counts AS c (problem_code, choice, make_key, model_key, part_id, quantity, jobs)
    SELECT v.problem_code, v.choice, v.make_key, v.model_key, v.part_id, v.quantity, sign * count(*)
    FROM unnest(roots) AS r (id) JOIN visit_outcome_parts v ON v.job_id = r.id
    GROUP BY v.problem_code, v.choice, v.make_key, v.model_key, v.part_id, v.quantity
    ORDER BY v.problem_code, v.choice, v.make_key, v.model_key, v.part_id, v.quantity
    ON CONFLICT (problem_code, choice, make_key, model_key, part_id, quantity)
    DO UPDATE SET jobs = c.jobs + excluded.jobs;
$$;

-- work_mem: an import's refresh sorts and hashes a whole history at once.
CREATE FUNCTION refresh_visit_outcomes(roots uuid[]) RETURNS void
    LANGUAGE plpgsql SET work_mem = '64MB' AS $$
BEGIN
    IF roots IS NULL OR cardinality(roots) = 0 THEN
        RETURN;
    END IF;
    -- Two transactions refreshing one visit (its follow-up and itself finishing together) take
    -- turns; each then reads what the other committed.
    PERFORM 1 FROM unnest(roots) AS r (id) JOIN jobs j ON j.id = r.id ORDER BY j.id FOR NO KEY UPDATE OF j;
    -- Their assets before any count: an edit of the asset (its make) takes the asset first and then
    -- the counts, so a refresh must too, or a report and an edit of one door deadlock.
    PERFORM 1 FROM unnest(roots) AS r (id) JOIN jobs j ON j.id = r.id JOIN assets a ON a.id = j.asset_id
    ORDER BY a.id FOR NO KEY UPDATE OF a;
    PERFORM count_visit_outcomes(roots, -1);
    DELETE FROM visit_outcome_parts v USING unnest(roots) AS r (id) WHERE v.job_id = r.id;
    DELETE FROM visit_outcomes o USING unnest(roots) AS r (id) WHERE o.job_id = r.id;
    INSERT INTO visit_outcomes (job_id, asset_id, problem_code, choice, make_key, model_key, status, took_s,
                                finished_at, needed_second_visit)
    -- make_key() as a join, not a call per row: an import's refresh spells out 170,000 makes.
    SELECT j.id, j.asset_id, j.problem_code, coalesce(j.customer_choice, ''),
           coalesce(m.make, spelling_key(a.make)), spelling_key(a.model), j.status,
           CASE WHEN j.finished_at > j.started_at
                THEN least(extract(epoch FROM j.finished_at - j.started_at), 86400)::integer END,
           j.finished_at,
           EXISTS (SELECT 1 FROM jobs c WHERE c.parent_job_id = j.id)
    FROM unnest(roots) AS r (id)
    JOIN jobs j ON j.id = r.id
    JOIN assets a ON a.id = j.asset_id
    LEFT JOIN make_aliases m ON m.alias = spelling_key(a.make)
    WHERE j.parent_job_id IS NULL AND j.status IN ('completed', 'incomplete')
      AND j.finished_at IS NOT NULL;

    -- Set-based, driven by the roots: one pass whether one visit finished or an import wrote 100,000.
    -- Roots are joined from unnest() rather than tested with = ANY: a filter over a big array is a
    -- linear search per row, where a join probes an index or a hash once per root.
    INSERT INTO visit_outcome_parts (job_id, part_id, quantity, follow_up, family, problem_code, choice,
                                     make_key, model_key)
    SELECT o.job_id, used.part_id, sum(used.quantity), bool_or(used.follow_up), part_family(p.attributes, p.sku),
           o.problem_code, o.choice, o.make_key, o.model_key
    FROM (
        SELECT e.job_id AS root, ep.part_id, ep.quantity, false AS follow_up
        FROM unnest(roots) AS r (id)
        JOIN asset_events e ON e.job_id = r.id
        JOIN asset_event_parts ep ON ep.asset_event_id = e.id
        UNION ALL
        SELECT c.parent_job_id, ep.part_id, ep.quantity, true
        FROM unnest(roots) AS r (id)
        JOIN jobs c ON c.parent_job_id = r.id
        JOIN asset_events e ON e.job_id = c.id
        JOIN asset_event_parts ep ON ep.asset_event_id = e.id
    ) used
    JOIN visit_outcomes o ON o.job_id = used.root
    JOIN parts p ON p.id = used.part_id
    GROUP BY o.job_id, used.part_id, p.attributes, p.sku;
    PERFORM count_visit_outcomes(roots, 1);
END;
$$;

-- A bulk writer (the import) sets truckroll.defer_visit_outcomes for its transaction and calls
-- refresh_visit_outcomes_of_jobs once for everything it wrote, instead of once per statement.
CREATE FUNCTION visit_outcomes_deferred() RETURNS boolean
    LANGUAGE sql STABLE
    RETURN coalesce(current_setting('truckroll.defer_visit_outcomes', true), '') = 'on';

CREATE FUNCTION refresh_visit_outcomes_of_jobs(job_ids uuid[]) RETURNS void
    LANGUAGE sql AS $$
    SELECT refresh_visit_outcomes(array_agg(DISTINCT r.root))
    FROM (SELECT visit_root(j) AS root FROM unnest(job_ids) AS j) r
    WHERE r.root IS NOT NULL;
$$;

-- Jobs are written all day (ETAs, plans, statuses): row triggers whose WHEN clause lets
-- through only a change that can alter a finished visit, so an ETA update or an import's deferred
-- insert costs one comparison and captures nothing.
CREATE FUNCTION visit_outcomes_after_job_row() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- A deleted first visit is taken back from the counts; a deleted follow-up's first visit
        -- is counted again without it.
        PERFORM refresh_visit_outcomes(CASE WHEN OLD.parent_job_id IS NULL THEN ARRAY[OLD.id] END);
        PERFORM refresh_visit_outcomes_of_jobs(array_remove(ARRAY[OLD.parent_job_id], NULL));
    ELSIF TG_OP = 'UPDATE' THEN
        -- A first visit that became a follow-up is no first visit any more: take it back.
        PERFORM refresh_visit_outcomes(
            CASE WHEN OLD.parent_job_id IS NULL AND NEW.parent_job_id IS NOT NULL THEN ARRAY[OLD.id] END);
        PERFORM refresh_visit_outcomes_of_jobs(array_remove(ARRAY[NEW.id, OLD.parent_job_id], NULL));
    ELSE
        PERFORM refresh_visit_outcomes_of_jobs(ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER visit_outcomes_job_insert AFTER INSERT ON jobs FOR EACH ROW
    WHEN ((NEW.parent_job_id IS NOT NULL OR NEW.status IN ('completed', 'incomplete'))
          AND NOT visit_outcomes_deferred())
    EXECUTE FUNCTION visit_outcomes_after_job_row();
-- A job's day (scheduled, dispatched, en route, on site) changes no finished visit: only a
-- change to or from a finished status, a change of a finished job, or a new parent does.
CREATE TRIGGER visit_outcomes_job_update AFTER UPDATE ON jobs FOR EACH ROW
    WHEN ((NEW.parent_job_id IS DISTINCT FROM OLD.parent_job_id
           OR ((NEW.status IN ('completed', 'incomplete') OR OLD.status IN ('completed', 'incomplete'))
               AND (NEW.status, NEW.finished_at, NEW.started_at, NEW.problem_code, NEW.customer_choice,
                    NEW.asset_id)
                   IS DISTINCT FROM
                   (OLD.status, OLD.finished_at, OLD.started_at, OLD.problem_code, OLD.customer_choice,
                    OLD.asset_id)))
          AND NOT visit_outcomes_deferred())
    EXECUTE FUNCTION visit_outcomes_after_job_row();
CREATE TRIGGER visit_outcomes_job_delete AFTER DELETE ON jobs FOR EACH ROW
    WHEN (NOT visit_outcomes_deferred())
    EXECUTE FUNCTION visit_outcomes_after_job_row();

CREATE FUNCTION visit_outcomes_after_part_rows() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF visit_outcomes_deferred() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM refresh_visit_outcomes_of_jobs(
            (SELECT array_agg(DISTINCT e.job_id) FROM old_rows o
             JOIN asset_events e ON e.id = o.asset_event_id WHERE e.job_id IS NOT NULL));
    ELSE
        -- A line moved to another event changes the job it left as well as the one it joined.
        PERFORM refresh_visit_outcomes_of_jobs(
            (SELECT array_agg(DISTINCT e.job_id)
             FROM (SELECT asset_event_id FROM new_rows UNION SELECT asset_event_id FROM old_rows) x
             JOIN asset_events e ON e.id = x.asset_event_id WHERE e.job_id IS NOT NULL));
    END IF;
    RETURN NULL;
END;
$$;

-- Parts are written a few at a time by a report, in bulk by an import (which defers): a row
-- trigger captures nothing when the WHEN clause says no.
CREATE FUNCTION visit_outcomes_after_part_row() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_visit_outcomes_of_jobs(
        array_remove(ARRAY[(SELECT e.job_id FROM asset_events e WHERE e.id = NEW.asset_event_id)], NULL));
    RETURN NULL;
END;
$$;

CREATE TRIGGER visit_outcomes_part_insert AFTER INSERT ON asset_event_parts FOR EACH ROW
    WHEN (NOT visit_outcomes_deferred()) EXECUTE FUNCTION visit_outcomes_after_part_row();
-- Rare writes (a correction, a deletion) are refreshed per statement, set-wise.
CREATE TRIGGER visit_outcomes_part_update AFTER UPDATE ON asset_event_parts
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION visit_outcomes_after_part_rows();
CREATE TRIGGER visit_outcomes_part_delete AFTER DELETE ON asset_event_parts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION visit_outcomes_after_part_rows();

-- An event deleted (its parts go with it) or moved to another job changes what those jobs used.
CREATE FUNCTION visit_outcomes_after_event_rows() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF visit_outcomes_deferred() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM refresh_visit_outcomes_of_jobs(
            (SELECT array_agg(DISTINCT o.job_id) FROM old_rows o WHERE o.job_id IS NOT NULL));
    ELSE
        PERFORM refresh_visit_outcomes_of_jobs(
            (SELECT array_agg(DISTINCT x.job_id) FROM (
                SELECT o.job_id FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE n.job_id IS DISTINCT FROM o.job_id
                UNION
                SELECT n.job_id FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE n.job_id IS DISTINCT FROM o.job_id
            ) x WHERE x.job_id IS NOT NULL));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER visit_outcomes_event_update AFTER UPDATE ON asset_events
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION visit_outcomes_after_event_rows();
CREATE TRIGGER visit_outcomes_event_delete AFTER DELETE ON asset_events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION visit_outcomes_after_event_rows();

-- An asset's make or model typed anew moves its visits to the new make and model's evidence.
CREATE FUNCTION visit_outcomes_after_asset_rows() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF visit_outcomes_deferred() THEN
        RETURN NULL;
    END IF;
    PERFORM refresh_visit_outcomes((
        SELECT array_agg(o.job_id) FROM visit_outcomes o
        JOIN new_rows n ON n.id = o.asset_id JOIN old_rows p ON p.id = n.id
        WHERE (n.make, n.model) IS DISTINCT FROM (p.make, p.model)));
    RETURN NULL;
END;
$$;

CREATE TRIGGER visit_outcomes_asset_update AFTER UPDATE ON assets
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION visit_outcomes_after_asset_rows();

-- A part moved to another family moves the counts of the visits that used it.
CREATE FUNCTION visit_outcomes_after_parts_rows() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF visit_outcomes_deferred() THEN
        RETURN NULL;
    END IF;
    PERFORM refresh_visit_outcomes((
        SELECT array_agg(DISTINCT v.job_id) FROM visit_outcome_parts v
        JOIN new_rows n ON n.id = v.part_id JOIN old_rows p ON p.id = n.id
        WHERE part_family(n.attributes, n.sku) IS DISTINCT FROM part_family(p.attributes, p.sku)));
    RETURN NULL;
END;
$$;

CREATE TRIGGER visit_outcomes_parts_update AFTER UPDATE ON parts
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION visit_outcomes_after_parts_rows();

-- Follow-ups of follow-ups written before follow-ups pointed at the first visit.
UPDATE jobs j SET parent_job_id = visit_root(j.parent_job_id)
WHERE j.parent_job_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM jobs p WHERE p.id = j.parent_job_id AND p.parent_job_id IS NOT NULL);

-- The history already on record.
SELECT refresh_visit_outcomes(array_agg(j.id)) FROM jobs j
WHERE j.parent_job_id IS NULL AND j.status IN ('completed', 'incomplete');
