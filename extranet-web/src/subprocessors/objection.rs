//! An objection: amended or withdrawn by its company, decided by the privacy coordinator.

#[allow(unused_imports)]
use super::*;

#[derive(Deserialize, Default, Clone)]
pub(super) struct DecisionForm {
    #[serde(default)]
    pub(super) decision: String,
    #[serde(default)]
    pub(super) outcome: String,
    #[serde(default)]
    pub(super) note: String,
}

#[derive(Template)]
#[template(path = "sp_objection.html")]
pub(super) struct ObjectionPage {
    pub(super) c: Chrome,
    pub(super) site_name: String,
    pub(super) o: ObjectionLine,
    pub(super) notice_title: String,
    /// Cleaned HTML, stored so by the service (ammonia, an allow-list).
    pub(super) reasons: Option<String>,
    pub(super) outcome: Option<String>,
    pub(super) decided: Option<String>,
    pub(super) can_change: bool,
    pub(super) amend_text: String,
    pub(super) amend_problem: Option<String>,
    pub(super) deciding: bool,
    pub(super) decision: DecisionForm,
    pub(super) problems: Problems,
}

pub(super) async fn objection_view(
    me: &SignedIn,
    id: Uuid,
    amend: Option<(String, String)>,
    decision: Option<(DecisionForm, Problems)>,
    status: StatusCode,
) -> PageResult {
    let s = sp(me);
    let tr = me.tr();
    let current = me.current().await?;
    let m = s.objection(&current, id).await?;
    let v = m.inner();
    let notice_title = match s.notice(Reader::Person(&current), v.notice_id).await {
        Ok(n) => notice_line(me, &n, None).title,
        Err(_) => tr.t("sp-notice"),
    };
    let open = v.state == "open";
    let can_change = open && v.organisation_id == current.organisation && may_object(&current);
    let (amend_text, amend_problem) = match amend {
        Some((text, problem)) => (text, Some(problem)),
        None => (extranet_subprocessors::rich_text::plain(&v.reasons), None),
    };
    let (decision, problems) = decision.unwrap_or_default();
    let page = ObjectionPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        o: objection_line(me, &m),
        notice_title,
        // Rendered unescaped (`|safe`): cleaned again here, not only when it was stored.
        reasons: shown(&m, "reasons", |v| {
            extranet_subprocessors::rich_text::shown(&v.reasons)
        }),
        outcome: shown(&m, "outcome", |v| v.outcome.clone().unwrap_or_default())
            .filter(|o| !o.is_empty())
            .map(|o| tr.t(&format!("sp-outcome-{}", o.replace('_', "-")))),
        decided: shown(&m, "decided_at", |v| {
            v.decided_at
                .as_deref()
                .map(|d| moment(me, d))
                .unwrap_or_default()
        })
        .filter(|d| !d.is_empty()),
        can_change,
        amend_text,
        amend_problem,
        deciding: open && may_decide(&current),
        decision,
        problems,
    };
    Ok(render(me.lang(), status, &page))
}

pub(super) async fn objection_page(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    objection_view(&me, id, None, None, StatusCode::OK).await
}

pub(super) async fn amend(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReasonsForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let caller = me.current().await?;
    let html = markdown(&form.reasons);
    match sp(&me).amend(&caller, id, &html).await {
        Ok(_) => Ok(flash::done(
            &format!("/subprocessors/objections/{id}"),
            "sp-objection-amended",
        )),
        Err(e) => {
            let (status, _, message) = refusal(&me, e, "sp-error-objection-closed")?;
            objection_view(&me, id, Some((form.reasons, message)), None, status).await
        }
    }
}

pub(super) async fn withdraw_objection_confirm(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    let tr = me.tr();
    let current = me.current().await?;
    let m = sp(&me).objection(&current, id).await?;
    if m.inner().organisation_id != current.organisation || !may_object(&current) {
        return Err(PageError::Forbidden);
    }
    if m.inner().state != "open" {
        return Err(PageError::Conflict);
    }
    let ask = Confirm {
        title: tr.t("sp-confirm-objection-withdraw-heading"),
        message: tr.t("sp-confirm-objection-withdraw-message"),
        button: tr.t("sp-objection-withdraw"),
        hidden: Vec::new(),
        cancel: format!("/subprocessors/objections/{id}"),
        danger: true,
    };
    Ok(confirm::page(&me, ask).await)
}

pub(super) async fn withdraw_objection(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let id = parse_id(&id)?;
    let caller = me.current().await?;
    match sp(&me).withdraw_objection(&caller, id).await {
        Ok(_) => Ok(flash::done(
            &format!("/subprocessors/objections/{id}"),
            "sp-objection-withdrawn",
        )),
        Err(SubprocessorsError::Conflict(_)) => Ok(flash::failed(
            &format!("/subprocessors/objections/{id}"),
            "sp-objection-closed",
        )),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn decide(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let caller = me.current().await?;
    let tr = me.tr();
    let problem = match form.decision.as_str() {
        "upheld" if !matches!(form.outcome.as_str(), "withdraw_notice" | "exclude") => {
            Some(("outcome", tr.t("sp-error-outcome")))
        }
        "rejected" if form.note.trim().is_empty() => Some(("note", tr.t("sp-error-justification"))),
        "settled" if form.note.trim().is_empty() => {
            Some(("note", tr.t("sp-error-settlement-note")))
        }
        "upheld" | "rejected" | "settled" => None,
        _ => Some(("decision", tr.t("sp-error-decision"))),
    };
    if let Some((field, message)) = problem {
        return objection_view(
            &me,
            id,
            None,
            Some((form, Problems::one(field, message))),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let d = Decision {
        decision: form.decision.clone(),
        outcome: (form.decision == "upheld").then(|| form.outcome.clone()),
        note: form.note.clone(),
    };
    match sp(&me).decide(&caller, id, &d).await {
        Ok(_) => Ok(flash::done(
            &format!("/subprocessors/objections/{id}"),
            "sp-objection-decided",
        )),
        Err(e) => {
            let (status, field, message) = refusal(&me, e, "sp-error-objection-closed")?;
            objection_view(
                &me,
                id,
                None,
                Some((form, Problems::one(field, message))),
                status,
            )
            .await
        }
    }
}
