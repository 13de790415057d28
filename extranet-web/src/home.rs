//! The signed-in home page (`/home`): what needs the person's attention, from what the policy
//! lets them see — certification files with their status and validity (those expiring within
//! 90 days first and marked), assignments in force and planned with their periods (ending soon
//! for staff), documents uploaded since the last visit, pending invitations, for whoever reads
//! the audit log the week's refusals and role changes, and the yearly check of their own data.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use extranet_access::{Action, Domain, DomainSet, Resource};
use extranet_directory::{Directory, assignments, dossiers, invitations};
use extranet_documents::Documents;
use extranet_identity::auth::Auth;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::facts::cell;
use crate::site::Site;
use crate::ui::{Chrome, PageResult, PageRouter, SignedIn, render, words};

/// A certificate whose validity ends within this many days is highlighted.
const EXPIRING_DAYS: i64 = 90;
/// Staff see assignments that end within this many days.
const ENDING_DAYS: i64 = 30;
/// How many rows a home section shows before "see all".
const ROWS: usize = 20;
/// Recent documents shown; on a first visit, "recent" is this many days.
const RECENT_ROWS: usize = 10;
const FIRST_VISIT_DAYS: i64 = 14;
/// The audit log's counts on the home page cover this many days.
const WATCH_DAYS: i64 = 7;
/// Counted up to this many ("100+").
const WATCH_LIMIT: u32 = 100;

#[derive(Clone)]
pub(crate) struct HomeState {
    pub site: Arc<Site>,
    pub auth: Arc<Auth>,
    pub directory: Arc<Directory>,
    pub documents: Arc<Documents>,
}

pub(crate) fn routes(state: HomeState) -> Router {
    PageRouter::new()
        .page("/home", home)
        .with_state(state)
        .into_router()
}

pub(crate) struct FileRow {
    href: String,
    organisation: String,
    scheme: String,
    certificate: String,
    status: String,
    valid_until: String,
    expiring: bool,
}

pub(crate) struct RecentRow {
    href: String,
    title: String,
    file: String,
    uploaded: String,
}

pub(crate) struct InvitationRow {
    href: String,
    name: String,
    sent: String,
}

/// A count of audit records of one kind this week, with the search that lists them.
pub(crate) struct Watch {
    id: &'static str,
    label: String,
    count: String,
    href: String,
}

pub(crate) struct AssignmentRow {
    href: String,
    inspector: String,
    period: String,
    state: String,
}

#[derive(Template)]
#[template(path = "home_signed_in.html")]
struct HomePage<'a> {
    c: Chrome,
    site: &'a Site,
    files: Option<Vec<FileRow>>,
    more_files: bool,
    /// Whose assignments: the inspector's own, or (staff) those ending soon.
    assignments: Option<Vec<AssignmentRow>>,
    own_assignments: bool,
    /// The yearly "my data is correct" is due (never done, or over a year ago).
    data_check_due: bool,
    /// Documents since the last visit, and since when.
    recent: Option<Vec<RecentRow>>,
    recent_since: String,
    invitations: Option<Vec<InvitationRow>>,
    watch: Vec<Watch>,
}

fn any() -> DomainSet {
    [Domain::All, Domain::Organisation, Domain::Assignment]
        .into_iter()
        .fold(DomainSet::default(), DomainSet::with)
}

fn date_of(v: &str) -> Option<Date> {
    Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn instant(v: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).ok()
}

