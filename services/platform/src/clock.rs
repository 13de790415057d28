use time::OffsetDateTime;

/// Time is a parameter: services ask a `Clock`, tests supply their own.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// The real wall clock, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that tests set: while `file` holds an RFC 3339 instant, that instant is now (time
/// stands still until the file changes); without the file, the wall clock. Read on every call,
/// so a test that writes the file and then sends a request knows the time the server sees.
/// Only the end-to-end tests configure one (a warning says so at start-up).
#[derive(Debug, Clone)]
pub struct FileClock {
    pub file: std::path::PathBuf,
}

impl Clock for FileClock {
    fn now(&self) -> OffsetDateTime {
        std::fs::read_to_string(&self.file)
            .ok()
            .and_then(|s| {
                OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()
            })
            .unwrap_or_else(OffsetDateTime::now_utc)
    }
}
