//! The audit log on both databases: concurrent appends keep the chain whole, every kind of
//! tampering done directly in SQL is named by `verify`, and searches filter and order.

use std::net::IpAddr;
use std::time::Duration;

use extranet_audit::{
    AuditError, Entry, Filter, GENESIS_HASH, NewEntry, Outcome, Problem, VerifyReport, append,
    append_in, search, verify,
};
use extranet_platform::db::DbTarget;
use extranet_platform::{Db, DbOptions};
use extranet_tests::backends::PgDatabase;
use time::OffsetDateTime;
use time::macros::datetime;

/// A fresh, migrated database of one kind, with what keeps it alive.
struct TestDb {
    db: Db,
    target: DbTarget,
    pg: Option<PgDatabase>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    async fn open(kind: &str) -> anyhow::Result<TestDb> {
        let dir = tempfile::tempdir()?;
        let (target, pg) = match kind {
            "sqlite" => (DbTarget::Sqlite(dir.path().join("t.db")), None),
            _ => {
                let pg = PgDatabase::create().await?;
                (DbTarget::Postgres(pg.url.clone()), Some(pg))
            }
        };
        let db = Db::connect(&target, &options()).await?;
        db.migrate().await?;
        Ok(TestDb {
            db,
            target,
            pg,
            _dir: dir,
        })
    }

    /// Another handle on the same database: another process, in effect.
    async fn second_handle(&self) -> anyhow::Result<Db> {
        Ok(Db::connect(&self.target, &options()).await?)
    }

    async fn close(self) {
        self.db.close().await;
        if let Some(pg) = self.pg {
            pg.drop_now().await;
        }
    }
}

fn options() -> DbOptions {
    DbOptions {
        busy_timeout: Duration::from_secs(30),
        ..DbOptions::default()
    }
}

/// Runs one test body on SQLite and on PostgreSQL: `name::sqlite`, `name::postgres`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> anyhow::Result<()> {
                super::$name("sqlite").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> anyhow::Result<()> {
                super::$name("postgres").await
            }
        }
    )*};
}

on_both!(
    concurrent_appends_verify,
    append_in_commits_and_rolls_back_with_the_caller,
    an_edited_entry_is_named,
    a_deleted_entry_is_named,
    a_deleted_last_entry_is_detected,
    swapped_entries_are_detected,
    an_inserted_entry_is_detected,
    a_log_longer_than_a_page_verifies,
    search_filters_and_orders,
    an_erased_address_still_verifies_and_an_edited_one_does_not,
);

/// The retention schedule erases old client addresses: the address and its salt go, the
/// commitment the hash covers stays, so the log still verifies. Changing an address, or putting
/// one back where it was erased, is an edit.
async fn an_erased_address_still_verifies_and_an_edited_one_does_not(
    kind: &str,
) -> anyhow::Result<()> {
    let t = TestDb::open(kind).await?;
    let log = fill(&t.db, 20).await?;
    tamper(
        &t.db,
        "UPDATE audit_log SET actor_ip = NULL, actor_ip_salt = NULL WHERE seq <= $1",
        &[10],
    )
    .await?;
    let report = verify(&t.db).await?;
    assert!(
        matches!(report, VerifyReport::Ok { entries: 20, .. }),
        "{report}"
    );
    let after = all(&t.db).await?;
    assert_eq!(after[4].actor_ip, None);
    assert_eq!(after[14].actor_ip, log[14].actor_ip);

    tamper(
        &t.db,
        "UPDATE audit_log SET actor_ip = '192.0.2.99' WHERE seq = $1",
        &[15],
    )
    .await?;
    assert_eq!(
        problem(&verify(&t.db).await?)?,
        &Problem::Edited {
            seq: 15,
            id: log[14].id
        }
    );
    tamper(
        &t.db,
        "UPDATE audit_log SET actor_ip = '192.0.2.14' WHERE seq = $1",
        &[15],
    )
    .await?;
    assert!(verify(&t.db).await?.problem().is_none());
    // An erased address put back (without its salt) is an edit too.
    tamper(
        &t.db,
        "UPDATE audit_log SET actor_ip = '192.0.2.3' WHERE seq = $1",
        &[4],
    )
    .await?;
    assert_eq!(
        problem(&verify(&t.db).await?)?,
        &Problem::Edited {
            seq: 4,
            id: log[3].id
        }
    );
    t.close().await;
    Ok(())
}

