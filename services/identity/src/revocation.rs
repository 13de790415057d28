//! Access tokens that stop working before they expire.
//!
//! An access token is verified without the database, so ending a session in the database does
//! not by itself stop its token. Every change that must end access at once — sign-out, sign-out
//! everywhere, a password change, a deactivation, a refresh token presented twice, a role change —
//! writes `access_revocation` rows in its own transaction (through [`RevokeConn`]), and every
//! instance keeps the rows of the last access lifetime in memory ([`Revocations`]); `Auth::verify`
//! refuses a token its session's row covers, even while the token's `exp` is in the future.
//!
//! How instances learn of a row:
//! - the instance that made the change, at once, before it answers ([`Revocations::after_commit`]);
//! - every instance by reading the recent rows every [`POLL`], so a change made by another
//!   instance or by the command line is followed within about a second;
//! - on PostgreSQL at once as well: a trigger NOTIFYs each row at commit, and [`Revocations::run`]
//!   LISTENs (a notification lost to a dropped connection is still caught by the next read).
//!
//! A row names a session and `not_after`, an instant in Unix milliseconds: the session's tokens
//! issued at or before it are refused. An ended session gets [`SESSION_ENDED`] (no token of it
//! passes again); a role change gets "now", so that the next refresh issues a token with the new
//! roles, which passes. A token's issuance instant is the one in its UUIDv7 `jti`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use extranet_platform::{Clock, Db, on_pool};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::error::Result;
use crate::tokens::Claims;

/// How often every instance reads the recent rows: the longest another instance (without
/// PostgreSQL's notifications) keeps accepting a token after its session ended elsewhere.
pub const POLL: Duration = Duration::from_secs(1);

/// `not_after` of an ended session: every token of it is refused.
pub const SESSION_ENDED: i64 = i64::MAX;

/// The PostgreSQL channel the trigger of migration 0007 notifies.
const CHANNEL: &str = "extranet_access_revocation";

/// Rows are kept this long beyond one access lifetime and leeway (clocks of instances differ a
/// little), then deleted.
const MARGIN: Duration = Duration::from_secs(60);

/// Old rows are deleted once in this many reads.
const PRUNE_EVERY: u32 = 60;

pub fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    not_after: i64,
    recorded_ms: i64,
}

/// What a committed change ended, for the instance that made it to learn at once.
#[must_use = "pass it to Revocations::after_commit once the transaction has committed"]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revoked {
    sessions: Vec<Uuid>,
    not_after: i64,
    recorded_ms: i64,
}

impl Revoked {
    /// How many sessions the change reached.
    pub fn count(&self) -> u64 {
        self.sessions.len() as u64
    }

    /// Whether this made tokens stale (a role change) rather than ending sessions.
    fn stale(&self) -> bool {
        self.not_after != SESSION_ENDED
    }
}

/// Which sessions a change ends.
#[derive(Debug, Clone, Copy)]
pub enum Ending {
    /// One session (sign-out, a refresh token presented twice).
    Session(Uuid),
    /// Every session of a person (sign-out everywhere, deactivation, a password set by link).
    Person(Uuid),
    /// Every session of a person but the one that made the change (a password change).
    PersonExcept(Uuid, Uuid),
    /// Every session of every person of an organisation (its deactivation).
    Organisation(Uuid),
}

const END_SESSION: &str = "UPDATE auth_session SET revoked_at = $1, revoked_reason = $2 \
     WHERE revoked_at IS NULL AND id = $3 RETURNING id";
const END_PERSON: &str = "UPDATE auth_session SET revoked_at = $1, revoked_reason = $2 \
     WHERE revoked_at IS NULL AND person_id = $3 RETURNING id";
const END_PERSON_EXCEPT: &str = "UPDATE auth_session SET revoked_at = $1, revoked_reason = $2 \
     WHERE revoked_at IS NULL AND person_id = $3 AND id <> $4 RETURNING id";
