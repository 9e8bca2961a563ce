-- A token carries its user's token_version; a token whose version is behind the user's stops
-- working (within the API's cache TTL). The version moves whenever what the token vouches for
-- stops being true: the user is deactivated, their password, role, technician or territory
-- changes, or they sign out everywhere. Written as a trigger so that a change made by hand in
-- SQL (the usual way an operator deactivates someone) revokes too.
ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;

CREATE FUNCTION users_revoke_tokens() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.token_version = OLD.token_version AND (
        (OLD.active AND NOT NEW.active)
        OR NEW.role IS DISTINCT FROM OLD.role
        OR NEW.technician_id IS DISTINCT FROM OLD.technician_id
        OR NEW.territory_id IS DISTINCT FROM OLD.territory_id
        -- Sign-in re-hashes an unchanged password when argon2's parameters move on; that one
        -- statement says so for its transaction, and keeps the user's sessions.
        OR (NEW.password_hash IS DISTINCT FROM OLD.password_hash
            AND current_setting('truckroll.rehash', true) IS DISTINCT FROM 'on')
    ) THEN
        NEW.token_version := OLD.token_version + 1;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_revoke_tokens BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_revoke_tokens();

-- Failed sign-ins by key ('account:<email>' or 'address:<client address>'), so every API process
-- sees the same backoff. An attempt is counted before its password is checked, so concurrent
-- guesses cannot all slip in before the first failure is written; a success gives it back.
CREATE TABLE login_throttle (
    key             text PRIMARY KEY CHECK (length(key) <= 400),
    failures        integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_attempt_at timestamptz NOT NULL DEFAULT now(),
    blocked_until   timestamptz NOT NULL DEFAULT now()
);
-- Idle rows are swept by age.
CREATE INDEX login_throttle_last_attempt_at ON login_throttle (last_attempt_at);
