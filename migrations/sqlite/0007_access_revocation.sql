-- Access tokens that stop working before their `exp` (services/identity/src/revocation.rs):
-- a session ended (sign-out, sign-out everywhere, a password change, a deactivation, a refresh
-- token presented twice) or a person's roles changed. A token of `session_id` whose issuance
-- (the instant in its UUIDv7 `jti`, in Unix milliseconds) is at or before `not_after` is refused;
-- an ended session has `not_after` = the largest BIGINT. Rows matter for one access-token
-- lifetime (plus leeway) after `recorded_ms`, then are deleted. Every instance reads the recent
-- rows about once a second (PostgreSQL also notifies at commit).
CREATE TABLE access_revocation (
    session_id  BLOB    NOT NULL,
    not_after   BIGINT  NOT NULL,
    recorded_ms BIGINT  NOT NULL
);
CREATE INDEX access_revocation_recorded_idx ON access_revocation (recorded_ms);