const T0: OffsetDateTime = datetime!(2025-03-01 09:00:00 UTC);

fn sample(i: usize) -> NewEntry {
    let (action, outcome) = match i % 4 {
        0 => ("auth.login.success", Outcome::Success),
        1 => ("auth.login.failure", Outcome::Failure),
        2 => ("auth.refresh.reuse", Outcome::Denied),
        _ => ("account.deactivate", Outcome::Success),
    };
    NewEntry::new(
        T0 + time::Duration::milliseconds(i as i64 * 250),
        action,
        outcome,
    )
    .actor(format!("person-{}", i % 3))
    .ip(IpAddr::from([192, 0, 2, (i % 250) as u8]))
    .subject("account", format!("account-{}", i % 5))
    .organisation(format!("org-{}", i % 2))
    .detail(serde_json::json!({ "n": i, "note": "hello \"quoted\" ünïcode" }))
}

/// Appends `n` sample entries one after the other; returns them oldest first.
async fn fill(db: &Db, n: usize) -> anyhow::Result<Vec<Entry>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(append(db, &sample(i)).await?);
    }
    Ok(out)
}

async fn all(db: &Db) -> anyhow::Result<Vec<Entry>> {
    let mut entries = search(
        db,
        &Filter {
            limit: Some(1000),
            ..Filter::default()
        },
    )
    .await?;
    entries.reverse();
    Ok(entries)
}

fn problem(report: &VerifyReport) -> anyhow::Result<&Problem> {
    report
        .problem()
        .ok_or_else(|| anyhow::anyhow!("tampering went unnoticed: {report}"))
}

/// Raw SQL straight at the database, as someone going around the application would.
async fn tamper(db: &Db, sql: &'static str, args: &[i64]) -> anyhow::Result<()> {
    extranet_platform::on_pool!(db, write, |pool| {
        let mut q = sqlx::query(sql);
        for a in args {
            q = q.bind(*a);
        }
        q.execute(pool).await.map(|_| ())
    })?;
    Ok(())
}

async fn concurrent_appends_verify(kind: &str) -> anyhow::Result<()> {
    let t = TestDb::open(kind).await?;
    assert!(matches!(
        verify(&t.db).await?,
        VerifyReport::Ok { entries: 0, .. }
    ));
    fill(&t.db, 10).await?;

    let b = t.second_handle().await?;
    let mut tasks = tokio::task::JoinSet::new();
    for (h, db) in [t.db.clone(), b.clone()].into_iter().enumerate() {
        for i in 0..20 {
            let db = db.clone();
            tasks.spawn(async move { append(&db, &sample(10 + h * 20 + i)).await });
        }
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }

    let report = verify(&b).await?;
    let VerifyReport::Ok { entries, head_hash } = &report else {
        anyhow::bail!("{report}");
    };
    assert_eq!(*entries, 50);
    let log = all(&t.db).await?;
    let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
    let mut prev = GENESIS_HASH.to_owned();
    for e in &log {
        assert_eq!(e.prev_hash, prev, "entry {}", e.seq);
        prev = e.hash.clone();
    }
    assert_eq!(&prev, head_hash);
    let mut ids: Vec<_> = log.iter().map(|e| e.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50);
    assert!(log.iter().all(|e| e.id.get_version_num() == 7));

    // A refused entry is refused before it takes a number.
    let bad = NewEntry::new(T0, "Auth Login", Outcome::Success);
    assert!(matches!(
        append(&t.db, &bad).await,
        Err(AuditError::Invalid(_))
    ));
    assert!(matches!(
        verify(&t.db).await?,
        VerifyReport::Ok { entries: 50, .. }
    ));

    b.close().await;
    t.close().await;
    Ok(())
}

