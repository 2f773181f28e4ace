-- PostgreSQL twin of migrations/sqlite/0001_spine.sql: the same tables, columns and rules.
-- Times are Unix milliseconds (BIGINT), signed bytes are BYTEA.

-- The log: every envelope and receipt this node sent or received, in order.
-- Rows are never updated or deleted; the trigger makes that a hard rule, not a habit.
CREATE TABLE entries (
    idx         BIGINT  PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('envelope', 'receipt')),
    direction   TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    message_id  TEXT    NOT NULL,
    bytes       BYTEA   NOT NULL,
    recorded_at BIGINT  NOT NULL
);
CREATE FUNCTION entries_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'log entries are append-only'; END; $$;
CREATE TRIGGER entries_are_append_only BEFORE UPDATE OR DELETE ON entries
FOR EACH ROW EXECUTE FUNCTION entries_are_append_only();
-- TRUNCATE skips row triggers; refuse it too.
CREATE TRIGGER entries_are_append_only_truncate BEFORE TRUNCATE ON entries
FOR EACH STATEMENT EXECUTE FUNCTION entries_are_append_only();

-- Projection: one row per envelope, pointing at its log entries.
CREATE TABLE messages (
    id              TEXT    PRIMARY KEY,
    direction       TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    sender          TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    seq             BIGINT  NOT NULL,
    case_id         TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    envelope_entry  BIGINT  NOT NULL REFERENCES entries (idx),
    envelope_hash   TEXT    NOT NULL,
    receipt_entry   BIGINT  REFERENCES entries (idx),
    received_at     BIGINT,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'rejected', 'received')),
    rejection       TEXT,
    UNIQUE (sender, recipient, seq)
);
CREATE INDEX messages_by_case ON messages (case_id);

-- Outgoing envelopes not yet receipted. Delivery is per recipient, in seq order.
CREATE TABLE outbox (
    message_id      TEXT    PRIMARY KEY REFERENCES messages (id),
    recipient       TEXT    NOT NULL,
    seq             BIGINT  NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT
);
CREATE INDEX outbox_by_recipient ON outbox (recipient, seq);

-- Projection: the derived state of each case, rebuilt from its official messages.
CREATE TABLE cases (
    id              TEXT    PRIMARY KEY,
    requester       TEXT    NOT NULL,
    responder       TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    priority        TEXT    NOT NULL,
    tlp             TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    filed_at        BIGINT,
    pending_out     BIGINT  NOT NULL DEFAULT 0,
    overdue_at      BIGINT,
    updated_at      BIGINT  NOT NULL,
    derived         TEXT    NOT NULL
);
CREATE INDEX cases_by_status ON cases (status);

-- Named counters: case numbers per year, the last sequence number per stream.
CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value BIGINT  NOT NULL
);

-- API tokens of the node's users, stored as SHA-256 hashes only.
CREATE TABLE api_tokens (
    token_hash TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
