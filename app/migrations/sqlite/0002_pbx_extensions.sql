-- PBX extensions: the numbers agents use. E-mail drives Auto Bind (issue 4).
CREATE TABLE pbx_extension (
    extension_id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
