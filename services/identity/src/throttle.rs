//! Brute-force protection: failures are counted per key, and after a few free attempts each
//! further failure doubles the wait. Keys: sign-in and the current password of a password change
//! per client address and per account name (kept for names that do not exist too, so the answer
//! never tells whether an account exists); refresh tokens never issued, per address; mails asked
//! (resets, invitations), per address.

use std::time::Duration;

use extranet_platform::{Clock, Db, on_pool};
use time::OffsetDateTime;

use crate::error::Result;

#[derive(Debug, Clone)]
pub struct ThrottleSettings {
    /// Failures allowed before any delay.
    pub free_attempts: u32,
    /// The first delay; each further failure doubles it.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A key with no failure for this long starts afresh.
    pub forget_after: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        ThrottleSettings {
            free_attempts: 5,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(60 * 60),
        }
    }
}

pub fn ip_key(ip: std::net::IpAddr) -> String {
    format!("ip:{ip}")
}

pub fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

/// Refresh tokens that were never issued, presented from one address: guesses.
pub fn refresh_key(ip: std::net::IpAddr) -> String {
    format!("refresh:{ip}")
}

/// Password-reset and invitation mails asked from one address.
pub fn mail_key(ip: std::net::IpAddr) -> String {
    format!("mail:{ip}")
}

/// If any key is blocked now, how long until it is released.
pub async fn blocked_for(db: &Db, clock: &dyn Clock, keys: &[String]) -> Result<Option<Duration>> {
    let now = clock.now();
    let mut longest: Option<Duration> = None;
    for key in keys {
        let until: Option<OffsetDateTime> = on_pool!(db, read, |pool| {
            sqlx::query_scalar("SELECT blocked_until FROM login_throttle WHERE throttle_key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await
        })?;
        if let Some(until) = until.filter(|u| *u > now) {
            let wait = Duration::try_from(until - now).unwrap_or_default();
            longest = Some(longest.map_or(wait, |l| l.max(wait)));
        }
    }
    Ok(longest)
}

fn delay_after(failures: u32, s: &ThrottleSettings) -> Duration {
    if failures <= s.free_attempts {
        return Duration::ZERO;
    }
    let doublings = (failures - s.free_attempts - 1).min(20);
    s.base_delay.saturating_mul(1 << doublings).min(s.max_delay)
}

/// Counts a failure against each key and sets its next allowed attempt.
pub async fn record_failure(
    db: &Db,
    clock: &dyn Clock,
    s: &ThrottleSettings,
    keys: &[String],
) -> Result<()> {
    let now = clock.now();
    let forget_before = now - s.forget_after;
    for key in keys {
        let previous: Option<(i32, OffsetDateTime)> = on_pool!(db, read, |pool| {
            sqlx::query_as(
                "SELECT failures, last_failure_at FROM login_throttle WHERE throttle_key = $1",
            )
            .bind(key)
            .fetch_optional(pool)
            .await
        })?;
        let failures = match previous {
            Some((n, last)) if last >= forget_before => u32::try_from(n).unwrap_or(0) + 1,
            _ => 1,
        };
        let until = now + delay_after(failures, s);
        let n = i32::try_from(failures).unwrap_or(i32::MAX);
        on_pool!(db, write, |pool| {
            sqlx::query(
                "INSERT INTO login_throttle (throttle_key, failures, last_failure_at, blocked_until) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (throttle_key) DO UPDATE SET \
                 failures = excluded.failures, last_failure_at = excluded.last_failure_at, \
                 blocked_until = excluded.blocked_until",
            )
            .bind(key)
            .bind(n)
            .bind(now)
            .bind(until)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
    }
    Ok(())
}

/// A successful sign-in clears the account's count (the address keeps its own).
pub async fn record_success(db: &Db, account: &str) -> Result<()> {
    on_pool!(db, write, |pool| {
        sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1")
            .bind(account)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_the_free_attempts_and_stop_at_the_cap() {
        let s = ThrottleSettings::default();
        assert_eq!(delay_after(5, &s), Duration::ZERO);
        assert_eq!(delay_after(6, &s), Duration::from_secs(2));
        assert_eq!(delay_after(7, &s), Duration::from_secs(4));
        assert_eq!(delay_after(10, &s), Duration::from_secs(32));
        assert_eq!(delay_after(60, &s), Duration::from_secs(900));
    }
}
