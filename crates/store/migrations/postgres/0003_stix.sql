-- PostgreSQL twin of migrations/sqlite/0003_stix.sql (the comments there say why the table
-- is shaped so). Integers are BIGINT so that both backends decode them as i64.

-- STIX 2.1 objects, one row per object version (id, version). Dedupe is exact on (id,
-- version), indexed by `id_key` (the first 8 bytes of SHA-256(id)); writers check it under
-- the log's advisory lock, so no two processes insert the same version.
CREATE TABLE stix_objects (
    -- Insertion order; the TAXII `next` cursor. Writers hold the advisory lock, so seqs are
    -- issued in commit order.
    seq          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id_key       BIGINT  NOT NULL,
    id           TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    modified     TEXT,
    type         TEXT    NOT NULL,
    spec_version TEXT    NOT NULL,
    date_added   BIGINT  NOT NULL,
    tlp          BIGINT  CHECK (tlp BETWEEN 0 AND 4),
    origin       TEXT    NOT NULL,
    audience     TEXT,
    recipients   TEXT    NOT NULL DEFAULT '',
    body         TEXT    NOT NULL
);
CREATE INDEX stix_objects_key ON stix_objects (id_key, version);
CREATE INDEX stix_objects_date_added ON stix_objects (date_added);

-- TAXII collections: one per agreement and audience (NULL audience: the whole community).
CREATE TABLE stix_collections (
    id          TEXT    PRIMARY KEY,
    title       TEXT    NOT NULL,
    description TEXT,
    audience    TEXT,
    can_write   BOOLEAN NOT NULL DEFAULT FALSE
);

-- Which object versions a collection holds.
CREATE TABLE stix_collection_objects (
    collection TEXT    NOT NULL REFERENCES stix_collections (id),
    seq        BIGINT  NOT NULL REFERENCES stix_objects (seq),
    PRIMARY KEY (collection, seq)
);

-- TAXII status resources of POSTed envelopes.
CREATE TABLE taxii_status (
    id         TEXT    PRIMARY KEY,
    collection TEXT    NOT NULL,
    reader     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    body       TEXT    NOT NULL
);

-- Incremental pulls from partners' TAXII collections: the last `date_added` seen.
CREATE TABLE taxii_bookmarks (
    source      TEXT NOT NULL,
    collection  TEXT NOT NULL,
    added_after TEXT NOT NULL,
    PRIMARY KEY (source, collection)
);
