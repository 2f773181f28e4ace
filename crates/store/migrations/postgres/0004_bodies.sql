-- The bodies of wire version 2 envelopes. The log holds only each envelope's signed header,
-- which commits to its body by a salted digest; the body (with its salt) lives here, outside
-- the log, so the log can be exported and audited without any content. Not a projection:
-- a body cannot be rebuilt from the log, so rebuilding the projections leaves this table alone.
CREATE TABLE bodies (
    -- The envelope the body belongs to (one body per message, whichever direction).
    message_id TEXT PRIMARY KEY,
    -- The commitment in the signed header, checked again whenever the body is read.
    digest     TEXT NOT NULL,
    -- Canonical JSON {"salt": ..., "body": ...}.
    bytes      BYTEA NOT NULL
);
