//! Demo data for `extranet demo`: a realistic register with two years of history (hosting in
//! Belgium, an IT network partner, a CRM, a newsletter service, an accounting firm, and a hosting
//! company replaced last year), one open notice with an objection to decide, and a decided
//! objection. Written once: a register that already has entries is left alone.

use extranet_platform::{Clock, Db, on_pool, write_tx};
use uuid::Uuid;

use crate::entry::{Entry, Location, Snapshot};
use crate::error::{Result, SubprocessorsError};
use crate::store::Conn;

const DAY: i64 = 86_400;

#[allow(clippy::too_many_arguments)]
fn entry(
    name: &str,
    number: &str,
    site: &str,
    service: &str,
    data: &[&str],
    subjects: &[&str],
    countries: &[&str],
    agreement: &str,
) -> Entry {
    Entry {
        legal_name: name.into(),
        registration_number: number.into(),
        website: site.into(),
        service: service.into(),
        data_categories: data.iter().map(|s| (*s).to_owned()).collect(),
        subject_categories: subjects.iter().map(|s| (*s).to_owned()).collect(),
        locations: countries
            .iter()
            .map(|c| Location {
                country: (*c).to_owned(),
                mechanism: None,
            })
            .collect(),
        agreement_date: Some(agreement.into()),
    }
}

/// Who the demo's objections come from: (organisation, person) of two client companies.
pub struct Objectors {
    pub first: (Uuid, Uuid),
    pub second: (Uuid, Uuid),
}

