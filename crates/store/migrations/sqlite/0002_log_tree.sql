-- The Merkle tree over `entries` (RFC 9162): the hash of every complete subtree, addressed
-- by (level, index); level 0 holds the leaf hashes. Append-only, like the entries.
CREATE TABLE tree_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB    NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TRIGGER tree_nodes_are_append_only_update BEFORE UPDATE ON tree_nodes
BEGIN SELECT RAISE(ABORT, 'tree nodes are append-only'); END;
CREATE TRIGGER tree_nodes_are_append_only_delete BEFORE DELETE ON tree_nodes
BEGIN SELECT RAISE(ABORT, 'tree nodes are append-only'); END;

-- This node's signed checkpoints, one per committed write.
CREATE TABLE checkpoints (
    size       INTEGER PRIMARY KEY,
    root       BLOB    NOT NULL,
    note       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- Every checkpoint a partner sent, and what checking it showed.
CREATE TABLE partner_checkpoints (
    party       TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    root        BLOB    NOT NULL,
    note        TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('unverified', 'consistent', 'equivocation')),
    PRIMARY KEY (party, size, root)
);

-- Alerts an operator must see: equivocating partners, above all.
CREATE TABLE alerts (
    id        INTEGER PRIMARY KEY,
    kind      TEXT    NOT NULL,
    party     TEXT    NOT NULL,
    detail    TEXT    NOT NULL,
    evidence  TEXT    NOT NULL,
    raised_at INTEGER NOT NULL
);
