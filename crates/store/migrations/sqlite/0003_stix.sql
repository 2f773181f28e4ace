-- STIX 2.1 objects (indicators and everything shared with them), one row per object version.
-- An object version is (id, version): `version` is `modified` (or a marking definition's
-- `created`) in microseconds since the epoch, 0 for observables, which are not versioned.
--
-- Dedupe is exact on (id, version) but indexed by `id_key`, a 64-bit hash of the id, not by
-- the id text: ids are random UUIDs, so every insert lands on a random page of that index,
-- and each committed batch rewrites every index page it touched. An index of 8-byte keys is
-- about a third the size of one of 47-byte ids, so a batch touches (and writes) far fewer
-- pages; a (text id, version) UNIQUE index made fresh imports write several times more index
-- than objects. The writer looks up each batch's keys, compares the ids exactly, and inserts
-- only versions not stored yet, under the store's single-writer lock (`stix.rs`).
CREATE TABLE stix_objects (
    -- Insertion order; the TAXII `next` cursor.
    seq          INTEGER PRIMARY KEY,
    -- The first 8 bytes of SHA-256(id), big-endian, as a signed integer.
    id_key       INTEGER NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    -- `modified` as written, for the TAXII versions and manifest resources.
    modified     TEXT,
    type         TEXT    NOT NULL,
    spec_version TEXT    NOT NULL,
    -- When this node stored the version, microseconds since the epoch; strictly increasing
    -- from one write batch to the next (TAXII `date_added`, `added_after`).
    date_added   INTEGER NOT NULL,
    -- The most restrictive TLP marking (0 clear, 1 green, 2 amber, 3 amber+strict, 4 red);
    -- NULL when unmarked, so that the configured default applies when it is read.
    tlp          INTEGER CHECK (tlp BETWEEN 0 AND 4),
    -- Sharing context for the access rule: the party the object came from, the partner
    -- organisation it is shared with, and the named recipients (space-separated party ids).
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
    can_write   INTEGER NOT NULL DEFAULT 0
);

-- Which object versions a collection holds.
CREATE TABLE stix_collection_objects (
    collection TEXT    NOT NULL REFERENCES stix_collections (id),
    seq        INTEGER NOT NULL REFERENCES stix_objects (seq),
    PRIMARY KEY (collection, seq)
) WITHOUT ROWID;

-- TAXII status resources of POSTed envelopes.
CREATE TABLE taxii_status (
    id         TEXT    PRIMARY KEY,
    collection TEXT    NOT NULL,
    reader     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    -- The status resource's JSON (counts and per-object successes/failures).
    body       TEXT    NOT NULL
);

-- Incremental pulls from partners' TAXII collections: the last `date_added` seen.
CREATE TABLE taxii_bookmarks (
    source      TEXT NOT NULL,
    collection  TEXT NOT NULL,
    added_after TEXT NOT NULL,
    PRIMARY KEY (source, collection)
);