const END_ORGANISATION: &str = "UPDATE auth_session SET revoked_at = $1, revoked_reason = $2 \
     WHERE revoked_at IS NULL AND person_id IN (SELECT id FROM person WHERE organisation_id = $3) \
     RETURNING id";
/// Sessions whose tokens a role change makes stale: the live ones.
const LIVE_OF_PERSON: &str = "SELECT id FROM auth_session WHERE person_id = $1 AND revoked_at IS NULL AND absolute_expires_at > $2";
const INSERT: &str =
    "INSERT INTO access_revocation (session_id, not_after, recorded_ms) VALUES ($1, $2, $3)";

impl Ending {
    fn statement(self) -> (&'static str, Uuid, Option<Uuid>) {
        match self {
            Ending::Session(s) => (END_SESSION, s, None),
            Ending::Person(p) => (END_PERSON, p, None),
            Ending::PersonExcept(p, keep) => (END_PERSON_EXCEPT, p, Some(keep)),
            Ending::Organisation(o) => (END_ORGANISATION, o, None),
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for sqlx::SqliteConnection {}
    impl Sealed for sqlx::PgConnection {}
}

/// A connection sessions can be ended on: `SqliteConnection` or `PgConnection`, typically the
/// `tx` of `extranet_platform::write_tx!`, so that the end of access commits with the change
/// that causes it (and its audit record), or neither does.
pub trait RevokeConn: sealed::Sealed + Send {
    /// Ends the sessions `which` names that are still live, and refuses their tokens from now on.
    fn end_sessions<'a>(
        &'a mut self,
        which: Ending,
        at: OffsetDateTime,
        reason: &'a str,
    ) -> impl Future<Output = std::result::Result<Revoked, sqlx::Error>> + Send + 'a;

    /// Refuses the tokens issued until now to `person`'s live sessions (whose roles changed); the
    /// sessions go on, and their next refresh issues tokens that say what the person is now.
    fn stale_tokens<'a>(
        &'a mut self,
        person: uuid::Uuid,
        at: OffsetDateTime,
    ) -> impl Future<Output = std::result::Result<Revoked, sqlx::Error>> + Send + 'a;
}

macro_rules! impl_revoke_conn {
    ($conn:ty) => {
        impl RevokeConn for $conn {
            fn end_sessions<'a>(
                &'a mut self,
                which: Ending,
                at: OffsetDateTime,
                reason: &'a str,
            ) -> impl Future<Output = std::result::Result<Revoked, sqlx::Error>> + Send + 'a {
                async move {
                    let (sql, id, other) = which.statement();
                    let mut q = sqlx::query_scalar(sql).bind(at).bind(reason).bind(id);
                    if let Some(other) = other {
                        q = q.bind(other);
                    }
                    let sessions: Vec<Uuid> = q.fetch_all(&mut *self).await?;
                    let recorded_ms = unix_ms(at);
                    for s in &sessions {
                        sqlx::query(INSERT)
                            .bind(s)
                            .bind(SESSION_ENDED)
                            .bind(recorded_ms)
                            .execute(&mut *self)
                            .await?;
                    }
                    Ok(Revoked {
                        sessions,
                        not_after: SESSION_ENDED,
                        recorded_ms,
                    })
                }
            }

            fn stale_tokens<'a>(
                &'a mut self,
                person: Uuid,
                at: OffsetDateTime,
            ) -> impl Future<Output = std::result::Result<Revoked, sqlx::Error>> + Send + 'a {
                async move {
                    let sessions: Vec<Uuid> = sqlx::query_scalar(LIVE_OF_PERSON)
                        .bind(person)
                        .bind(at)
                        .fetch_all(&mut *self)
                        .await?;
                    let ms = unix_ms(at);
                    for s in &sessions {
                        sqlx::query(INSERT)
                            .bind(s)
                            .bind(ms)
                            .bind(ms)
                            .execute(&mut *self)
                            .await?;
                    }
                    Ok(Revoked {
                        sessions,
                        not_after: ms,
                        recorded_ms: ms,
                    })
                }
            }
        }
    };
}

