//! The signed-in home page (`/home`): what needs the person's attention, from what the policy
//! lets them see — certification files with their status and validity (those expiring within
//! 90 days first and marked), assignments in force and planned with their periods (ending soon
//! for staff), and the yearly check of their own data.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use extranet_access::{Action, Domain, DomainSet, Resource};
use extranet_directory::{Directory, assignments, dossiers};
use extranet_identity::auth::Auth;
use time::{Date, Duration, OffsetDateTime};

use crate::facts::cell;
use crate::site::Site;
use crate::ui::{Chrome, PageResult, PageRouter, SignedIn, render, words};

/// A certificate whose validity ends within this many days is highlighted.
const EXPIRING_DAYS: i64 = 90;
/// Staff see assignments that end within this many days.
const ENDING_DAYS: i64 = 30;
/// How many rows a home section shows before "see all".
const ROWS: usize = 20;

#[derive(Clone)]
pub(crate) struct HomeState {
    pub site: Arc<Site>,
    pub auth: Arc<Auth>,
    pub directory: Arc<Directory>,
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
                    period: tr.t1(
                        "home-period",
                        "from",
                        &format!(
                            "{} → {}",
                            words::moment(lang, &tz, starts),
                            words::moment(lang, &tz, ends)
                        ),
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
        },
    ))
}
