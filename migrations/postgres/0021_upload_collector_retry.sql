-- The collector's retries (services/documents/src/collect.rs, issue 19): an upload intent whose
-- leftovers could not be removed is not tried again at every round, but after a pause that
-- doubles with each failure. `collect_failures` counts them (0: never failed); until
-- `collect_retry_at` (Unix seconds) no instance works on the intent — also set, as a lease,
-- when an instance claims it, so that two instances never work on it at once.
ALTER TABLE document_upload ADD COLUMN collect_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE document_upload ADD COLUMN collect_retry_at BIGINT;
