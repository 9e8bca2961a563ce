-- The dispatcher console's sign-ins: a browser holds a random session token in an HttpOnly
-- cookie, and only its SHA-256 is stored, so a copy of this table opens no session. A session
-- ends when it expires, when its user signs out of it, or when the user's token version moves
-- (deactivated, password or role changed, signed out everywhere): it records the version it was
-- opened at.
CREATE TABLE console_sessions (
    token_hash    bytea PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_version integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
-- Expired sessions are swept by age at each sign-in.
CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);
CREATE INDEX console_sessions_user_id ON console_sessions (user_id);
