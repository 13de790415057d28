//! The audit-log search page for staff, administrators and the privacy coordinator
//! (`/staff/audit`). Anyone else gets "not found", like the other staff pages.
//!
//! A GET form: it changes nothing except that every search is itself recorded (`audit.search`,
//! with the filter used) before any result is shown. Invalid input answers 422 with the message
//! next to its field and no results.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use extranet_audit::{Entry, Filter, NewEntry, Outcome};
use extranet_identity::auth::Auth;
use extranet_identity::tokens::Claims;
use extranet_identity::{IdentityError, store};
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time, UtcOffset};
use uuid::Uuid;

use crate::i18n::Tr;
use crate::lang::{Lang, negotiate};
use crate::session::CurrentUser;
use crate::site::Site;
use crate::ui::{Chrome, render};

/// The most entries one search shows; a note says when there may be more.
pub(crate) const LIMIT: u32 = 200;
/// The longest action prefix accepted (the audit log's actions are at most 100 characters).
const MAX_ACTION: usize = 100;

#[derive(Clone)]
pub(crate) struct AuditLogState {
    pub site: Arc<Site>,
    pub auth: Arc<Auth>,
    pub directory: Arc<extranet_directory::Directory>,
}

pub(crate) fn routes(state: AuditLogState) -> Router {
    Router::new()
        .route("/staff/audit", get(search_page))
        .with_state(state)
}

/// Who may search the audit log: whoever the policy grants `audit.search` across all
/// organisations (staff, administrators and the privacy coordinator in `policies/policy.csv`).
pub(crate) fn may_search_audit(policy: &extranet_access::Policy, claims: &Claims) -> bool {
    policy
        .grants(claims.roles.iter().map(String::as_str), [])
        .domains(
            extranet_access::Resource::Audit,
            extranet_access::Action::Search,
        )
        .contains(extranet_access::Domain::All)
}

