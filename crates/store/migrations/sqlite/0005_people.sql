-- People inside a node: agencies, users, their API tokens and browser sessions, and the trail
-- of who did what. Local to the node: none of it is ever sent to a partner or logged.
-- Roles are a bit set (detente_people::Roles); secrets are stored only as SHA-256 hex
-- (tokens, sessions, CSRF tokens) or as Argon2id PHC strings (passwords).

CREATE TABLE agencies (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    -- The agency incoming requests land with; at most one is.
    duty       INTEGER NOT NULL DEFAULT 0 CHECK (duty IN (0, 1)),
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX agencies_one_duty ON agencies (duty) WHERE duty = 1;

-- Which agency a case is routed to: an outgoing case to the agency of whoever filed it, a
-- reassigned case to its new agency. A case with no row is with the duty agency. Local
-- state, not derived from the log, so `detente rebuild` keeps it.
CREATE TABLE case_agencies (
    case_id     TEXT    PRIMARY KEY,
    agency      TEXT    NOT NULL REFERENCES agencies (id),
    assigned_at INTEGER NOT NULL
);

CREATE TABLE users (
    name           TEXT    PRIMARY KEY,
    agency         TEXT    NOT NULL REFERENCES agencies (id),
    roles          INTEGER NOT NULL CHECK (roles BETWEEN 0 AND 31),
    password_hash  TEXT,
    totp_secret    TEXT,
    -- The step of the last TOTP code accepted: a code is good once.
    totp_last_step INTEGER,
    failures       INTEGER NOT NULL DEFAULT 0,
    last_failure   INTEGER NOT NULL DEFAULT 0,
    disabled_at    INTEGER,
    created_at     INTEGER NOT NULL
);

CREATE TABLE user_tokens (
    hash         TEXT    PRIMARY KEY,
    user_name    TEXT    NOT NULL REFERENCES users (name),
    label        TEXT    NOT NULL,
    -- The token's scopes: roles within its user's (the user's current roles still bound them).
    roles        INTEGER NOT NULL CHECK (roles BETWEEN 0 AND 31),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX user_tokens_user ON user_tokens (user_name);

CREATE TABLE sessions (
    hash         TEXT    PRIMARY KEY,
    user_name    TEXT    NOT NULL REFERENCES users (name),
    csrf_hash    TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX sessions_user ON sessions (user_name);

-- The trail: append-only, each record chained to the one before (detente_people::trail).
CREATE TABLE trail (
    seq     INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    user_name TEXT  NOT NULL,
    agency  TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    case_id TEXT    NOT NULL,
    object  TEXT    NOT NULL,
    detail  TEXT    NOT NULL,
    link    TEXT    NOT NULL
);
CREATE INDEX trail_user ON trail (user_name, seq);
CREATE INDEX trail_case ON trail (case_id, seq);
CREATE TRIGGER trail_is_append_only_update BEFORE UPDATE ON trail
BEGIN SELECT RAISE(ABORT, 'the trail is append-only'); END;
CREATE TRIGGER trail_is_append_only_delete BEFORE DELETE ON trail
BEGIN SELECT RAISE(ABORT, 'the trail is append-only'); END;
