-- Access tokens that stop working before their `exp` (services/identity/src/revocation.rs):
-- a session ended (sign-out, sign-out everywhere, a password change, a deactivation, a refresh
-- token presented twice) or a person's roles changed. A token of `session_id` whose issuance
-- (the instant in its UUIDv7 `jti`, in Unix milliseconds) is at or before `not_after` is refused;
-- an ended session has `not_after` = the largest BIGINT. Rows matter for one access-token
-- lifetime (plus leeway) after `recorded_ms`, then are deleted. Every instance reads the recent
-- rows about once a second, and on PostgreSQL is told of each new row at its commit by NOTIFY.
CREATE TABLE access_revocation (
    session_id  UUID   NOT NULL,
    not_after   BIGINT NOT NULL,
    recorded_ms BIGINT NOT NULL
);
CREATE INDEX access_revocation_recorded_idx ON access_revocation (recorded_ms);

CREATE FUNCTION access_revocation_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('extranet_access_revocation', NEW.session_id::text || ' ' || NEW.not_after::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER access_revocation_notify AFTER INSERT ON access_revocation
    FOR EACH ROW EXECUTE FUNCTION access_revocation_notify();
