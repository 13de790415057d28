-- Settings that belong to one extranet installation rather than to a configuration file:
-- the installation's identity and which demo data (if any) has been loaded.
CREATE TABLE instance_setting (
    key        TEXT        NOT NULL PRIMARY KEY,
    value      TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX instance_setting_updated_at_idx ON instance_setting (updated_at);
