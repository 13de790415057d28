-- Signed checkpoints of the audit log (services/audit/src/checkpoint.rs, `extranet audit
-- checkpoint`): the head's number and hash at `created_at` (Unix seconds), signed with the
-- installation's receipt key as a compact JWS (typ `audit-checkpoint+jwt`). Kept here for
-- reference; their worth is in the copies kept outside the database, which `extranet audit
-- verify --checkpoint` checks the log against.
CREATE TABLE audit_checkpoint (
    seq        BIGINT  NOT NULL,
    hash       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    jws        TEXT    NOT NULL
);
CREATE INDEX audit_checkpoint_seq_idx ON audit_checkpoint (seq);
