-- The agent web client's sign-in (issue 7): each extension may have a password, kept as an
-- argon2id hash (NULL: the extension cannot sign in to the web client).
ALTER TABLE pbx_extension ADD COLUMN web_password_hash TEXT;
