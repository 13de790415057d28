//! The demo's rights requests, filed and worked through the rights service itself (receipts
//! signed, history, mails, audit records as in real use): one open, one extended, one overdue,
//! and one access request fulfilled with its report. Loaded once.

use std::sync::Arc;

use anyhow::Context;
use extranet_access::Policy;
use extranet_directory::{Caller, seed};
use extranet_identity::EmailAddress;

use extranet_platform::{Clock, Db, settings};
use extranet_rights::filing::NewRequest;
use extranet_rights::workflow::Step;
use extranet_rights::{CarryOut, Rights, Who};
use uuid::Uuid;

const KEY: &str = "demo.rights";

/// The wall clock, some time ago.
struct Earlier(time::Duration);

impl Clock for Earlier {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc() - self.0
    }
}

async fn person(db: &Db, email: &str) -> anyhow::Result<Uuid> {
    let address: EmailAddress = email.parse()?;
    seed::person_by_email(db, &address.normalized())
        .await?
        .with_context(|| format!("demo person {email}"))
}

async fn caller(db: &Db, policy: &Policy, email: &str) -> anyhow::Result<Caller> {
    Ok(Caller::current(db, policy, person(db, email).await?, None).await?)
}

fn who(c: &Caller) -> Who<'_> {
    Who {
        person: c.person,
        grants: &c.grants,
        ip: None,
    }
}

async fn file(
    rights: &Rights,
    c: &Caller,
    asked: &[&str],
    details: &str,
    proposals: &[(&str, &str)],
) -> anyhow::Result<Uuid> {
    let req = NewRequest {
        rights: asked.iter().map(|r| (*r).to_owned()).collect(),
        details: details.into(),
        email: None,
        proposals: proposals
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    };
    Ok(rights.file(&who(c), &req).await?.inner().id)
}

pub async fn seed(
    db: &Db,
    clock: &dyn Clock,
    rights: &Rights,
    policy: &Policy,
) -> anyhow::Result<()> {
    if settings::get(db, KEY).await?.as_deref() == Some("1") {
        return Ok(());
    }
    let po = caller(db, policy, "privacy@certibel.example").await?;
    let coordinator = who(&po);

    // Open: a contact asks for access and proposes a correction of her function.
    let emma = caller(db, policy, "user@betonbouw.example").await?;
    file(
        rights,
        &emma,
        &["access", "rectification"],
        "Welke gegevens bewaart u over mij? Mijn functie is ook veranderd.",
        &[("function", "Kwaliteitsverantwoordelijke")],
    )
    .await?;

    // Extended: the portability archive takes longer; the reason is mailed.
    let luc = caller(db, policy, "admin@hoogwerkers.example").await?;
    let extended = file(
        rights,
        &luc,
        &["portability"],
        "Graag al mijn gegevens in een bruikbaar formaat.",
        &[],
    )
    .await?;
    rights
        .step(
            &coordinator,
            extended,
            &Step::Extend {
                months: 2,
                reason: "De gegevens moeten uit twee archieven samengebracht worden.".into(),
            },
        )
        .await?;

    // Overdue: received forty days ago and not answered.
    let nora = caller(db, policy, "user@hoogwerkers.example").await?;
    let earlier = rights.on_clock(Arc::new(Earlier(time::Duration::days(40))));
    file(
        &earlier,
        &nora,
        &["erasure"],
        "Ik werk niet meer bij Hoogwerkers; wis mijn gegevens.",
        &[],
    )
    .await?;
    // Fulfilled: an access request, its report generated, closed.
    let bart = caller(db, policy, "admin@betonbouw.example").await?;
    let fulfilled = file(
        rights,
        &bart,
        &["access"],
        "Een kopie van alles wat u over mij bewaart.",
        &[],
    )
    .await?;
    rights
        .step(
            &coordinator,
            fulfilled,
            &Step::Assign {
                assignee: po.person,
            },
        )
        .await?;
    rights
        .carry_out(
            &po,
            fulfilled,
            &CarryOut {
                right: "access".into(),
                accept: Vec::new(),
            },
        )
        .await?;
    rights
        .step(
            &coordinator,
            fulfilled,
            &Step::Close {
                outcome: "fulfilled".into(),
                note: "Uw rapport staat klaar op de pagina van uw verzoek.".into(),
                ground: None,
            },
        )
        .await?;
    settings::set(db, clock, KEY, "1").await?;
    Ok(())
}