/// The form as submitted; every field is optional.
#[derive(Debug, Default, Deserialize)]
struct SearchForm {
    /// The person the entries are about (subject): an id or an e-mail address.
    #[serde(default)]
    person: String,
    #[serde(default)]
    organisation: String,
    /// Who acted: an id or an e-mail address.
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    /// `YYYY-MM-DD`, from the start of that day (UTC).
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD`, until the end of that day (UTC).
    #[serde(default)]
    until: String,
}

/// Messages shown next to their fields.
#[derive(Debug, Default)]
struct SearchErrors {
    person: Option<String>,
    organisation: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    from: Option<String>,
    until: Option<String>,
    /// Some input is invalid (422). Without it, the messages only say that an e-mail address
    /// belongs to no account: not a mistake in the input, so the page answers 200.
    invalid: bool,
}

#[derive(Debug, Clone, Copy)]
enum Field {
    Person,
    Organisation,
    Actor,
    Action,
    From,
    Until,
}

impl SearchErrors {
    fn any(&self) -> bool {
        self.person.is_some()
            || self.organisation.is_some()
            || self.actor.is_some()
            || self.action.is_some()
            || self.from.is_some()
            || self.until.is_some()
    }

    fn slot(&mut self, field: Field) -> &mut Option<String> {
        match field {
            Field::Person => &mut self.person,
            Field::Organisation => &mut self.organisation,
            Field::Actor => &mut self.actor,
            Field::Action => &mut self.action,
            Field::From => &mut self.from,
            Field::Until => &mut self.until,
        }
    }

    /// Records invalid input for `field`; returns `None` so a parse can end with it.
    fn bad<T>(&mut self, field: Field, message: String) -> Option<T> {
        *self.slot(field) = Some(message);
        self.invalid = true;
        None
    }

    /// The id a person field resolved to; notes an e-mail address no account has.
    fn who(&mut self, found: Who, field: Field, tr: &Tr) -> Option<Uuid> {
        match found {
            Who::Id(id) => Some(id),
            Who::Nobody => None,
            Who::Unknown => {
                *self.slot(field) = Some(tr.t("audit-unknown-email"));
                None
            }
        }
    }
}

/// One result line, already put in words for the page (askama escapes every value).
struct Row {
    at: String,
    action: String,
    outcome: String,
    actor: String,
    subject: String,
    organisation: String,
    detail: String,
}

impl Row {
    fn of(e: &Entry) -> Row {
        let subject = match (&e.subject_type, &e.subject_id) {
            (Some(kind), Some(id)) => format!("{kind} {id}"),
            (Some(kind), None) => kind.clone(),
            _ => String::new(),
        };
        let detail = match &e.detail {
            serde_json::Value::Object(m) if m.is_empty() => String::new(),
            other => other.to_string(),
        };
        Row {
            at: utc_time(e.at),
            action: e.action.clone(),
            outcome: e.outcome.as_str().to_owned(),
            actor: e.actor_id.clone().unwrap_or_default(),
            subject,
            organisation: e.organisation_id.clone().unwrap_or_default(),
            detail,
        }
    }
}

#[derive(Template)]
#[template(path = "audit_log.html")]
struct SearchPage<'a> {
    c: Chrome,
    site: &'a Site,
    form: SearchForm,
    errors: SearchErrors,
    /// `None` when no search was made (invalid input, unknown person).
    rows: Option<Vec<Row>>,
    /// More entries matched than are shown.
    truncated: bool,
    limit: u32,
}

/// `2026-12-02 05:12:54 UTC`.
fn utc_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    let (d, t) = (at.date(), at.time());
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        d.year(),
        u8::from(d.month()),
        d.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn parse_date(raw: &str) -> Option<Date> {
    Date::parse(raw, format_description!("[year]-[month]-[day]")).ok()
}

/// What an id-or-e-mail field resolved to.
enum Who {
    Nobody,
    Id(Uuid),
    /// An e-mail address no account has.
    Unknown,
}

/// An id, or an e-mail address looked up among the accounts; `Err` for neither.
async fn resolve(auth: &Auth, raw: &str) -> Result<Who, Option<IdentityError>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Who::Nobody);
    }
    if raw.contains('@') {
        return match store::person_by_email(&auth.db, raw).await {
            Ok(p) => Ok(Who::Id(p.id)),
            Err(IdentityError::NotFound) => Ok(Who::Unknown),
            Err(e) => Err(Some(e)),
        };
    }
    raw.parse::<Uuid>().map(Who::Id).map_err(|_| None)
}

async fn search_page(
    State(st): State<AuditLogState>,
    Extension(user): Extension<CurrentUser>,
    headers: HeaderMap,
    Query(form): Query<SearchForm>,
) -> Response {
    let policy = st.directory.policy();
    let Some(claims) = user.0.as_deref().filter(|c| may_search_audit(&policy, c)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let lang = negotiate(&headers, st.site.default_language);
    let tr = Tr(lang);
    let mut errors = SearchErrors::default();

    let person = match resolve(&st.auth, &form.person).await {
        Ok(found) => errors.who(found, Field::Person, &tr),
        Err(Some(e)) => return internal(&e),
        Err(None) => errors.bad(Field::Person, tr.t("audit-invalid-person")),
    };
    let actor = match resolve(&st.auth, &form.actor).await {
        Ok(found) => errors.who(found, Field::Actor, &tr),
        Err(Some(e)) => return internal(&e),
        Err(None) => errors.bad(Field::Actor, tr.t("audit-invalid-person")),
    };
    let organisation = match form.organisation.trim() {
        "" => None,
        raw => match raw.parse::<Uuid>() {
            Ok(id) => Some(id),
            Err(_) => errors.bad(Field::Organisation, tr.t("audit-invalid-organisation")),
        },
    };
    let action = form.action.trim();
    if action.chars().count() > MAX_ACTION || action.chars().any(char::is_control) {
        errors.bad::<()>(Field::Action, tr.t("audit-invalid-action"));
    }
    let from = match form.from.trim() {
        "" => None,
        raw => match parse_date(raw) {
            Some(d) => Some(d),
            None => errors.bad(Field::From, tr.t("audit-invalid-date")),
        },
    };
    let until = match form.until.trim() {
        "" => None,
        raw => match parse_date(raw) {
            Some(d) => Some(d),
            None => errors.bad(Field::Until, tr.t("audit-invalid-date")),
        },
    };
    if let (Some(f), Some(u)) = (from, until)
        && f > u
    {
        errors.bad::<()>(Field::Until, tr.t("audit-until-before-from"));
    }
    // `until` includes its whole day: the search stops at the start of the next one.
    let until_exclusive = match until.map(Date::next_day) {
        None => None,
        Some(Some(next)) => Some(next.with_time(Time::MIDNIGHT).assume_utc()),
        Some(None) => errors.bad(Field::Until, tr.t("audit-invalid-date")),
    };

    if errors.any() {
        let status = if errors.invalid {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        return page(&st, lang, status, form, errors, None, false);
    }

    let filter = Filter {
        actor_id: actor.map(|id| id.to_string()),
        subject_type: None,
        subject_id: person.map(|id| id.to_string()),
        organisation_id: organisation.map(|id| id.to_string()),
        action_prefix: (!action.is_empty()).then(|| action.to_owned()),
        from: from.map(|d| d.with_time(Time::MIDNIGHT).assume_utc()),
        until: until_exclusive,
        // One more than is shown, to know whether there are more.
        limit: Some(LIMIT + 1),
    };
    let mut entries = match extranet_audit::search(&st.auth.db, &filter).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "audit log not searchable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let truncated = entries.len() > LIMIT as usize;
    entries.truncate(LIMIT as usize);

    // Looking is recorded before anything is shown; if it cannot be, nothing is shown.
    let record = NewEntry::new(st.auth.clock.now(), "audit.search", Outcome::Success)
        .actor(claims.sub)
        .detail(serde_json::json!({
            "filter": {
                "person": filter.subject_id,
                "organisation": filter.organisation_id,
                "actor": filter.actor_id,
                "action": filter.action_prefix,
                "from": from.map(|d| d.to_string()),
                "until": until.map(|d| d.to_string()),
            },
            "results": entries.len(),
        }));
    if let Err(e) = extranet_audit::append(&st.auth.db, &record).await {
        tracing::error!(error = %e, "audit.search not recorded; results withheld");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let rows = entries.iter().map(Row::of).collect();
    page(
        &st,
        lang,
        StatusCode::OK,
        form,
        errors,
        Some(rows),
        truncated,
    )
}

fn internal(e: &IdentityError) -> Response {
    tracing::error!(error = %e, "person lookup failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

fn page(
    st: &AuditLogState,
    lang: Lang,
    status: StatusCode,
    form: SearchForm,
    errors: SearchErrors,
    rows: Option<Vec<Row>>,
    truncated: bool,
) -> Response {
    let mut res = render(
        lang,
        status,
        &SearchPage {
            c: Chrome::new(lang, "/staff/audit"),
            site: &st.site,
            form,
            errors,
            rows,
            truncated,
            limit: LIMIT,
        },
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(roles: &[&str]) -> Claims {
        Claims {
            iss: String::new(),
            aud: String::new(),
            sub: Uuid::nil(),
            org: Uuid::nil(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            sid: Uuid::nil(),
            jti: Uuid::nil(),
            iat: 0,
            nbf: 0,
            exp: 0,
            typ: String::new(),
        }
    }

    #[tokio::test]
    async fn only_staff_admins_and_the_privacy_coordinator_search() {
        let policy = extranet_access::Policy::load(&extranet_access::PolicySource::embedded())
            .await
            .unwrap();
        for yes in ["staff", "admin", "privacy_officer"] {
            assert!(may_search_audit(&policy, &claims(&[yes])), "{yes}");
        }
        for no in ["inspector", "client_admin", "client_user", "Staff", ""] {
            assert!(!may_search_audit(&policy, &claims(&[no])), "{no}");
        }
        assert!(!may_search_audit(&policy, &claims(&[])));
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(
            parse_date("2026-02-28").map(|d| d.to_string()),
            Some("2026-02-28".into())
        );
        for bad in ["2026-02-30", "28/02/2026", "2026-2-28", "", "x"] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
        let at = time::macros::datetime!(2026-12-02 06:12:54.5 +01:00);
        assert_eq!(utc_time(at), "2026-12-02 05:12:54 UTC");
    }
}
