-- The audit log (services/audit): append-only, each entry hash-chained to the previous one.
-- No foreign keys: the log outlives the people and objects it mentions.
CREATE TABLE audit_log (
    seq             BIGINT      NOT NULL PRIMARY KEY,
    id              UUID        NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    actor_id        TEXT,
    actor_ip        TEXT,
    action          TEXT        NOT NULL,
    outcome         TEXT        NOT NULL,
    subject_type    TEXT,
    subject_id      TEXT,
    organisation_id TEXT,
    detail          TEXT        NOT NULL,
    prev_hash       TEXT        NOT NULL,
    hash            TEXT        NOT NULL
);

CREATE UNIQUE INDEX audit_log_id_idx ON audit_log (id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, seq);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_type, subject_id, seq);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_organisation_idx ON audit_log (organisation_id, seq);

-- The last entry's number and hash, in one row: appenders lock it first, so they serialise, and
-- a deleted last entry shows as a head ahead of the log. Starts at the genesis hash.
CREATE TABLE audit_head (
    id   BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT   NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
