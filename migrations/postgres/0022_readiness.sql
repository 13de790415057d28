-- One row that `/readyz` updates in a write transaction of its own (platform/src/db.rs
-- `ping_write`): an instance whose database cannot commit a write (a full disk, a writer
-- connection that cannot begin) is not ready. Holds a counter, nothing about anyone.
CREATE TABLE readiness (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    probes BIGINT NOT NULL DEFAULT 0
);
INSERT INTO readiness (id, probes) VALUES (1, 0);
