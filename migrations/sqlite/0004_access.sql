-- Certification dossiers, inspector assignments, and rights delegated by a company's primary
-- contact (issue "who may see what").

CREATE TABLE dossier (
    id                 BLOB    NOT NULL PRIMARY KEY,
    organisation_id    BLOB    NOT NULL REFERENCES organisation (id),
    scheme             TEXT    NOT NULL,
    certificate_number TEXT,
    status             TEXT    NOT NULL,  -- application | active | suspended | withdrawn | expired
    valid_from         TEXT,
    valid_until        TEXT,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL
);
CREATE INDEX dossier_organisation_idx ON dossier (organisation_id);
CREATE UNIQUE INDEX dossier_certificate_number_idx ON dossier (certificate_number);

-- An inspector's access to a dossier for a period. The period is in Unix seconds (UTC) so that
-- both engines compare it as numbers; access holds while starts_at <= now < ends_at. Ending an
-- assignment early sets ends_at to that moment (ended_by says who).
CREATE TABLE assignment (
    id           BLOB    NOT NULL PRIMARY KEY,
    dossier_id   BLOB    NOT NULL REFERENCES dossier (id),
    inspector_id BLOB    NOT NULL REFERENCES person (id),
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    created_by   BLOB,
    ended_by     BLOB,
    created_at   TEXT    NOT NULL
);
CREATE INDEX assignment_inspector_idx ON assignment (inspector_id, ends_at);
CREATE INDEX assignment_dossier_idx ON assignment (dossier_id);

-- Rights a primary contact delegated to one of the company's contacts (policy subjects
-- right:<name>).
CREATE TABLE person_right (
    person_id  BLOB    NOT NULL REFERENCES person (id),
    right_name TEXT    NOT NULL,
    granted_by BLOB,
    granted_at TEXT    NOT NULL,
    PRIMARY KEY (person_id, right_name)
);
