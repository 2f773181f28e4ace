-- PostgreSQL twin of migrations/sqlite/0002_log_tree.sql.

-- The Merkle tree over `entries` (RFC 9162): the hash of every complete subtree, addressed
-- by (level, index); level 0 holds the leaf hashes. Append-only, like the entries.
CREATE TABLE tree_nodes (
    level BIGINT  NOT NULL,
    idx   BIGINT  NOT NULL,
    hash  BYTEA   NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE FUNCTION tree_nodes_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'tree nodes are append-only'; END; $$;
CREATE TRIGGER tree_nodes_are_append_only BEFORE UPDATE OR DELETE ON tree_nodes
FOR EACH ROW EXECUTE FUNCTION tree_nodes_are_append_only();
CREATE TRIGGER tree_nodes_are_append_only_truncate BEFORE TRUNCATE ON tree_nodes
FOR EACH STATEMENT EXECUTE FUNCTION tree_nodes_are_append_only();

-- This node's signed checkpoints, one per committed write.
CREATE TABLE checkpoints (
    size       BIGINT  PRIMARY KEY,
    root       BYTEA   NOT NULL,
    note       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

-- Every checkpoint a partner sent, and what checking it showed.
CREATE TABLE partner_checkpoints (
    party       TEXT    NOT NULL,
    size        BIGINT  NOT NULL,
    root        BYTEA   NOT NULL,
    note        TEXT    NOT NULL,
    received_at BIGINT  NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('unverified', 'consistent', 'equivocation')),
    PRIMARY KEY (party, size, root)
);

-- Alerts an operator must see: equivocating partners, above all.
CREATE TABLE alerts (
    id        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind      TEXT    NOT NULL,
    party     TEXT    NOT NULL,
    detail    TEXT    NOT NULL,
    evidence  TEXT    NOT NULL,
    raised_at BIGINT  NOT NULL
);
