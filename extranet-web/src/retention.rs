//! The retention schedule for the privacy coordinator and staff (`/privacy/retention`): what the
//! next run would delete or anonymise rule by rule, the latest runs, and legal holds on people
//! and organisations — placed with a reason, lifted after a confirmation. Decisions and audit
//! records are `extranet_privacy`'s; a form appears only when the policy allows its action.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use extranet_access::{Action, Domain, DomainSet, Resource};
use extranet_audit::Outcome;
use extranet_privacy::PrivacyError;
use extranet_privacy::retention::holds::Subject;
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ui::confirm::{self, Confirm};
use crate::ui::{
    Chrome, CsrfForm, PageError, PageResult, PageRouter, SignedIn, flash, render, words,
};

pub(crate) fn routes() -> Router {
    PageRouter::new()
        .page_and_form("/privacy/retention", page, place)
        .page_and_form("/privacy/holds/{id}/lift", lift_confirm, lift)
        .into_router()
}

fn all() -> DomainSet {
    DomainSet::default().with(Domain::All)
}

fn may_see(me: &SignedIn) -> bool {
    me.caller
        .grants
        .allows(Resource::Retention, Action::Read, all())
        || may_hold(me)
}

fn may_hold(me: &SignedIn) -> bool {
    me.caller
        .grants
        .allows(Resource::Person, Action::Hold, all())
        && me
            .caller
            .grants
            .allows(Resource::Organisation, Action::Hold, all())
}

fn privacy(me: &SignedIn) -> Arc<extranet_privacy::Privacy> {
    me.services().privacy.clone()
}

fn refused(e: PrivacyError) -> PageError {
    match e {
        PrivacyError::NotFound => PageError::NotFound,
        e => PageError::internal(e),
    }
}

struct PlanRow {
    rule: String,
    applies_to: String,
    after: String,
    action: String,
    due: u64,
    held: u64,
    kept: u64,
}

struct RunRow {
    started: String,
    finished: String,
    kind: String,
    records: u64,
}

struct HoldRow {
    id: Uuid,
    kind: String,
    name: String,
    reason: String,
    placed: String,
    by: String,
}

#[derive(Template)]
#[template(path = "retention.html")]
struct RetentionPage {
    c: Chrome,
    site_name: String,
    may_read_plan: bool,
    may_hold: bool,
    plan: Vec<PlanRow>,
    runs: Vec<RunRow>,
    holds: Vec<HoldRow>,
    organisations: Vec<(String, String)>,
    form: HoldForm,
    error: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
struct HoldForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    reason: String,
}

fn moment(me: &SignedIn, unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| words::moment(me.lang(), &me.services().site.tz(), t))
        .unwrap_or_default()
}

async fn view(
    me: &SignedIn,
    form: HoldForm,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    if !may_see(me) {
        return Err(PageError::NotFound);
    }
    let tr = me.tr();
    let p = privacy(me);
    let may_read_plan = me
        .caller
        .grants
        .allows(Resource::Retention, Action::Read, all());
    let plan = if may_read_plan {
        p.retention_plan()
            .await
            .map_err(refused)?
            .rules
            .into_iter()
            .map(|r| PlanRow {
                applies_to: tr.t(&format!(
                    "retention-target-{}",
                    r.applies_to.replace('_', "-")
                )),
                after: r.after,
                action: tr.t(&format!("retention-action-{}", r.action)),
                rule: r.rule,
                due: r.due,
                held: r.held,
                kept: r.kept,
            })
            .collect()
    } else {
        Vec::new()
    };
    let runs = if may_read_plan {
        p.recent_runs(10)
            .await
            .map_err(refused)?
            .into_iter()
            .map(|r| RunRow {
                started: moment(me, r.started_at),
                finished: r
                    .finished_at
                    .map(|f| moment(me, f))
                    .unwrap_or_else(|| tr.t("retention-running")),
                kind: tr.t(if r.daily {
                    "retention-run-daily"
                } else {
                    "retention-run-manual"
                }),
                records: r.records,
            })
            .collect()
    } else {
        Vec::new()
    };
    let holds: Vec<HoldRow> = p
        .holds_named()
        .await
        .map_err(refused)?
        .into_iter()
        .map(|h| HoldRow {
            id: h.id,
            kind: tr.t(&format!("retention-subject-{}", h.subject_type)),
            name: h.subject_name,
            reason: h.reason,
            placed: moment(me, h.placed_at),
            by: h.placed_by_name,
        })
        .collect();
    // The holds name people: reading them is an access to personal data.
    let entry = me
        .caller
        .entry(p.clock(), "privacy.holds.read", Outcome::Success)
        .detail(serde_json::json!({ "holds": holds.len() }));
    extranet_audit::append(p.db(), &entry)
        .await
        .map_err(PageError::internal)?;
    let organisations = if may_hold(me) {
        p.organisations()
            .await
            .map_err(refused)?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect()
    } else {
        Vec::new()
    };
    let page = RetentionPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        may_read_plan,
        may_hold: may_hold(me),
        plan,
        runs,
        holds,
        organisations,
        form,
        error,
    };
    Ok(render(me.lang(), status, &page))
}