impl_revoke_conn!(sqlx::SqliteConnection);
impl_revoke_conn!(sqlx::PgConnection);

/// The revocations of the last access lifetime, in memory: what `Auth::verify` asks on every
/// request. Reading is one atomic load and one hash lookup; the map is replaced, never edited in
/// place, when something new is learnt.
pub struct Revocations {
    entries: ArcSwap<HashMap<Uuid, Entry>>,
    /// How long a row matters: one access lifetime and leeway, plus [`MARGIN`].
    window: Duration,
    /// Serialises replacements of the map, so that two learners never lose each other's entries.
    learning: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocations")
            .field("len", &self.entries.load().len())
            .field("window", &self.window)
            .finish()
    }
}

impl Revocations {
    /// `access_lifetime` and `leeway` as the tokens are verified with.
    pub fn new(access_lifetime: Duration, leeway: Duration) -> Revocations {
        Revocations {
            entries: ArcSwap::from_pointee(HashMap::new()),
            window: access_lifetime + leeway + MARGIN,
            learning: std::sync::Mutex::new(()),
        }
    }

    /// Whether `claims` belong to a token that must no longer pass.
    pub fn refuses(&self, claims: &Claims) -> bool {
        let entries = self.entries.load();
        if entries.is_empty() {
            return false;
        }
        entries
            .get(&claims.sid)
            .is_some_and(|e| issued_ms(claims) <= e.not_after)
    }

    pub fn len(&self) -> usize {
        self.entries.load().len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.load().is_empty()
    }

    /// Learns what a committed change ended, before the change is answered. For a role change it
    /// also records, now that the change is visible to everyone, a second cutoff: a token issued
    /// by a refresh that read the old roles just before the commit carries an instant after the
    /// first cutoff, and is refused by this one. If that write fails the change stands; the gap
    /// is a token issued in the same milliseconds as the change, and it is logged.
    pub async fn after_commit(&self, db: &Db, clock: &dyn Clock, revoked: &Revoked) {
        if revoked.sessions.is_empty() {
            return;
        }
        let mut learnt: Vec<(Uuid, Entry)> = revoked
            .sessions
            .iter()
            .map(|s| {
                (
                    *s,
                    Entry {
                        not_after: revoked.not_after,
                        recorded_ms: revoked.recorded_ms,
                    },
                )
            })
            .collect();
        if revoked.stale() {
            let ms = unix_ms(clock.now()).max(revoked.not_after);
            let written: std::result::Result<(), sqlx::Error> = on_pool!(db, write, |pool| {
                async {
                    for s in &revoked.sessions {
                        sqlx::query(INSERT)
                            .bind(s)
                            .bind(ms)
                            .bind(ms)
                            .execute(pool)
                            .await?;
                    }
                    Ok(())
                }
                .await
            });
            if let Err(e) = written {
                tracing::error!(error = %e, "second cutoff of a role change not recorded");
            }
            for (_, e) in &mut learnt {
                e.not_after = ms;
                e.recorded_ms = ms;
            }
        }
        self.learn(learnt, None);
    }

    /// Adds `rows` to the map (keeping the later cutoff of a session named twice) and, when
    /// `oldest` is given, drops entries recorded before it.
    fn learn(&self, rows: impl IntoIterator<Item = (Uuid, Entry)>, oldest: Option<i64>) {
        let _one_at_a_time = self
            .learning
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.entries.load();
        let mut next: HashMap<Uuid, Entry> = match oldest {
            Some(oldest) => current
                .iter()
                .filter(|(_, e)| e.recorded_ms >= oldest)
                .map(|(k, e)| (*k, *e))
                .collect(),
            None => (**current).clone(),
        };
        let mut changed = next.len() != current.len();
        for (session, entry) in rows {
            let merged = match next.get(&session) {
                Some(e) => Entry {
                    not_after: e.not_after.max(entry.not_after),
                    recorded_ms: e.recorded_ms.max(entry.recorded_ms),
                },
                None => entry,
            };
            if next.get(&session) != Some(&merged) {
                next.insert(session, merged);
                changed = true;
            }
        }
        if changed {
            self.entries.store(Arc::new(next));
        }
    }