async fn home(State(st): State<HomeState>, me: SignedIn) -> PageResult {
    let tr = me.tr();
    let lang = me.lang();
    let tz = st.site.tz();
    let dir = &st.directory;
    let grants = &me.caller.grants;
    let today = OffsetDateTime::now_utc().date();

    let mut labels: HashMap<Uuid, String> = HashMap::new();
    let files = if grants.allows(Resource::Dossier, Action::List, any()) {
        let mut rows: Vec<(Option<Date>, FileRow)> =
            dossiers::list(dir.db(), dir.clock(), &me.caller, None)
                .await?
                .iter()
                .map(|d| {
                    let v = d.inner();
                    let until = date_of(v.valid_until.as_deref().unwrap_or_default());
                    let expiring = until
                        .is_some_and(|u| u >= today && u - today <= Duration::days(EXPIRING_DAYS));
                    labels.insert(
                        v.id,
                        format!(
                            "{} — {}",
                            cell(&tr, d, "organisation_name").unwrap_or_else(|| tr.t("hidden")),
                            cell(&tr, d, "certificate_number").unwrap_or_else(|| tr.t("hidden"))
                        ),
                    );
                    let row = FileRow {
                        href: format!("/dossiers/{}", v.id),
                        organisation: cell(&tr, d, "organisation_name")
                            .unwrap_or_else(|| tr.t("hidden")),
                        scheme: cell(&tr, d, "scheme").unwrap_or_else(|| tr.t("hidden")),
                        certificate: cell(&tr, d, "certificate_number")
                            .unwrap_or_else(|| tr.t("hidden")),
                        status: tr.t(&format!("dossier-status-{}", v.status)),
                        valid_until: until.map(|u| words::date(lang, u)).unwrap_or_default(),
                        expiring,
                    };
                    (until, row)
                })
                .collect();
        // Expiring first (soonest first), then the rest as the directory lists them.
        rows.sort_by_key(|(until, row)| (!row.expiring, if row.expiring { *until } else { None }));
        Some(rows.into_iter().map(|(_, r)| r).collect::<Vec<_>>())
    } else {
        None
    };
    let more_files = files.as_ref().is_some_and(|f| f.len() > ROWS);
    let files = files.map(|mut f| {
        f.truncate(ROWS);
        f
    });

    // An inspector sees their own assignments in force and planned; staff (who may assign) see
    // those of everyone that end soon.
    let staff_view = grants.allows(
        Resource::Assignment,
        Action::Create,
        DomainSet::default().with(Domain::All),
    );
    let own_view = grants.allows(
        Resource::Assignment,
        Action::List,
        DomainSet::default().with(Domain::Assignment),
    );
    let assignments = if staff_view || own_view {
        let now = OffsetDateTime::now_utc();
        let rows = assignments::list(dir.db(), dir.clock(), &me.caller, None)
            .await?
            .iter()
            .filter_map(|a| {
                let v = a.inner();
                let starts = instant(&v.starts_at)?;
                let ends = instant(&v.ends_at)?;
                let keep = if staff_view {
                    v.state == "active" && ends - now <= Duration::days(ENDING_DAYS)
                } else {
                    v.state != "ended"
                };
                keep.then(|| AssignmentRow {
                    href: format!("/dossiers/{}", v.dossier_id),
                    inspector: cell(&tr, a, "inspector_name").unwrap_or_else(|| tr.t("hidden")),
                    period: format!(
                        "{} → {}",
                        words::moment(lang, &tz, starts),
                        words::moment(lang, &tz, ends)
                    ),
                    state: tr.t(&format!("assignment-state-{}", v.state)),
                })
            })
            .take(ROWS)
            .collect();
        Some(rows)
    } else {
        None
    };

    // Documents uploaded since the last visit, in the files the person sees (every file for
    // those who see all of them).
    let (recent, recent_since) = if grants.allows(Resource::Document, Action::Read, any()) {
        let previous = st.auth.previous_visit(&me.claims).await?;
        let since = previous
            .unwrap_or_else(|| OffsetDateTime::now_utc() - Duration::days(FIRST_VISIT_DAYS));
        let everything = grants.allows(
            Resource::Dossier,
            Action::List,
            DomainSet::default().with(Domain::All),
        );
        let within: Vec<Uuid> = labels.keys().copied().collect();
        let caller = st.documents.caller(me.claims.sub, me.v.ip).await?;
        let rows = st
            .documents
            .recent(
                &caller,
                (!everything).then_some(within.as_slice()),
                since,
                RECENT_ROWS,
            )
            .await?
            .iter()
            .map(|d| {
                let v = d.inner();
                RecentRow {
                    href: format!("/documents/{}", v.id),
                    title: cell(&tr, d, "title").unwrap_or_else(|| tr.t("hidden")),
                    file: labels.get(&v.dossier_id).cloned().unwrap_or_default(),
                    uploaded: instant(&v.uploaded_at)
                        .map(|at| words::moment(lang, &tz, at))
                        .unwrap_or_default(),
                }
            })
            .collect();
        let since_words = match previous {
            Some(at) => tr.t1("home-recent-since", "date", &words::moment(lang, &tz, at)),
            None => tr.n("home-recent-days", "days", FIRST_VISIT_DAYS.unsigned_abs()),
        };
        (Some(rows), since_words)
    } else {
        (None, String::new())
    };

    // Invitations not yet accepted, for those who may resend or withdraw them.
    let invitations = if grants.allows(Resource::Invitation, Action::List, any()) {
        let rows = invitations::list(dir.db(), dir.clock(), &me.caller, None)
            .await?
            .iter()
            .take(ROWS)
            .map(|i| InvitationRow {
                href: if grants.allows(
                    Resource::Organisation,
                    Action::List,
                    DomainSet::default().with(Domain::All),
                ) {
                    format!("/staff/organisations/{}", i.organisation_id)
                } else {
                    "/company".to_owned()
                },
                name: format!(
                    "{} {}",
                    cell(&tr, &i.person, "first_name").unwrap_or_default(),
                    cell(&tr, &i.person, "surname").unwrap_or_default()
                )
                .trim()
                .to_owned(),
                sent: i
                    .last_sent_at
                    .map(|at| words::moment(lang, &tz, at))
                    .unwrap_or_default(),
            })
            .collect();
        Some(rows)
    } else {
        None
    };

    // Whoever reads the audit log: this week's refusals and changes of roles, as counts that
    // open the search listing them (the search, not this page, reads and records the entries).
    let mut watch = Vec::new();
    if crate::audit_log::may_search_audit(grants) {
        let from = OffsetDateTime::now_utc() - Duration::days(WATCH_DAYS);
        let from_day = from.to_offset(time::UtcOffset::UTC).date();
        for (id, action) in [
            ("watch-denied", "access.denied"),
            ("watch-roles", "person.roles.change"),
        ] {
            let found = extranet_audit::search(
                dir.db(),
                &extranet_audit::Filter {
                    action_prefix: Some(action.to_owned()),
                    from: Some(from),
                    limit: Some(WATCH_LIMIT),
                    ..Default::default()
                },
            )
            .await?
            .len();
            let count = if found >= WATCH_LIMIT as usize {
                format!("{WATCH_LIMIT}+")
            } else {
                found.to_string()
            };
            watch.push(Watch {
                id,
                label: tr.t(&format!("audit-action-{}", action.replace('.', "-"))),
                count,
                href: format!("/staff/audit?search=1&action={action}&from={from_day}"),
            });
        }
    }

    let confirmed =
        extranet_identity::confirmation::confirmed_at(&st.auth.db, me.claims.sub).await?;
    let data_check_due =
        confirmed.is_none_or(|at| OffsetDateTime::now_utc() - at > Duration::days(365));

    Ok(render(
        lang,
        StatusCode::OK,
        &HomePage {
            c: me.chrome().await,
            site: &st.site,
            files,
            more_files,
            assignments,
            own_assignments: !staff_view,
            data_check_due,
            recent,
            recent_since,
            invitations,
            watch,
        },
    ))
}
