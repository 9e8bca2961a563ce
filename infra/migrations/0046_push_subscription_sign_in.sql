-- A signed-in user's browser subscription lasts as long as the sign-in it was made under: signing
-- out (or a password reset, or any change that moves the user's token version) ends it, so a
-- phone handed to someone else stops showing the first user's job news.
ALTER TABLE push_subscriptions ADD COLUMN token_version integer NOT NULL DEFAULT 0;
UPDATE push_subscriptions s SET token_version = u.token_version FROM users u WHERE u.id = s.user_id;