/// Seeds the register; `coordinator` drafted the notices.
pub async fn demo(db: &Db, clock: &dyn Clock, coordinator: Uuid, who: &Objectors) -> Result<()> {
    let any: Option<(Uuid,)> = on_pool!(db, read, |pool| {
        sqlx::query_as("SELECT id FROM subprocessor LIMIT 1")
            .fetch_optional(pool)
            .await
    })?;
    if any.is_some() {
        return Ok(());
    }
    let now = clock.now().unix_timestamp();
    let ago = |days: i64| now - days * DAY;
    let hosting_old = entry(
        "Serverpark Antwerpen BV",
        "0456.789.123",
        "https://serverpark.example",
        "Hosting of the extranet (until its replacement)",
        &["identification", "contact", "account", "usage", "documents"],
        &["client_contacts", "inspectors", "staff"],
        &["BE"],
        "2024-09-02",
    );
    let hosting = entry(
        "DataCenter Gent NV",
        "0678.123.456",
        "https://datacenter-gent.example",
        "Hosting of the extranet and its backups",
        &["identification", "contact", "account", "usage", "documents"],
        &["client_contacts", "inspectors", "staff"],
        &["BE"],
        "2025-10-15",
    );
    let network = entry(
        "NetPartners BV",
        "0789.456.123",
        "https://netpartners.example",
        "IT network, workstations and support",
        &["identification", "contact", "account", "usage"],
        &["staff", "inspectors"],
        &["BE"],
        "2024-11-20",
    );
    let mut network_after = network.clone();
    network_after.locations.push(Location {
        country: "NL".into(),
        mechanism: None,
    });
    network_after.service = "IT network, workstations and support (support desk in Breda)".into();
    let crm = entry(
        "KlantRelatie Cloud NV",
        "0712.345.678",
        "https://klantrelatie.example",
        "Customer relationship management",
        &[
            "identification",
            "contact",
            "professional",
            "correspondence",
        ],
        &["client_contacts", "applicants"],
        &["BE", "IE"],
        "2025-01-10",
    );
    let newsletter = entry(
        "Nieuwsbrief Diensten BV",
        "0823.456.789",
        "https://nieuwsbrief.example",
        "Sending the newsletter",
        &["identification", "contact"],
        &["newsletter_subscribers"],
        &["NL"],
        "2025-03-01",
    );
    let accounting = entry(
        "Boekhouding Vermeulen & Co",
        "0834.567.891",
        "https://vermeulen-boekhouding.example",
        "Accounting and invoicing",
        &["identification", "contact", "financial"],
        &["client_contacts", "inspectors"],
        &["BE"],
        "2025-02-14",
    );
    let relay = entry(
        "MailRelay Europe SA",
        "B123456",
        "https://mailrelay.example",
        "Delivery of the extranet's e-mail (links, notices, reminders)",
        &["identification", "contact", "usage"],
        &["client_contacts", "inspectors", "staff"],
        &["LU"],
        "2026-11-20",
    );
    // (entry id, entry as added, day added (days ago))
    let ids: Vec<Uuid> = (0..7).map(|_| Uuid::now_v7()).collect();
    let added = [
        (ids[0], hosting_old.clone(), 730),
        (ids[2], network.clone(), 700),
        (ids[3], crm.clone(), 600),
        (ids[4], newsletter.clone(), 500),
        (ids[5], accounting.clone(), 420),
    ];
    let notice = |kind: &str| (Uuid::now_v7(), kind.to_owned());
    let (replace_id, _) = notice("replace");
    let (change_id, _) = notice("change");
    let (open_id, _) = notice("add");
    write_tx!(db, |tx| async {
        for (id, e, days) in &added {
            let n = Uuid::now_v7();
            let published = ago(days + 35);
            let effective = ago(*days);
            insert_notice(&mut *tx, n, "add", None, Some(*id), Some(e), "A new subprocessor.", effective, "applied", coordinator, published).await?;
            let announced = Snapshot { entry: e.clone(), state: "announced".into() };
            tx.insert_entry(*id, &announced, published).await?;
            tx.record_change(*id, published, "announced", Some(n), None, &announced).await?;
            let active = Snapshot { entry: e.clone(), state: "active".into() };
            tx.update_entry(*id, &active, effective).await?;
            tx.record_change(*id, effective, "activated", Some(n), None, &active).await?;
        }
        // Last year: the hosting moved from Antwerp to Ghent.
        let (published, effective) = (ago(400), ago(365));
        insert_notice(&mut *tx, replace_id, "replace", Some(ids[0]), Some(ids[1]), Some(&hosting),
            "The extranet moves to a data centre in Ghent with a second site for backups.",
            effective, "applied", coordinator, published).await?;
        let announced = Snapshot { entry: hosting.clone(), state: "announced".into() };
        tx.insert_entry(ids[1], &announced, published).await?;
        tx.record_change(ids[1], published, "announced", Some(replace_id), None, &announced).await?;
        let active = Snapshot { entry: hosting.clone(), state: "active".into() };
        tx.update_entry(ids[1], &active, effective).await?;
        tx.record_change(ids[1], effective, "activated", Some(replace_id), None, &active).await?;
        let retired = Snapshot { entry: hosting_old.clone(), state: "retired".into() };
        tx.update_entry(ids[0], &retired, effective).await?;
        tx.record_change(ids[0], effective, "retired", Some(replace_id), None, &retired).await?;
        // Ten months ago: the network partner's support desk in the Netherlands, objected to and
        // the objection rejected.
        let (published, effective) = (ago(335), ago(300));
        insert_notice(&mut *tx, change_id, "change", Some(ids[2]), None, Some(&network_after),
            "NetPartners opens a support desk in Breda (the Netherlands), which may see staff and inspector accounts.",
            effective, "applied", coordinator, published).await?;
        let changed = Snapshot { entry: network_after.clone(), state: "active".into() };
        tx.update_entry(ids[2], &changed, effective).await?;
        tx.record_change(ids[2], effective, "changed", Some(change_id), None, &changed).await?;
        sqlx::query(
            "INSERT INTO subprocessor_objection (id, notice_id, organisation_id, author_id, reasons, \
             state, decision_note, decided_by, decided_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'rejected', $6, $7, $8, $9, $9)",
        )
        .bind(Uuid::now_v7())
        .bind(change_id)
        .bind(who.second.0)
        .bind(who.second.1)
        .bind("<p>We prefer our data to stay in <strong>Belgium</strong>.</p>")
        .bind("The Netherlands are in the EEA and the support desk works under the same agreement; no data leaves the EEA.")
        .bind(coordinator)
        .bind(ago(310))
        .bind(ago(320))
        .execute(&mut *tx)
        .await?;
        // Now: a new mail relay, announced five days ago, with an objection to decide.
        let (published, effective) = (ago(5), ago(5) + 35 * DAY);
        let effective = effective - effective.rem_euclid(DAY);
        insert_notice(&mut *tx, open_id, "add", None, Some(ids[6]), Some(&relay),
            "Our e-mail (sign-in links, notices, reminders) will be delivered through MailRelay Europe in Luxembourg.",
            effective, "published", coordinator, published).await?;
        let announced = Snapshot { entry: relay.clone(), state: "announced".into() };
        tx.insert_entry(ids[6], &announced, published).await?;
        tx.record_change(ids[6], published, "announced", Some(open_id), None, &announced).await?;
        sqlx::query(
            "INSERT INTO subprocessor_objection (id, notice_id, organisation_id, author_id, reasons, \
             state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(open_id)
        .bind(who.first.0)
        .bind(who.first.1)
        .bind("<p>Our contract says our contacts' data is processed <em>in Belgium</em>.</p><ul><li>Can the relay keep no copy of the messages?</li></ul>")
        .bind(ago(2))
        .execute(&mut *tx)
        .await?;
        Ok::<(), SubprocessorsError>(())
    }.await)
    .await
}

#[allow(clippy::too_many_arguments)]
async fn insert_notice<C: Conn + ?Sized>(
    tx: &mut C,
    id: Uuid,
    kind: &str,
    subprocessor: Option<Uuid>,
    new_entry: Option<Uuid>,
    proposal: Option<&Entry>,
    summary: &str,
    effective: i64,
    state: &str,
    by: Uuid,
    published: i64,
) -> Result<()> {
    tx.insert_notice(
        id,
        kind,
        subprocessor,
        new_entry,
        &serde_json::to_string(&proposal)?,
        summary,
        effective,
        state,
        by,
        published,
    )
    .await
}