    /// Reads the rows of the window from the database and learns them, dropping what is older.
    pub async fn sync(&self, db: &Db, clock: &dyn Clock) -> Result<()> {
        let oldest = self.oldest(clock);
        let rows: Vec<(Uuid, i64, i64)> = on_pool!(db, read, |pool| {
            sqlx::query_as(
                "SELECT session_id, not_after, recorded_ms FROM access_revocation \
                 WHERE recorded_ms >= $1",
            )
            .bind(oldest)
            .fetch_all(pool)
            .await
        })?;
        self.learn(
            rows.into_iter().map(|(s, not_after, recorded_ms)| {
                (
                    s,
                    Entry {
                        not_after,
                        recorded_ms,
                    },
                )
            }),
            Some(oldest),
        );
        Ok(())
    }

    fn oldest(&self, clock: &dyn Clock) -> i64 {
        let window = i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX);
        unix_ms(clock.now()).saturating_sub(window)
    }

    /// Deletes rows no token can need any more.
    async fn prune(&self, db: &Db, clock: &dyn Clock) -> Result<()> {
        let oldest = self.oldest(clock);
        on_pool!(db, write, |pool| {
            sqlx::query("DELETE FROM access_revocation WHERE recorded_ms < $1")
                .bind(oldest)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Keeps this instance's map current until `shutdown`: a read every [`POLL`] (and a prune
    /// now and then), and on PostgreSQL each new row as its transaction commits.
    pub async fn run(self: Arc<Self>, db: Db, clock: Arc<dyn Clock>, shutdown: CancellationToken) {
        if let Db::Postgres(pg) = &db {
            tokio::spawn(self.clone().listen(pg.pool.clone(), shutdown.clone()));
        }
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reads: u32 = 0;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.sync(&db, clock.as_ref()).await {
                tracing::warn!(error = %e, "revoked sessions not read");
            }
            reads = reads.wrapping_add(1);
            if reads.is_multiple_of(PRUNE_EVERY)
                && let Err(e) = self.prune(&db, clock.as_ref()).await
            {
                tracing::warn!(error = %e, "old session revocations not deleted");
            }
        }
    }

    async fn listen(self: Arc<Self>, pool: sqlx::PgPool, shutdown: CancellationToken) {
        loop {
            let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for revoked sessions; reading them every second");
                    if wait_or_stop(&shutdown, Duration::from_secs(5)).await {
                        return;
                    }
                    continue;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %e, "cannot listen for revoked sessions; reading them every second");
                if wait_or_stop(&shutdown, Duration::from_secs(5)).await {
                    return;
                }
                continue;
            }
            loop {
                let note = tokio::select! {
                    () = shutdown.cancelled() => return,
                    n = listener.recv() => n,
                };
                match note {
                    Ok(n) => {
                        if let Some(row) = parse_note(n.payload()) {
                            self.learn([row], None);
                        }
                    }
                    // recv reconnects by itself on its next call; a failure to do so lands here
                    // again, so pause before retrying (the reads cover the gap).
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for revoked sessions interrupted");
                        if wait_or_stop(&shutdown, Duration::from_secs(1)).await {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// Sleeps for `d`; true if the instance is shutting down.
async fn wait_or_stop(shutdown: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => true,
        () = tokio::time::sleep(d) => false,
    }
}

/// `"<session uuid> <not_after>"`, as the trigger sends it. The instant recorded is not in the
/// note; "now" serves (the entry only needs to outlive the tokens it refuses).
fn parse_note(payload: &str) -> Option<(Uuid, Entry)> {
    let (session, not_after) = payload.split_once(' ')?;
    Some((
        session.parse().ok()?,
        Entry {
            not_after: not_after.parse().ok()?,
            recorded_ms: unix_ms(OffsetDateTime::now_utc()),
        },
    ))
}

/// When a token was issued, in Unix milliseconds: the instant of its UUIDv7 `jti` (every token
/// this server signs has one), else the start of its `iat` second.
pub fn issued_ms(claims: &Claims) -> i64 {
    match claims.jti.get_timestamp() {
        Some(ts) => {
            let (secs, nanos) = ts.to_unix();
            i64::try_from(secs)
                .unwrap_or(i64::MAX)
                .saturating_mul(1000)
                .saturating_add(i64::from(nanos / 1_000_000))
        }
        None => claims.iat.saturating_mul(1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sid: Uuid, issued_ms: u64) -> Claims {
        let jti = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            issued_ms / 1000,
            u32::try_from((issued_ms % 1000) * 1_000_000).unwrap_or(0),
        ));
        Claims {
            iss: "i".into(),
            aud: "a".into(),
            sub: Uuid::nil(),
            org: Uuid::nil(),
            roles: vec![],
            sid,
            jti,
            iat: i64::try_from(issued_ms / 1000).unwrap_or(0),
            nbf: 0,
            exp: 0,
            typ: "access".into(),
        }
    }

    fn entry(not_after: i64, recorded_ms: i64) -> Entry {
        Entry {
            not_after,
            recorded_ms,
        }
    }

    #[test]
    fn an_ended_session_refuses_every_token_and_others_pass() {
        let r = Revocations::new(Duration::from_secs(300), Duration::from_secs(5));
        let (ended, other) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(!r.refuses(&claims(ended, 1_000)));
        r.learn([(ended, entry(SESSION_ENDED, 1_000))], None);
        assert!(r.refuses(&claims(ended, 1_000)));
        assert!(r.refuses(&claims(ended, 9_999_999_999)));
        assert!(!r.refuses(&claims(other, 1_000)));
    }

    #[test]
    fn a_stale_cutoff_refuses_older_tokens_only_to_the_millisecond() {
        let r = Revocations::new(Duration::from_secs(300), Duration::from_secs(5));
        let s = Uuid::now_v7();
        r.learn([(s, entry(5_000_123, 5_000_123))], None);
        assert!(r.refuses(&claims(s, 5_000_122)));
        assert!(r.refuses(&claims(s, 5_000_123)));
        assert!(
            !r.refuses(&claims(s, 5_000_124)),
            "a token issued after the change"
        );
        // A later full revocation of the same session wins over the earlier cutoff.
        r.learn([(s, entry(SESSION_ENDED, 5_000_200))], None);
        assert!(r.refuses(&claims(s, 5_000_124)));
        // …and an earlier cutoff learnt late does not undo it.
        r.learn([(s, entry(1, 1))], None);
        assert!(r.refuses(&claims(s, 5_000_124)));
    }

    #[test]
    fn entries_older_than_the_window_are_dropped() {
        let r = Revocations::new(Duration::from_secs(300), Duration::from_secs(5));
        let (old, new) = (Uuid::now_v7(), Uuid::now_v7());
        r.learn(
            [
                (old, entry(SESSION_ENDED, 1_000)),
                (new, entry(SESSION_ENDED, 9_000)),
            ],
            None,
        );
        r.learn([], Some(5_000));
        assert_eq!(r.len(), 1);
        assert!(r.refuses(&claims(new, 1)));
        assert!(!r.refuses(&claims(old, 1)));
    }

    #[test]
    fn notes_are_parsed_and_garbage_is_ignored() {
        let s = Uuid::now_v7();
        let (got, e) = parse_note(&format!("{s} 1234")).expect("a note");
        assert_eq!((got, e.not_after), (s, 1234));
        assert!(parse_note("nonsense").is_none());
        assert!(parse_note(&format!("{s} x")).is_none());
    }

    #[test]
    fn issuance_comes_from_the_jti() {
        let c = claims(Uuid::nil(), 1_700_000_000_456);
        assert_eq!(issued_ms(&c), 1_700_000_000_456);
        let mut c = c;
        c.jti = Uuid::new_v4();
        assert_eq!(issued_ms(&c), 1_700_000_000_000);
    }
}