async fn append_in_commits_and_rolls_back_with_the_caller(kind: &str) -> anyhow::Result<()> {
    let t = TestDb::open(kind).await?;
    fill(&t.db, 3).await?;

    let setting = "INSERT INTO instance_setting (key, value, updated_at) VALUES ($1, $2, $3)";
    let entry = NewEntry::new(T0, "settings.change", Outcome::Success).subject("setting", "k");

    // The caller's change fails after the audit record was written: both roll back.
    let failed: Result<(), AuditError> = extranet_platform::write_tx!(&t.db, |tx| async {
        append_in(&mut *tx, &entry).await?;
        Err::<(), AuditError>(AuditError::Invalid("the change itself failed".into()))
    }
    .await)
    .await;
    assert!(failed.is_err());
    assert!(matches!(
        verify(&t.db).await?,
        VerifyReport::Ok { entries: 3, .. }
    ));

    let done: Result<Entry, AuditError> = extranet_platform::write_tx!(&t.db, |tx| async {
        sqlx::query(setting)
            .bind("k")
            .bind("v")
            .bind(T0)
            .execute(&mut *tx)
            .await?;
        let recorded = append_in(&mut *tx, &entry).await?;
        Ok::<Entry, AuditError>(recorded)
    }
    .await)
    .await;
    assert_eq!(done?.seq, 4);
    assert!(matches!(
        verify(&t.db).await?,
        VerifyReport::Ok { entries: 4, .. }
    ));
    t.close().await;
    Ok(())
}

