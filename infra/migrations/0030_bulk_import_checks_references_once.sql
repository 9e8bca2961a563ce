-- A bulk writer that may turn PostgreSQL's per-row reference checks off for its transaction
-- (session_replication_role = replica: a superuser, or a role granted SET on that parameter)
-- calls this once at the end instead. An import of 180,000 jobs spent a third of its time in
-- those checks, one index probe and one row lock per foreign key per row; here each foreign key
-- of each written table costs one pass over the rows this transaction wrote.
--
-- It gives what the triggers would have given: every key the transaction wrote names a row that
-- exists, and a row it names that others could see is locked FOR KEY SHARE until commit, so that
-- nobody can delete it under the new rows. The first broken key raises foreign_key_violation, naming the constraint and the
-- key, and the caller's transaction rolls back.
--
-- Rows are found by xmin, so the caller must not have written them inside a subtransaction.
CREATE FUNCTION verify_written_references(tables regclass[]) RETURNS integer
LANGUAGE plpgsql
-- PostgreSQL cannot estimate how many rows match an xmin, guesses a handful, and probes the
-- parent's index once per row; a bulk write wants one hash of each parent instead.
SET enable_nestloop = off
AS $$
DECLARE
    fk record;
    missing text;
    checked integer := 0;
BEGIN
    FOR fk IN
        SELECT c.conname, c.conrelid::regclass AS child, c.confrelid::regclass AS parent,
               c.conkey, a.attname AS child_column, pa.attname AS parent_column
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
        WHERE c.contype = 'f' AND c.conrelid = ANY (tables)
        ORDER BY c.conrelid::regclass::text, c.conname
    LOOP
        IF cardinality(fk.conkey) <> 1 THEN
            RAISE EXCEPTION 'cannot verify the multi-column foreign key %', fk.conname;
        END IF;
        -- Lock first, then look: a row deleted before the lock is then missing, not unlocked.
        -- A row this transaction wrote (or updated, which locked it) is no one else's to delete.
        EXECUTE format(
            'SELECT count(*) FROM (SELECT 1 FROM %4$s p
                                   WHERE p.%3$I IN (SELECT %1$I FROM %2$s
                                                    WHERE xmin = pg_current_xact_id()::xid)
                                     AND p.xmin <> pg_current_xact_id()::xid
                                   FOR KEY SHARE OF p) locked',
            fk.child_column, fk.child, fk.parent_column, fk.parent);
        EXECUTE format(
            'SELECT c.%1$I::text FROM %2$s c
             WHERE c.xmin = pg_current_xact_id()::xid AND c.%1$I IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM %4$s p WHERE p.%3$I = c.%1$I) LIMIT 1',
            fk.child_column, fk.child, fk.parent_column, fk.parent)
        INTO missing;
        IF missing IS NOT NULL THEN
            RAISE foreign_key_violation USING
                MESSAGE = format('%s.%s = %s names no row of %s', fk.child, fk.child_column, missing,
                                 fk.parent),
                CONSTRAINT = fk.conname, TABLE = fk.child::text;
        END IF;
        checked := checked + 1;
    END LOOP;
    RETURN checked;
END
$$;

-- The refresh as in 0018, but for the rows it locks.
CREATE OR REPLACE FUNCTION refresh_visit_outcomes(roots uuid[]) RETURNS void
    LANGUAGE plpgsql SET work_mem = '64MB' AS $$
BEGIN
    IF roots IS NULL OR cardinality(roots) = 0 THEN
        RETURN;
    END IF;
    -- Two transactions refreshing one visit (its follow-up and itself finishing together) take
    -- turns; each then reads what the other committed.
    -- A row this transaction wrote is already its own (an update locked it, an insert is unseen):
    -- an import's refresh of 170,000 new visits locks none of them.
    PERFORM 1 FROM unnest(roots) AS r (id) JOIN jobs j ON j.id = r.id
    WHERE j.xmin <> pg_current_xact_id()::xid
    ORDER BY j.id FOR NO KEY UPDATE OF j;
    -- Their assets before any count: an edit of the asset (its make) takes the asset first and then
    -- the counts, so a refresh must too, or a report and an edit of one door deadlock.
    PERFORM 1 FROM unnest(roots) AS r (id) JOIN jobs j ON j.id = r.id JOIN assets a ON a.id = j.asset_id
    WHERE a.xmin <> pg_current_xact_id()::xid
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
