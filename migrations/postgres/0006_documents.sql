-- Certification documents (issue "certification documents"): a document in a dossier has
-- versions; each version's bytes are one immutable object under a random key. A version row is
-- written only once its object is complete, in the same transaction that removes its upload
-- intent, so no row points at a missing object.

CREATE TABLE document (
    id          UUID    NOT NULL PRIMARY KEY,
    dossier_id  UUID    NOT NULL REFERENCES dossier (id),
    title       TEXT    NOT NULL,
    doc_type    TEXT    NOT NULL,
    versions    BIGINT  NOT NULL,            -- the number of the latest version
    created_by  UUID    NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    deleted_at  TIMESTAMPTZ,                      -- soft delete: hidden from all but staff
    deleted_by  UUID
);
-- The dossier page lists documents newest first, a page at a time (keyset on updated_at, id).
CREATE INDEX document_dossier_idx ON document (dossier_id, updated_at, id);

CREATE TABLE document_version (
    document_id UUID    NOT NULL REFERENCES document (id),
    version     BIGINT  NOT NULL,
    object_key  TEXT    NOT NULL,
    size        BIGINT  NOT NULL,
    sha256      TEXT    NOT NULL,            -- lower-case hex; the download's ETag
    media_type  TEXT    NOT NULL,            -- as detected from the bytes, never the client's
    file_name   TEXT    NOT NULL,            -- sanitised display name, metadata only
    uploaded_by UUID    NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (document_id, version)
);
CREATE UNIQUE INDEX document_version_object_idx ON document_version (object_key);

-- An upload in progress: written (and committed) before the first byte reaches the object
-- store, removed in the transaction that publishes the version. The collector removes the
-- objects and multipart leftovers of intents whose upload stopped (touched_at too old).
CREATE TABLE document_upload (
    id           UUID    NOT NULL PRIMARY KEY,
    object_key   TEXT    NOT NULL,
    multipart_id TEXT,                       -- the store's multipart upload id (S3), to abort it
    dossier_id   UUID    NOT NULL,
    person_id    UUID    NOT NULL,
    started_at   BIGINT  NOT NULL,           -- Unix seconds
    touched_at   BIGINT  NOT NULL            -- Unix seconds, renewed while bytes arrive
);
CREATE INDEX document_upload_touched_idx ON document_upload (touched_at);

-- A legal hold on a dossier blocks the deletion of its documents.
ALTER TABLE dossier ADD COLUMN legal_hold BOOLEAN NOT NULL DEFAULT FALSE;
