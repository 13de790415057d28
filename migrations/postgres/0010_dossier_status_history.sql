-- A certificate's status history (issue 14): every change of `dossier.status` made through
-- `dossiers::set_status`, with its reason and who made it, in the same transaction as the change.
CREATE TABLE dossier_status_change (
    id          UUID    NOT NULL PRIMARY KEY,
    dossier_id  UUID    NOT NULL REFERENCES dossier (id),
    from_status TEXT    NOT NULL,
    to_status   TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    changed_by  UUID    NOT NULL REFERENCES person (id),
    changed_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX dossier_status_change_dossier_idx ON dossier_status_change (dossier_id, changed_at);

-- Who asked for a link to be mailed (an invitation's sender); NULL for password resets and for
-- links made before this column.
ALTER TABLE one_time_token ADD COLUMN created_by UUID;
