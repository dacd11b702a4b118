-- Click to call with phones that pick up by themselves (issue 16): `call/dial` is sent with
-- `auto_answer: yes`, so the agent's phone answers and the number is dialled at once.
ALTER TABLE pbx_connection ADD COLUMN auto_answer INTEGER NOT NULL DEFAULT 0
    CHECK (auto_answer IN (0, 1));
