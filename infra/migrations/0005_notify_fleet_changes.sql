-- Matching keeps the fleet's days in memory; any change that could move a route tells every API
-- process so. NOTIFY is delivered only after commit and folds duplicates within a transaction.
CREATE FUNCTION notify_fleet_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('truckroll_fleet', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_fleet_changed
    AFTER INSERT OR DELETE OR UPDATE OF technician_id, status, planned_start_at, window_start_at, window_end_at,
        duration_s, pinned_start_at, started_at, finished_at, pickup_location_id, pickup_s, site_id
    ON jobs FOR EACH STATEMENT EXECUTE FUNCTION notify_fleet_changed();
CREATE TRIGGER technicians_fleet_changed AFTER INSERT OR UPDATE OR DELETE ON technicians
    FOR EACH STATEMENT EXECUTE FUNCTION notify_fleet_changed();
CREATE TRIGGER technician_skills_fleet_changed AFTER INSERT OR UPDATE OR DELETE ON technician_skills
    FOR EACH STATEMENT EXECUTE FUNCTION notify_fleet_changed();
CREATE TRIGGER shifts_fleet_changed AFTER INSERT OR UPDATE OR DELETE ON shifts
    FOR EACH STATEMENT EXECUTE FUNCTION notify_fleet_changed();
CREATE TRIGGER shift_breaks_fleet_changed AFTER INSERT OR UPDATE OR DELETE ON shift_breaks
    FOR EACH STATEMENT EXECUTE FUNCTION notify_fleet_changed();
CREATE TRIGGER sites_fleet_changed AFTER UPDATE OF latitude, longitude ON sites
    FOR EACH STATEMENT EXECUTE FUNCTION notify_fleet_changed();
CREATE TRIGGER territories_fleet_changed AFTER UPDATE ON territories
    FOR EACH STATEMENT EXECUTE FUNCTION notify_fleet_changed();
