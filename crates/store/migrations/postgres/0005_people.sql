-- People inside a node: agencies, users, their API tokens and browser sessions, and the trail
-- of who did what. The same tables as migrations/sqlite/0005_people.sql (see it for why).

CREATE TABLE agencies (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    duty       BIGINT  NOT NULL DEFAULT 0 CHECK (duty IN (0, 1)),
    created_at BIGINT  NOT NULL
);
CREATE UNIQUE INDEX agencies_one_duty ON agencies (duty) WHERE duty = 1;

-- Which agency a case is routed to: an outgoing case to the agency of whoever filed it, a
-- reassigned case to its new agency. A case with no row is with the duty agency. Local
-- state, not derived from the log, so `detente rebuild` keeps it.
CREATE TABLE case_agencies (
    case_id     TEXT    PRIMARY KEY,
    agency      TEXT    NOT NULL REFERENCES agencies (id),
    assigned_at BIGINT  NOT NULL
);

CREATE TABLE users (
    name           TEXT    PRIMARY KEY,
    agency         TEXT    NOT NULL REFERENCES agencies (id),
    roles          BIGINT  NOT NULL CHECK (roles BETWEEN 0 AND 31),
    password_hash  TEXT,
    totp_secret    TEXT,
    totp_last_step BIGINT,
    failures       BIGINT  NOT NULL DEFAULT 0,
    last_failure   BIGINT  NOT NULL DEFAULT 0,
    disabled_at    BIGINT,
    created_at     BIGINT  NOT NULL
);

CREATE TABLE user_tokens (
    hash         TEXT    PRIMARY KEY,
    user_name    TEXT    NOT NULL REFERENCES users (name),
    label        TEXT    NOT NULL,
    roles        BIGINT  NOT NULL CHECK (roles BETWEEN 0 AND 31),
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX user_tokens_user ON user_tokens (user_name);

CREATE TABLE sessions (
    hash         TEXT    PRIMARY KEY,
    user_name    TEXT    NOT NULL REFERENCES users (name),
    csrf_hash    TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX sessions_user ON sessions (user_name);

CREATE TABLE trail (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    user_name TEXT   NOT NULL,
    agency    TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    case_id   TEXT   NOT NULL,
    object    TEXT   NOT NULL,
    detail    TEXT   NOT NULL,
    link      TEXT   NOT NULL
);
CREATE INDEX trail_user ON trail (user_name, seq);
CREATE INDEX trail_case ON trail (case_id, seq);
CREATE FUNCTION trail_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the trail is append-only'; END; $$;
CREATE TRIGGER trail_is_append_only BEFORE UPDATE OR DELETE ON trail
FOR EACH ROW EXECUTE FUNCTION trail_is_append_only();
CREATE TRIGGER trail_is_append_only_truncate BEFORE TRUNCATE ON trail
FOR EACH STATEMENT EXECUTE FUNCTION trail_is_append_only();
