-- Erasures (services/privacy/src/erasure): one row per erasure of a person. `as_of` is the
-- instant the erasure counts from, kept so that a run resumed after a crash (kill -9) finishes
-- the same erasure; `counts` (JSON: place → records) grows in the same transaction as each
-- step. `finished_at` is set in the transaction of the last step, with its audit record.
-- Times are Unix seconds.
CREATE TABLE erasure_run (
    id           UUID    NOT NULL PRIMARY KEY,
    person_id    UUID    NOT NULL,
    as_of        BIGINT  NOT NULL,
    started_at   BIGINT  NOT NULL,
    heartbeat_at BIGINT  NOT NULL,
    finished_at  BIGINT,
    counts       TEXT    NOT NULL
);
-- At most one unfinished erasure per person: a second start finds it and finishes it.
CREATE UNIQUE INDEX erasure_run_person_idx ON erasure_run (person_id) WHERE finished_at IS NULL;
