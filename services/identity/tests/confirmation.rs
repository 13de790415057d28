//! Two instances (two handles on one database, each with its own `Reminder`) looking for people
//! to ask at the same moment: every due person is asked exactly once, on both engines, across
//! more than one batch.

use std::sync::Arc;
use std::time::Duration;

use extranet_identity::confirmation::Reminder;
use extranet_identity::model::{NewOrganisation, NewPerson, OrganisationKind, Role};
use extranet_identity::{Gender, Language, store};
use extranet_notify::{MailTransport, Sender};
use extranet_platform::db::DbTarget;
use extranet_platform::{Clock, Db, DbOptions, SystemClock, on_pool};
use extranet_tests::backends::PgDatabase;
use time::OffsetDateTime;

/// A clock set well past everyone's interval.
struct Later(OffsetDateTime);

impl Clock for Later {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

const PEOPLE: usize = 130; // more than one batch of 100

fn reminder(db: Db, clock: Arc<dyn Clock>, mail: &std::path::Path) -> anyhow::Result<Reminder> {
    let sender = Sender::new(
        db.clone(),
        clock.clone(),
        "Extranet <extranet@cert.example>",
        &MailTransport::Files(mail.to_path_buf()),
        Duration::from_secs(60),
    )?;
    Ok(Reminder {
        db,
        clock,
        base_url: "https://extranet.example.org".into(),
        site_name: "CertiBel".into(),
        sender: Arc::new(sender),
        interval: Duration::from_secs(365 * 24 * 3600),
        check_every: Duration::from_secs(3600),
    })
}

async fn count(db: &Db, sql: &'static str) -> anyhow::Result<i64> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await
    })?)
}

async fn two_instances(kind: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (target, pg) = match kind {
        "sqlite" => (DbTarget::Sqlite(dir.path().join("t.db")), None),
        _ => {
            let pg = PgDatabase::create().await?;
            (DbTarget::Postgres(pg.url.clone()), Some(pg))
        }
    };
    let a = Db::connect(&target, &DbOptions::default()).await?;
    a.migrate().await?;
    let b = Db::connect(&target, &DbOptions::default()).await?;

    let org = store::create_organisation(
        &a,
        &SystemClock,
        &NewOrganisation {
            kind: OrganisationKind::Client,
            name: "Beton West".into(),
            enterprise_number: None,
            vat_number: None,
            addresses: Vec::new(),
            phone: None,
            fax: None,
            sector: None,
        },
    )
    .await?;
    for i in 0..PEOPLE {
        let new = NewPerson {
            organisation_id: org.id,
            surname: "Persoon".into(),
            first_name: format!("P{i}"),
            email: format!("p{i}@west.example").parse()?,
            phone: None,
            mobile: None,
            fax: None,
            function: None,
            gender: Gender::Unspecified,
            language: Language::Fr,
            training_valid_until: None,
            birth_date: None,
            licence_plates: Vec::new(),
            roles: vec![Role::ClientUser],
        };
        store::create_person(&a, &SystemClock, &new, Some("not-a-real-hash")).await?;
    }

    let later: Arc<dyn Clock> =
        Arc::new(Later(OffsetDateTime::now_utc() + time::Duration::days(400)));
    let ra = reminder(a.clone(), later.clone(), &dir.path().join("mail-a"))?;
    let rb = reminder(b.clone(), later.clone(), &dir.path().join("mail-b"))?;
    let (na, nb) = tokio::join!(ra.request_due(), rb.request_due());
    let (na, nb) = (na?, nb?);
    assert_eq!(na + nb, PEOPLE, "a queued {na}, b queued {nb}");

    let queued = count(
        &a,
        "SELECT COUNT(*) FROM outbox WHERE template = 'data-confirmation'",
    )
    .await?;
    let distinct = count(
        &a,
        "SELECT COUNT(DISTINCT recipient) FROM outbox WHERE template = 'data-confirmation'",
    )
    .await?;
    let audited = count(
        &a,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'account.confirmation.requested'",
    )
    .await?;
    let asked = count(
        &a,
        "SELECT COUNT(*) FROM person WHERE confirmation_requested_at IS NOT NULL",
    )
    .await?;
    let expected = i64::try_from(PEOPLE)?;
    assert_eq!(
        (queued, distinct, audited, asked),
        (expected, expected, expected, expected)
    );

    // Asked within the interval: nobody again, from either instance.
    let (na, nb) = tokio::join!(ra.request_due(), rb.request_due());
    assert_eq!((na?, nb?), (0, 0));

    a.close().await;
    b.close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_ask_each_person_once_on_sqlite() -> anyhow::Result<()> {
    two_instances("sqlite").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_ask_each_person_once_on_postgres() -> anyhow::Result<()> {
    two_instances("postgres").await
}