async fn an_edited_entry_is_named(kind: &str) -> anyhow::Result<()> {
    let t = TestDb::open(kind).await?;
    let log = fill(&t.db, 50).await?;

    tamper(
        &t.db,
        r#"UPDATE audit_log SET detail = '{"n":0}' WHERE seq = $1"#,
        &[17],
    )
    .await?;
    let report = verify(&t.db).await?;
    assert_eq!(
        problem(&report)?,
        &Problem::Edited {
            seq: 17,
            id: log[16].id
        }
    );
    assert_eq!(
        problem(&report)?.to_string(),
        format!(
            "entry 17 (id {}) was edited: its hash does not match its content",
            log[16].id
        )
    );

    // An earlier edit, to the time by one microsecond, is the first problem now.
    extranet_platform::on_pool!(&t.db, write, |pool| {
        sqlx::query("UPDATE audit_log SET at = $1 WHERE seq = 5")
            .bind(log[4].at + time::Duration::microseconds(1))
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    assert_eq!(
        problem(&verify(&t.db).await?)?,
        &Problem::Edited {
            seq: 5,
            id: log[4].id
        }
    );
    t.close().await;
    Ok(())
}

async fn a_deleted_entry_is_named(kind: &str) -> anyhow::Result<()> {
    let t = TestDb::open(kind).await?;
    fill(&t.db, 50).await?;

    tamper(&t.db, "DELETE FROM audit_log WHERE seq = $1", &[25]).await?;
    let report = verify(&t.db).await?;
    assert_eq!(problem(&report)?, &Problem::Deleted { seq: 25, next: 26 });
    assert_eq!(
        problem(&report)?.to_string(),
        "entry 25 was deleted: the log goes on at entry 26"
    );

    tamper(
        &t.db,
        "DELETE FROM audit_log WHERE seq = $1 OR seq = $2",
        &[2, 3],
    )
    .await?;
    let report = verify(&t.db).await?;
    assert_eq!(problem(&report)?, &Problem::Deleted { seq: 2, next: 4 });
    assert!(
        report.to_string().contains("entries 2 to 3 were deleted"),
        "{report}"
    );
    t.close().await;
    Ok(())
}

async fn a_deleted_last_entry_is_detected(kind: &str) -> anyhow::Result<()> {
    let t = TestDb::open(kind).await?;
    let log = fill(&t.db, 50).await?;

    tamper(&t.db, "DELETE FROM audit_log WHERE seq = $1", &[50]).await?;
    let report = verify(&t.db).await?;
    assert_eq!(
        problem(&report)?,
        &Problem::Truncated {
            seq: 50,
            head_seq: 50
        }
    );
    assert!(
        report.to_string().contains("entry 50 was deleted"),
        "{report}"
    );

    // Winding the head's number back is not enough: its hash is still entry 50's.
    tamper(&t.db, "UPDATE audit_head SET seq = $1 WHERE id = 1", &[49]).await?;
    assert_eq!(
        problem(&verify(&t.db).await?)?,
        &Problem::HeadMismatch { seq: 49 }
    );

    // Rewriting the head's hash too makes a shorter log that verifies: the limit of a hash
    // chain, which is why the head hash of an earlier report is worth keeping elsewhere.
    extranet_platform::on_pool!(&t.db, write, |pool| {
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&log[48].hash)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    assert!(matches!(
        verify(&t.db).await?,
        VerifyReport::Ok { entries: 49, .. }
    ));
    t.close().await;
    Ok(())
}

async fn swapped_entries_are_detected(kind: &str) -> anyhow::Result<()> {
    let t = TestDb::open(kind).await?;
    let log = fill(&t.db, 50).await?;

    // Whole rows exchanged: entry 20 now sits at 10 and the other way round.
    let swap_seq = [
        "UPDATE audit_log SET seq = -1 WHERE seq = 10",
        "UPDATE audit_log SET seq = 10 WHERE seq = 20",
        "UPDATE audit_log SET seq = 20 WHERE seq = -1",
    ];
    for sql in swap_seq {
        tamper(&t.db, sql, &[]).await?;
    }
    let report = verify(&t.db).await?;
    assert_eq!(
        problem(&report)?,
        &Problem::Reordered {
            seq: 10,
            id: log[19].id
        }
    );
    assert!(
        report
            .to_string()
            .contains(&format!("entry 10 (id {}) is out of place", log[19].id)),
        "{report}"
    );
    for sql in swap_seq {
        tamper(&t.db, sql, &[]).await?;
    }
    assert!(verify(&t.db).await?.is_ok(), "swapped back");

    // Contents and hashes exchanged, numbers and links left in place.
    for (seq, from) in [(30_i64, &log[30]), (31, &log[29])] {
        let detail = serde_json::to_string(&from.detail)?;
        extranet_platform::on_pool!(&t.db, write, |pool| {
            sqlx::query("UPDATE audit_log SET detail = $1, hash = $2 WHERE seq = $3")
                .bind(&detail)
                .bind(&from.hash)
                .bind(seq)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
    }
    assert_eq!(
        problem(&verify(&t.db).await?)?,
        &Problem::Edited {
            seq: 30,
            id: log[29].id
        }
    );
    t.close().await;
    Ok(())
}

async fn an_inserted_entry_is_detected(kind: &str) -> anyhow::Result<()> {
    let t = TestDb::open(kind).await?;
    let log = fill(&t.db, 5).await?;
    let forged = uuid::Uuid::now_v7();
    extranet_platform::on_pool!(&t.db, write, |pool| {
        sqlx::query(
            "INSERT INTO audit_log (seq, id, at, action, outcome, detail, prev_hash, hash) \
             SELECT 6, $1, at, action, outcome, detail, hash, hash FROM audit_log WHERE seq = 5",
        )
        .bind(forged)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    assert_eq!(
        problem(&verify(&t.db).await?)?,
        &Problem::Inserted { seq: 6, id: forged }
    );
    assert_eq!(log.len(), 5);
    t.close().await;
    Ok(())
}

/// `verify` reads 1000 entries at a time: the chain and the numbering carry across pages.
async fn a_log_longer_than_a_page_verifies(kind: &str) -> anyhow::Result<()> {
    let t = TestDb::open(kind).await?;
    // One transaction for speed; the chain is the same as with one per entry.
    let res: Result<(), AuditError> = extranet_platform::write_tx!(&t.db, |tx| async {
        for i in 0..2005 {
            append_in(&mut *tx, &sample(i)).await?;
        }
        Ok::<(), AuditError>(())
    }
    .await)
    .await;
    res?;
    assert!(matches!(
        verify(&t.db).await?,
        VerifyReport::Ok { entries: 2005, .. }
    ));

    tamper(&t.db, "DELETE FROM audit_log WHERE seq = $1", &[2001]).await?;
    assert_eq!(
        problem(&verify(&t.db).await?)?,
        &Problem::Deleted {
            seq: 2001,
            next: 2002
        }
    );
    tamper(
        &t.db,
        r#"UPDATE audit_log SET detail = '{}' WHERE seq = $1"#,
        &[1000],
    )
    .await?;
    assert_eq!(problem(&verify(&t.db).await?)?.seq(), 1000);
    t.close().await;
    Ok(())
}

async fn search_filters_and_orders(kind: &str) -> anyhow::Result<()> {
    let t = TestDb::open(kind).await?;
    let ms = time::Duration::milliseconds;
    let entries = [
        NewEntry::new(T0, "auth.login.success", Outcome::Success)
            .actor("alice")
            .ip(IpAddr::from([192, 0, 2, 1]))
            .subject("account", "alice")
            .organisation("o1"),
        NewEntry::new(T0 + ms(1000), "auth.login.failure", Outcome::Failure)
            .ip("2001:db8::1".parse()?)
            .subject("account", "alice")
            .organisation("o1")
            .detail(serde_json::json!({ "reason": "wrong password" })),
        // Nanoseconds: stored (and returned) truncated to microseconds.
        NewEntry::new(
            T0 + time::Duration::nanoseconds(1_500_000_999),
            "auth.refresh.reuse",
            Outcome::Denied,
        )
        .actor("alice")
        .subject("session", "s1")
        .organisation("o1"),
        NewEntry::new(T0 + ms(2000), "account.deactivate", Outcome::Success)
            .actor("bob")
            .subject("account", "carol")
            .organisation("o2"),
        // Another offset: stored in UTC. `_` in the action tests that prefixes are literal.
        NewEntry::new(
            datetime!(2025-03-01 11:00:03 +02:00),
            "auth_odd.thing",
            Outcome::Denied,
        ),
    ];
    let mut written = Vec::new();
    for e in &entries {
        written.push(append(&t.db, e).await?);
    }
    assert_eq!(written[2].at, datetime!(2025-03-01 09:00:01.500000 UTC));
    assert_eq!(written[4].at, datetime!(2025-03-01 09:00:03 UTC));
    assert_eq!(written[4].at.offset(), time::UtcOffset::UTC);

    let seqs = |filter: Filter| {
        let db = t.db.clone();
        async move {
            let found = search(&db, &filter).await?;
            anyhow::Ok(found.iter().map(|e| e.seq).collect::<Vec<_>>())
        }
    };
    let f = Filter::default;
    let some = |s: &str| Some(s.to_owned());

    assert_eq!(seqs(f()).await?, [5, 4, 3, 2, 1]);
    assert_eq!(
        seqs(Filter {
            actor_id: some("alice"),
            ..f()
        })
        .await?,
        [3, 1]
    );
    assert_eq!(
        seqs(Filter {
            subject_type: some("account"),
            subject_id: some("alice"),
            ..f()
        })
        .await?,
        [2, 1]
    );
    assert_eq!(
        seqs(Filter {
            subject_type: some("account"),
            ..f()
        })
        .await?,
        [4, 2, 1]
    );
    assert_eq!(
        seqs(Filter {
            organisation_id: some("o1"),
            ..f()
        })
        .await?,
        [3, 2, 1]
    );
    assert_eq!(
        seqs(Filter {
            action_prefix: some("auth.login"),
            ..f()
        })
        .await?,
        [2, 1]
    );
    assert_eq!(
        seqs(Filter {
            action_prefix: some("auth."),
            ..f()
        })
        .await?,
        [3, 2, 1]
    );
    assert_eq!(
        seqs(Filter {
            action_prefix: some("auth_"),
            ..f()
        })
        .await?,
        [5]
    );
    assert_eq!(
        seqs(Filter {
            action_prefix: some("AUTH."),
            ..f()
        })
        .await?,
        Vec::<i64>::new()
    );
    // From inclusive, until exclusive, with sub-second neighbours of whole-second bounds.
    assert_eq!(
        seqs(Filter {
            from: Some(T0 + ms(1000)),
            until: Some(T0 + ms(2000)),
            ..f()
        })
        .await?,
        [3, 2]
    );
    assert_eq!(
        seqs(Filter {
            from: Some(T0 + ms(1500)),
            ..f()
        })
        .await?,
        [5, 4, 3]
    );
    assert_eq!(
        seqs(Filter {
            until: Some(datetime!(2025-03-01 10:00:01.5 +01:00)),
            ..f()
        })
        .await?,
        [2, 1]
    );
    assert_eq!(
        seqs(Filter {
            limit: Some(2),
            ..f()
        })
        .await?,
        [5, 4]
    );
    assert_eq!(
        seqs(Filter {
            actor_id: some("alice"),
            action_prefix: some("auth.refresh"),
            organisation_id: some("o1"),
            ..f()
        })
        .await?,
        [3]
    );
    assert_eq!(
        seqs(Filter {
            actor_id: some("nobody"),
            ..f()
        })
        .await?,
        Vec::<i64>::new()
    );

    // What search returns is what append returned, field for field.
    let mut found = all(&t.db).await?;
    assert_eq!(found, written);
    let second = found.swap_remove(1);
    assert_eq!(second.actor_id, None);
    assert_eq!(second.actor_ip, Some("2001:db8::1".parse()?));
    assert_eq!(second.detail["reason"], "wrong password");
    assert!(verify(&t.db).await?.is_ok());
    t.close().await;
    Ok(())
}
