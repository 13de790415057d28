//! What authorization and masking cost on a list of people, in process, on a real SQLite
//! database in a temporary directory: one client organisation with 100 people (every field
//! filled, some roles and delegated rights), listed by the organisation's primary contact.
//!
//! Targets, interleaved over several rounds (medians, because a shared virtual machine has slow
//! spells that would otherwise hit one target and not another):
//!
//! - (a) baseline: the same list with no authorization and no masking — one SQL query selecting
//!   the organisation's 100 people (roles and rights included, as sub-selects) into plain structs,
//!   serialised to JSON — the same shape as the real path's one query; (a2) the same data in two
//!   queries (people, then their roles and rights), the shape the real path had before it read
//!   roles and rights in its one query, kept for comparison;
//! - (b) the real path: `Caller::from_token` for a client_admin, `people::list(…, Action::List, …)`
//!   (SQL scoped by the policy, masking, and the audit record of the read: one write
//!   transaction), the `Masked<PersonView>` values serialised to JSON;
//! - (b′) the same without the audit write (`people::visible`);
//! - (c) in memory, no SQL: the grants of the caller and 100 `Masked<PersonView>` built and
//!   serialised, against 100 plain structs of the same fields built and serialised; and the same
//!   for a staff caller, who sees every field (the same output as the plain structs).
//!
//! Each target is timed in wall-clock time and in the CPU time of the whole process (every thread,
//! SQLite's included, from `/proc/self/task/*/schedstat`): the ratios are given per both, and the
//! breakdown in CPU time, which other work on a shared machine disturbs less.
//!
//! `cargo bench -p extranet-directory --bench list`. Prints figures; fails only on an error.
//! `LIST_BENCH_SECONDS` (default 1) is the time given to each target in each round,
//! `BENCH_ROUNDS` (default 5) the number of rounds, `LIST_BENCH_OTHER_PEOPLE` (default 0) how
//! many people of other organisations (50 per organisation) share the table.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use extranet_access::{Action, Masked, PersonView, Policy, PolicySource};
use extranet_directory::Caller;
use extranet_directory::people::{self, PersonQuery};
use extranet_identity::model::{NewOrganisation, NewPerson, OrganisationKind, Role};
use extranet_identity::{Gender, Language, password, store};
use extranet_platform::db::DbTarget;
use extranet_platform::{Clock, Db, DbOptions, SystemClock, on_pool};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

const PEOPLE: usize = 100;

fn main() -> anyhow::Result<()> {
    // One worker, as the HTTP benchmark gives the server one core.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse::<T>()
            .map_err(|_| anyhow::anyhow!("{name}: not a number: {v}")),
        Err(_) => Ok(default),
    }
}

/// A person as the baseline handler serves it: the same fields as `PersonView`, no masking.
#[derive(Debug, Clone, Serialize)]
struct PlainPerson {
    id: Uuid,
    organisation_id: Uuid,
    surname: String,
    first_name: String,
    email: String,
    phone: Option<String>,
    mobile: Option<String>,
    fax: Option<String>,
    function: Option<String>,
    gender: String,
    language: String,
    training_valid_until: Option<String>,
    birth_date: Option<String>,
    licence_plates: Vec<String>,
    state: String,
    roles: Vec<String>,
    rights: Vec<String>,
    created_at: String,
}

#[derive(sqlx::FromRow)]
struct PlainRow {
    id: Uuid,
    organisation_id: Uuid,
    surname: String,
    first_name: String,
    email: String,
    phone: Option<String>,
    mobile: Option<String>,
    fax: Option<String>,
    function: Option<String>,
    gender: String,
    language: String,
    training_valid_until: Option<time::Date>,
    birth_date: Option<time::Date>,
    licence_plates: Option<String>,
    state: String,
    created_at: OffsetDateTime,
    roles: Option<String>,
    rights: Option<String>,
}

