-- Privacy (services/privacy): legal holds on people and organisations, the retention job's
-- runs, the privacy notice's versions, consent records, and the audit log's commitment to a
-- client address (so that the address can be erased and the chain still verify). Times are
-- Unix seconds.

-- A hold keeps everything about a person or an organisation past its retention rule (the
-- dossier hold, dossier.legal_hold, covers one certification file's documents).
CREATE TABLE privacy_hold (
    id           BLOB    NOT NULL PRIMARY KEY,
    subject_type TEXT    NOT NULL CHECK (subject_type IN ('person', 'organisation')),
    subject_id   BLOB    NOT NULL,
    reason       TEXT    NOT NULL,
    placed_by    BLOB    NOT NULL REFERENCES person (id),
    placed_at    INTEGER NOT NULL,
    lifted_by    BLOB    REFERENCES person (id),
    lifted_at    INTEGER
);
CREATE INDEX privacy_hold_subject_idx ON privacy_hold (subject_id, lifted_at);

-- One row per retention run. `day` (the installation's date) is set for the daily run, and
-- unique: the instance whose insert succeeds runs it. `as_of` is the instant every cut-off is
-- counted from, kept so that a run resumed after a crash deletes exactly what it set out to.
-- `counts` (JSON: rule id → records) grows in the same transaction as each batch.
CREATE TABLE retention_run (
    id           BLOB    NOT NULL PRIMARY KEY,
    day          TEXT,
    as_of        INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    finished_at  INTEGER,
    counts       TEXT    NOT NULL
);
CREATE UNIQUE INDEX retention_run_day_idx ON retention_run (day);

-- Every version of the privacy notice, as published: the record in each language and the
-- contacts it named, so that an earlier version reads as it did.
CREATE TABLE privacy_notice (
    version         INTEGER NOT NULL PRIMARY KEY,
    register_digest TEXT    NOT NULL,
    published_at    INTEGER NOT NULL,
    content         TEXT    NOT NULL
);
CREATE UNIQUE INDEX privacy_notice_digest_idx ON privacy_notice (register_digest);

-- The latest notice version each person has been shown.
CREATE TABLE privacy_notice_seen (
    person_id BLOB    NOT NULL PRIMARY KEY REFERENCES person (id),
    version   INTEGER NOT NULL
);

-- Consent, purpose by purpose: the exact text agreed to (its version, language and words),
-- when and how it was given, when and how it was withdrawn. A withdrawn consent is kept as
-- proof for as long as the retention schedule says; giving it again is a new row.
CREATE TABLE consent (
    id            BLOB    NOT NULL PRIMARY KEY,
    person_id     BLOB    NOT NULL REFERENCES person (id),
    purpose       TEXT    NOT NULL,
    text_version  INTEGER NOT NULL,
    language      TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    given_at      INTEGER NOT NULL,
    given_via     TEXT    NOT NULL,
    withdrawn_at  INTEGER,
    withdrawn_via TEXT
);
CREATE INDEX consent_person_idx ON consent (person_id, purpose);
CREATE UNIQUE INDEX consent_current_idx ON consent (person_id, purpose) WHERE withdrawn_at IS NULL;

-- Audit entries from version 2 of the hash on hash a commitment to the client address,
-- SHA-256(salt || address), instead of the address: erasing the address and its salt leaves
-- the commitment, and the chain, checkable.
ALTER TABLE audit_log ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN actor_ip_salt TEXT;
ALTER TABLE audit_log ADD COLUMN actor_ip_commit TEXT;

-- When the retention schedule anonymised the person (Unix seconds): done once, never again.
ALTER TABLE person ADD COLUMN anonymised_at INTEGER;