async fn page(me: SignedIn) -> PageResult {
    view(
        &me,
        HoldForm {
            subject: "person".into(),
            ..HoldForm::default()
        },
        None,
        StatusCode::OK,
    )
    .await
}

async fn place(me: SignedIn, CsrfForm(form): CsrfForm<HoldForm>) -> PageResult {
    if !may_hold(&me) {
        return Err(PageError::Forbidden);
    }
    let tr = me.tr();
    let p = privacy(&me);
    let again = |key: &str| tr.t(key);
    let target = match form.subject.as_str() {
        "person" => match p.person_by_email(&form.email).await.map_err(refused)? {
            Some(id) => (Subject::Person, id),
            None => {
                let e = again("retention-error-no-person");
                return view(&me, form, Some(e), StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        },
        "organisation" => match form.organisation.parse::<Uuid>() {
            Ok(id) => (Subject::Organisation, id),
            Err(_) => {
                let e = again("retention-error-no-organisation");
                return view(&me, form, Some(e), StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        },
        _ => return Err(PageError::BadRequest),
    };
    match p
        .place_hold(target.0, target.1, &form.reason, me.caller.person)
        .await
    {
        Ok(_) => Ok(flash::done("/privacy/retention", "retention-hold-placed")),
        Err(PrivacyError::Invalid { .. }) => {
            let e = again("retention-error-reason");
            view(&me, form, Some(e), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(PrivacyError::NotFound) => {
            let e = again("retention-error-no-organisation");
            view(&me, form, Some(e), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(PageError::internal(e)),
    }
}

fn parse_id(raw: &str) -> PageResult<Uuid> {
    raw.parse().map_err(|_| PageError::NotFound)
}

async fn lift_confirm(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    if !may_hold(&me) {
        return Err(PageError::NotFound);
    }
    let tr = me.tr();
    let holds = privacy(&me).holds_named().await.map_err(refused)?;
    let hold = holds
        .iter()
        .find(|h| h.id == id)
        .ok_or(PageError::NotFound)?;
    let ask = Confirm {
        title: tr.t1("retention-lift-heading", "name", &hold.subject_name),
        message: tr.t("retention-lift-message"),
        button: tr.t("retention-lift"),
        hidden: Vec::new(),
        cancel: "/privacy/retention".into(),
        danger: true,
    };
    Ok(confirm::page(&me, ask).await)
}

#[derive(Deserialize, Default)]
struct Empty {}

async fn lift(me: SignedIn, Path(id): Path<String>, CsrfForm(_): CsrfForm<Empty>) -> PageResult {
    let id = parse_id(&id)?;
    if !may_hold(&me) {
        return Err(PageError::Forbidden);
    }
    privacy(&me)
        .lift_hold(id, me.caller.person)
        .await
        .map_err(refused)?;
    Ok(flash::done("/privacy/retention", "retention-hold-lifted"))
}