/// The baseline's one query (SQLite: the bench runs on SQLite).
const PLAIN_SQL: &str = "SELECT p.id, p.organisation_id, p.surname, p.first_name, p.email, \
    p.phone, p.mobile, p.fax, p.function, p.gender, p.language, p.training_valid_until, \
    p.birth_date, (SELECT group_concat(licence_plate, ',') FROM vehicle v \
        WHERE v.person_id = p.id) AS licence_plates, p.state, p.created_at, \
    (SELECT group_concat(role, ',') FROM (SELECT role FROM person_role r \
        WHERE r.person_id = p.id ORDER BY role)) AS roles, \
    (SELECT group_concat(right_name, ',') FROM (SELECT right_name FROM person_right g \
        WHERE g.person_id = p.id ORDER BY right_name)) AS rights \
    FROM person p WHERE p.organisation_id = $1 \
    ORDER BY p.surname, p.first_name, p.id LIMIT $2";

/// The two-query baseline's first query: the people alone.
const PLAIN_PEOPLE_SQL: &str = "SELECT p.id, p.organisation_id, p.surname, p.first_name, p.email, \
    p.phone, p.mobile, p.fax, p.function, p.gender, p.language, p.training_valid_until, \
    p.birth_date, NULL AS licence_plates, p.state, p.created_at, NULL AS roles, NULL AS rights \
    FROM person p WHERE p.organisation_id = $1 \
    ORDER BY p.surname, p.first_name, p.id LIMIT $2";

/// The two-query baseline's second query: their roles and rights.
const PLAIN_GRANTS_SQL: &str = "SELECT r.person_id, 'role' AS kind, r.role AS name \
    FROM person_role r JOIN person p ON p.id = r.person_id WHERE p.organisation_id = $1 \
    UNION ALL SELECT g.person_id, 'right' AS kind, g.right_name AS name \
    FROM person_right g JOIN person p ON p.id = g.person_id WHERE p.organisation_id = $1";

