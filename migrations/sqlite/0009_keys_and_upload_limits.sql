-- Signing keys kept like keys (issue 13): the private key is stored sealed under the
-- operator's key-encryption key (`sealed-v1:<kek id>:…`, see extranet_platform::sealed).
-- Rows written before this change hold plain PEM until the server's next start seals them.
ALTER TABLE signing_key RENAME COLUMN private_pem TO private_key;

-- Per-person upload limits (count and bytes per hour): one row per upload begun (published or
-- refused at its end), with the bytes received so far (renewed while it streams, final when
-- it ends). The collector removes rows older than the window.
CREATE TABLE upload_usage (
    id         BLOB    NOT NULL PRIMARY KEY,  -- the upload's intent id
    person_id  BLOB    NOT NULL,
    started_at INTEGER NOT NULL,            -- Unix seconds
    bytes      INTEGER NOT NULL
);
CREATE INDEX upload_usage_person_idx ON upload_usage (person_id, started_at);
