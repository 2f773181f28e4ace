-- The log: every envelope and receipt this node sent or received, in order.
-- Rows are never updated or deleted; the triggers make that a hard rule, not a habit.
CREATE TABLE entries (
    idx         INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('envelope', 'receipt')),
    direction   TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    message_id  TEXT    NOT NULL,
    bytes       BLOB    NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE TRIGGER entries_are_append_only_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'log entries are append-only'); END;
CREATE TRIGGER entries_are_append_only_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'log entries are append-only'); END;

-- Projection: one row per envelope, pointing at its log entries.
CREATE TABLE messages (
    id              TEXT    PRIMARY KEY,
    direction       TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    sender          TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    case_id         TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    envelope_entry  INTEGER NOT NULL REFERENCES entries (idx),
    envelope_hash   TEXT    NOT NULL,
    receipt_entry   INTEGER REFERENCES entries (idx),
    received_at     INTEGER,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'rejected', 'received')),
    rejection       TEXT,
    UNIQUE (sender, recipient, seq)
);
CREATE INDEX messages_by_case ON messages (case_id);

-- Outgoing envelopes not yet receipted. Delivery is per recipient, in seq order.
CREATE TABLE outbox (
    message_id      TEXT    PRIMARY KEY REFERENCES messages (id),
    recipient       TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
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
    filed_at        INTEGER,
    pending_out     INTEGER NOT NULL DEFAULT 0,
    overdue_at      INTEGER,
    updated_at      INTEGER NOT NULL,
    derived         TEXT    NOT NULL
);
CREATE INDEX cases_by_status ON cases (status);

-- Named counters: case numbers per year, the last sequence number per stream.
CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);

-- API tokens of the node's users, stored as SHA-256 hashes only.
CREATE TABLE api_tokens (
    token_hash TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