fn split(list: Option<String>) -> Vec<String> {
    list.map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

impl From<PlainRow> for PlainPerson {
    fn from(r: PlainRow) -> PlainPerson {
        PlainPerson {
            id: r.id,
            organisation_id: r.organisation_id,
            surname: r.surname,
            first_name: r.first_name,
            email: r.email,
            phone: r.phone,
            mobile: r.mobile,
            fax: r.fax,
            function: r.function,
            gender: r.gender,
            language: r.language,
            training_valid_until: r.training_valid_until.map(|d| d.to_string()),
            birth_date: r.birth_date.map(|d| d.to_string()),
            licence_plates: split(r.licence_plates),
            state: r.state,
            roles: split(r.roles),
            rights: split(r.rights),
            created_at: r.created_at.format(&Rfc3339).unwrap_or_default(),
        }
    }
}

impl PlainPerson {
    fn view(&self) -> PersonView {
        PersonView {
            id: self.id,
            organisation_id: self.organisation_id,
            surname: self.surname.clone(),
            first_name: self.first_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            mobile: self.mobile.clone(),
            fax: self.fax.clone(),
            function: self.function.clone(),
            gender: self.gender.clone(),
            language: self.language.clone(),
            training_valid_until: self.training_valid_until.clone(),
            birth_date: self.birth_date.clone(),
            licence_plates: self.licence_plates.clone(),
            state: self.state.clone(),
            roles: self.roles.clone(),
            rights: self.rights.clone(),
            created_at: self.created_at.clone(),
        }
    }
}

struct Fixture {
    db: Db,
    clock: Arc<dyn Clock>,
    policy: Policy,
    organisation: Uuid,
    admin: Uuid,
    admin_roles: Vec<String>,
    staff_roles: Vec<String>,
    /// The organisation's people as the baseline fetched them (the input of (c)).
    rows: Vec<PlainPerson>,
}

async fn organisation(db: &Db, clock: &dyn Clock, name: &str) -> anyhow::Result<Uuid> {
    Ok(store::create_organisation(
        db,
        clock,
        &NewOrganisation {
            kind: OrganisationKind::Client,
            name: name.into(),
            enterprise_number: None,
            vat_number: None,
            addresses: Vec::new(),
            phone: Some("+32 9 000 00 00".into()),
            fax: None,
            sector: Some("Ready-mixed concrete".into()),
        },
    )
    .await?
    .id)
}

const SURNAMES: [&str; 10] = [
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
    "Dubois",
];
const FIRST_NAMES: [&str; 10] = [
    "An", "Bart", "Chloé", "Dirk", "Els", "Frank", "Griet", "Hugo", "Inge", "Jan",
];

async fn setup(dir: &std::path::Path, others: usize) -> anyhow::Result<Fixture> {
    let db = Db::connect(
        &DbTarget::Sqlite(dir.join("bench.db")),
        &DbOptions::default(),
    )
    .await?;
    db.migrate().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let org = organisation(&db, clock.as_ref(), "Betonbouw NV").await?;
    // One hash for everyone: the people are active accounts, and argon2id is not what is measured.
    let hash = password::hash("a-bench-password-Correct-Horse-Battery")?;
    let mut admin = None;
    for i in 0..PEOPLE {
        let roles = match i {
            0 | 1 => vec![Role::ClientAdmin],
            _ => vec![Role::ClientUser],
        };
        let person = store::create_person(
            &db,
            clock.as_ref(),
            &NewPerson {
                organisation_id: org,
                surname: format!("{} {i:03}", SURNAMES[i % 10]),
                first_name: FIRST_NAMES[(i / 10) % 10].into(),
                email: format!("person{i:03}@betonbouw.example").parse()?,
                phone: Some(format!("+32 9 123 45 {:02}", i % 100)),
                mobile: Some(format!("+32 470 12 34 {:02}", i % 100)),
                fax: Some("+32 9 123 45 99".into()),
                function: Some("Quality manager".into()),
                gender: if i % 2 == 0 { Gender::Ms } else { Gender::Mr },
                language: if i % 3 == 0 {
                    Language::Fr
                } else {
                    Language::Nl
                },
                training_valid_until: Some(time::macros::date!(2027 - 06 - 30)),
                birth_date: Some(
                    time::macros::date!(1980 - 01 - 01) + time::Duration::days(i as i64 * 97),
                ),
                licence_plates: vec![format!("1-ABC-{i:03}").parse()?],
                roles,
            },
            Some(&hash),
        )
        .await?;
        if i == 0 {
            admin = Some(person.id);
        }
        // Some contacts hold rights delegated by the primary contact.
        if i % 4 == 1 {
            let now = clock.now();
            for right in ["document.read", "document.upload"] {
                on_pool!(&db, write, |pool| {
                    sqlx::query(
                        "INSERT INTO person_right (person_id, right_name, granted_by, granted_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(person.id)
                    .bind(right)
                    .bind(admin)
                    .bind(now)
                    .execute(pool)
                    .await
                    .map(|_| ())
                })?;
            }
        }
    }
    let admin = admin.context("no primary contact")?;
    // People of other organisations, when asked for: the scoped query must leave them out.
    for n in 0..others.div_ceil(50) {
        let other = organisation(&db, clock.as_ref(), &format!("Other {n}")).await?;
        for i in 0..50.min(others - n * 50) {
            store::create_person(
                &db,
                clock.as_ref(),
                &NewPerson {
                    organisation_id: other,
                    surname: format!("Other {i}"),
                    first_name: "X".into(),
                    email: format!("p{i}@other{n}.example").parse()?,
                    phone: Some("+32 2 000 00 00".into()),
                    mobile: None,
                    fax: None,
                    function: None,
                    gender: Gender::Unspecified,
                    language: Language::En,
                    training_valid_until: None,
                    birth_date: None,
                    licence_plates: Vec::new(),
                    roles: vec![Role::ClientUser],
                },
                None,
            )
            .await?;
        }
    }
    let policy = Policy::load(&PolicySource::embedded()).await?;
    let mut fixture = Fixture {
        db,
        clock,
        policy,
        organisation: org,
        admin,
        admin_roles: vec!["client_admin".to_owned()],
        staff_roles: vec!["staff".to_owned()],
        rows: Vec::new(),
    };
    fixture.rows = baseline_rows(&fixture).await?;
    anyhow::ensure!(
        fixture.rows.len() == PEOPLE,
        "baseline found {} people",
        fixture.rows.len()
    );
    Ok(fixture)
}

async fn baseline_rows(f: &Fixture) -> anyhow::Result<Vec<PlainPerson>> {
    let rows: Vec<PlainRow> = on_pool!(&f.db, read, |pool| {
        sqlx::query_as(PLAIN_SQL)
            .bind(f.organisation)
            .bind(PEOPLE as i64)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().map(PlainPerson::from).collect())
}

/// The baseline in the shape of the real path: people, then their roles and rights.
async fn baseline_two_queries(f: &Fixture) -> anyhow::Result<Vec<PlainPerson>> {
    let rows: Vec<PlainRow> = on_pool!(&f.db, read, |pool| {
        sqlx::query_as(PLAIN_PEOPLE_SQL)
            .bind(f.organisation)
            .bind(PEOPLE as i64)
            .fetch_all(pool)
            .await
    })?;
    let grants: Vec<(Uuid, String, String)> = on_pool!(&f.db, read, |pool| {
        sqlx::query_as(PLAIN_GRANTS_SQL)
            .bind(f.organisation)
            .fetch_all(pool)
            .await
    })?;
    let mut by_person: HashMap<Uuid, (Vec<String>, Vec<String>)> = HashMap::new();
    for (id, kind, name) in grants {
        let slot = by_person.entry(id).or_default();
        if kind == "role" {
            slot.0.push(name);
        } else {
            slot.1.push(name);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let (mut roles, mut rights) = by_person.remove(&r.id).unwrap_or_default();
            roles.sort();
            rights.sort();
            PlainPerson {
                roles,
                rights,
                ..PlainPerson::from(r)
            }
        })
        .collect())
}

fn query() -> PersonQuery {
    // What `GET /api/v1/people` asks for with no parameters.
    PersonQuery {
        limit: 100,
        ..PersonQuery::default()
    }
}

fn caller(f: &Fixture) -> Caller {
    caller_as(f, &f.admin_roles)
}

fn caller_as(f: &Fixture, roles: &[String]) -> Caller {
    Caller::from_token(
        &f.policy,
        f.admin,
        f.organisation,
        roles,
        Some(std::net::Ipv4Addr::LOCALHOST.into()),
    )
}

/// (c): the caller's grants, then every record masked for them, serialised.
fn masked_in_memory(f: &Fixture, roles: &[String]) -> anyhow::Result<usize> {
    let caller = caller_as(f, roles);
    let relation = caller.relation();
    let people: Vec<Masked<PersonView>> = std::hint::black_box(&f.rows)
        .iter()
        .map(|p| {
            let rel = relation.of(Some(p.organisation_id), Some(p.id), false);
            Masked::new(p.view(), caller.grants.visible::<PersonView>(rel))
        })
        .collect();
    Ok(serde_json::to_vec(&people)?.len())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// (a) one query, plain structs, JSON.
    Baseline,
    /// (a2) two queries (people; roles and rights), plain structs, JSON.
    BaselineTwo,
    /// (b) `people::list`: scoped SQL, masking, audit record; JSON.
    Real,
    /// (b′) `people::visible`: scoped SQL, masking; JSON.
    RealUnrecorded,
    /// (c) in memory: 100 plain structs built and serialised.
    MemPlain,
    /// (c) in memory: grants + 100 `Masked<PersonView>` built and serialised.
    MemMasked,
    /// (c) the same for staff, who see every field: the same output as the plain structs.
    MemMaskedAll,
    /// The grants alone (`Caller::from_token`).
    Grants,
}

const TARGETS: [Target; 8] = [
    Target::Baseline,
    Target::BaselineTwo,
    Target::Real,
    Target::RealUnrecorded,
    Target::MemPlain,
    Target::MemMasked,
    Target::MemMaskedAll,
    Target::Grants,
];

impl Target {
    fn label(self) -> &'static str {
        match self {
            Target::Baseline => "(a)  baseline: 1 query, plain JSON",
            Target::BaselineTwo => "(a2) baseline: 2 queries (old shape), plain JSON",
            Target::Real => "(b)  people::list (scoped, masked, audited)",
            Target::RealUnrecorded => "(b') people::visible (no audit write)",
            Target::MemPlain => "(c)  in memory: 100 plain structs",
            Target::MemMasked => "(c)  in memory: grants + 100 Masked",
            Target::MemMaskedAll => "(c)  same, staff (all fields visible)",
            Target::Grants => "     grants alone (Caller::from_token)",
        }
    }
}

/// One request of a target; returns the size of the JSON answer.
async fn once(f: &Fixture, target: Target) -> anyhow::Result<usize> {
    Ok(match target {
        Target::Baseline => {
            let people = baseline_rows(f).await?;
            serde_json::to_vec(&people)?.len()
        }
        Target::Real => {
            let caller = caller(f);
            let people =
                people::list(&f.db, f.clock.as_ref(), &caller, Action::List, &query()).await?;
            serde_json::to_vec(&people)?.len()
        }
        Target::RealUnrecorded => {
            let caller = caller(f);
            let people =
                people::visible(&f.db, f.clock.as_ref(), &caller, Action::List, &query()).await?;
            serde_json::to_vec(&people)?.len()
        }
        Target::MemPlain => {
            let people: Vec<PlainPerson> = std::hint::black_box(&f.rows).to_vec();
            serde_json::to_vec(&people)?.len()
        }
        Target::BaselineTwo => {
            let people = baseline_two_queries(f).await?;
            serde_json::to_vec(&people)?.len()
        }
        Target::MemMasked => masked_in_memory(f, &f.admin_roles)?,
        Target::MemMaskedAll => masked_in_memory(f, &f.staff_roles)?,
        Target::Grants => {
            std::hint::black_box(caller(f));
            0
        }
    })
}

/// CPU time used so far by every thread of this process (the runtime's and SQLite's worker
/// threads), in nanoseconds, from `/proc/self/task/*/schedstat`; `None` where there is none.
/// Less disturbed than wall-clock time by other work on a shared machine.
fn process_cpu_ns() -> Option<u64> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// Runs a target for `budget`; returns wall-clock seconds per request, and CPU seconds per
/// request when the platform tells.
async fn measure(
    f: &Fixture,
    target: Target,
    budget: Duration,
) -> anyhow::Result<(f64, Option<f64>)> {
    let cpu_before = process_cpu_ns();
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < budget {
        std::hint::black_box(once(f, target).await?);
        n += 1;
    }
    let wall = started.elapsed().as_secs_f64() / n as f64;
    let cpu = match (cpu_before, process_cpu_ns()) {
        (Some(a), Some(b)) if b >= a => Some((b - a) as f64 * 1e-9 / n as f64),
        _ => None,
    };
    Ok((wall, cpu))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.retain(|x| x.is_finite());
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn range(xs: &[f64]) -> (f64, f64) {
    (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

async fn run() -> anyhow::Result<()> {
    let seconds: f64 = env_number("LIST_BENCH_SECONDS", 1.0)?;
    anyhow::ensure!(
        seconds.is_finite() && seconds > 0.0,
        "LIST_BENCH_SECONDS must be more than 0"
    );
    let rounds: usize = env_number("BENCH_ROUNDS", 5usize)?.max(1);
    let others: usize = env_number("LIST_BENCH_OTHER_PEOPLE", 0usize)?;
    let budget = Duration::from_secs_f64(seconds);

    let dir = tempfile::tempdir()?;
    eprintln!("bench: seeding {PEOPLE} people (and {others} of other organisations)…");
    let f = setup(dir.path(), others).await?;

    // The answers, once: what each path serves, and that masking did hide something.
    let mut sizes = Vec::new();
    for t in TARGETS {
        sizes.push(once(&f, t).await?);
    }
    let real =
        people::visible(&f.db, f.clock.as_ref(), &caller(&f), Action::List, &query()).await?;
    anyhow::ensure!(
        real.len() == PEOPLE,
        "the primary contact sees {} people",
        real.len()
    );
    let masked_fields = real.first().map(Masked::masked).unwrap_or_default();

    // Warm-up, then interleaved rounds.
    for t in TARGETS {
        measure(&f, t, budget / 4).await?;
    }
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); TARGETS.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); TARGETS.len()];
    for round in 0..rounds {
        // Rotate the order each round, so that no target always follows the same one.
        for k in 0..TARGETS.len() {
            let i = (k + round) % TARGETS.len();
            let (wall, used) = measure(&f, TARGETS[i], budget).await?;
            per[i].push(wall);
            cpu[i].push(used.unwrap_or(f64::NAN));
        }
    }
    let at = |t: Target| TARGETS.iter().position(|x| *x == t).unwrap_or(0);

    println!();
    println!(
        "medians over {rounds} interleaved rounds of {seconds:.1} s per target; \
         {PEOPLE} people per request (SQLite, one core)"
    );
    println!(
        "{:<46} {:>10} {:>12} {:>14} {:>11}",
        "target", "req/s", "µs/request", "CPU µs/request", "JSON bytes"
    );
    for (i, t) in TARGETS.iter().enumerate() {
        let secs = median(per[i].clone());
        println!(
            "{:<46} {:>10.0} {:>12.1} {:>14.1} {:>11}",
            t.label(),
            1.0 / secs,
            secs * 1e6,
            median(cpu[i].clone()) * 1e6,
            if sizes[i] == 0 {
                "-".to_owned()
            } else {
                sizes[i].to_string()
            }
        );
    }
    println!();
    // Each round's ratio compares two runs a few seconds apart; the median of those is the figure.
    let ratio = |series: &[Vec<f64>], a: Target, b: Target| {
        let xs: Vec<f64> = series[at(a)]
            .iter()
            .zip(&series[at(b)])
            .map(|(x, y)| x / y)
            .collect();
        let (lo, hi) = range(&xs);
        (median(xs), lo, hi)
    };
    for (name, base, t) in [
        (
            "(b)/(a)   with the audit write",
            Target::Baseline,
            Target::Real,
        ),
        (
            "(b')/(a)  without the audit write",
            Target::Baseline,
            Target::RealUnrecorded,
        ),
        (
            "(b')/(a2) same, vs the 2-query baseline",
            Target::BaselineTwo,
            Target::RealUnrecorded,
        ),
    ] {
        // Throughput ratio: the baseline's time over the path's time; per wall-clock second, and
        // per CPU-second (what the path costs the machine, steadier on a shared one).
        for (basis, series) in [("wall", &per), ("CPU ", &cpu)] {
            let (r, lo, hi) = ratio(series, base, t);
            if !r.is_finite() {
                continue;
            }
            let verdict = if r >= 0.9 { "PASS" } else { "BELOW" };
            println!(
                "throughput {name:<40} {basis} {r:.2}×  (rounds {lo:.2}–{hi:.2}; target ≥ 0.9×)  {verdict}"
            );
        }
    }
    // The breakdown in CPU time when the platform gives it, else in wall-clock time.
    let cpu_known = cpu.iter().flatten().all(|x| x.is_finite());
    let basis = if cpu_known { &cpu } else { &per };
    let us = |t: Target| median(basis[at(t)].clone()) * 1e6;
    let diff = |a: Target, b: Target| {
        let xs: Vec<f64> = basis[at(a)]
            .iter()
            .zip(&basis[at(b)])
            .map(|(x, y)| (x - y) * 1e6)
            .collect();
        median(xs)
    };
    println!();
    println!(
        "where the time goes ({} µs per request of {PEOPLE}; medians of per-round differences):",
        if cpu_known { "CPU" } else { "wall-clock" }
    );
    println!(
        "  decision + masking in memory, primary contact: {:+7.1}  ({:.1} masked vs {:.1} plain; \
         fewer fields to write)",
        diff(Target::MemMasked, Target::MemPlain),
        us(Target::MemMasked),
        us(Target::MemPlain),
    );
    println!(
        "  decision + masking in memory, all visible:     {:+7.1}  ({:+.2} per record; the same \
         output as plain)",
        diff(Target::MemMaskedAll, Target::MemPlain),
        diff(Target::MemMaskedAll, Target::MemPlain) / PEOPLE as f64,
    );
    println!(
        "  grants of the caller (Caller::from_token):     {:7.2}",
        us(Target::Grants)
    );
    println!(
        "  a second query for roles, (a2) − (a):          {:+7.1}  (the old shape; not taken)",
        diff(Target::BaselineTwo, Target::Baseline)
    );
    println!(
        "  scoped SQL + masking, (b') − (a):              {:+7.1}",
        diff(Target::RealUnrecorded, Target::Baseline)
    );
    println!(
        "  the audit write, (b) − (b'):                   {:+7.1}",
        diff(Target::Real, Target::RealUnrecorded)
    );
    println!();
    println!(
        "the primary contact's answer masks {} of {} fields: {}",
        masked_fields.len(),
        <PersonView as extranet_access::Outward>::FIELDS.len(),
        masked_fields.join(", ")
    );
    Ok(())
}
