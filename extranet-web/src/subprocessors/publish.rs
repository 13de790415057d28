//! Publishing and withdrawing a notice (the privacy coordinator); both ask first.

#[allow(unused_imports)]
use super::*;

pub(super) async fn notice_title(
    me: &SignedIn,
    id: Uuid,
) -> PageResult<(Masked<NoticeView>, String)> {
    let m = sp(me).notice(Reader::Person(&me.caller), id).await?;
    let title = notice_line(me, &m, None).title;
    Ok((m, title))
}

pub(super) async fn publish_confirm(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    if !me
        .caller
        .grants
        .allows(Resource::Subprocessor, Action::Publish, all())
    {
        return Err(PageError::NotFound);
    }
    let tr = me.tr();
    let (m, title) = notice_title(&me, id).await?;
    if m.inner().state != "draft" {
        return Err(PageError::Conflict);
    }
    let ask = Confirm {
        title: tr.t1("sp-confirm-publish-heading", "title", &title),
        message: tr.t1(
            "sp-confirm-publish-message",
            "date",
            &day(&me, &m.inner().effective_at),
        ),
        button: tr.t("sp-publish"),
        hidden: Vec::new(),
        cancel: format!("/subprocessors/notices/{id}"),
        danger: false,
    };
    Ok(confirm::page(&me, ask).await)
}

#[derive(Deserialize, Default)]
pub(super) struct Empty {}

pub(super) async fn publish(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let id = parse_id(&id)?;
    let caller = me.current().await?;
    match sp(&me).publish(&caller, id).await {
        Ok((_, mails)) => Ok(flash::done_with(
            &format!("/subprocessors/notices/{id}"),
            "sp-published",
            &mails.to_string(),
        )),
        Err(e) => {
            let (status, _, message) = refusal(&me, e, "sp-error-publish-conflict")?;
            notice_view(&me, id, String::new(), Some(message), status).await
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct ReasonForm {
    #[serde(default)]
    pub(super) reason: String,
}

pub(super) async fn withdraw_confirm(
    me: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<ReasonForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    if !me
        .caller
        .grants
        .allows(Resource::Subprocessor, Action::Withdraw, all())
    {
        return Err(PageError::NotFound);
    }
    let tr = me.tr();
    let (m, title) = notice_title(&me, id).await?;
    if !matches!(m.inner().state.as_str(), "draft" | "published") {
        return Err(PageError::Conflict);
    }
    let reason = q.reason.trim().to_owned();
    if reason.is_empty() {
        return notice_view(
            &me,
            id,
            String::new(),
            Some(tr.t("sp-error-reason")),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let message = tr.t(if m.inner().state == "published" {
        "sp-confirm-withdraw-published"
    } else {
        "sp-confirm-withdraw-draft"
    });
    let ask = Confirm {
        title: tr.t1("sp-confirm-withdraw-heading", "title", &title),
        message,
        button: tr.t("sp-withdraw"),
        hidden: vec![("reason".into(), reason.clone())],
        cancel: format!("/subprocessors/notices/{id}"),
        danger: true,
    };
    Ok(confirm::detailed_page(
        &me,
        ask.detailed(
            vec![tr.t1("sp-confirm-withdraw-reason", "reason", &reason)],
            Vec::new(),
        ),
    )
    .await)
}

pub(super) async fn withdraw(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let caller = me.current().await?;
    match sp(&me).withdraw(&caller, id, &form.reason).await {
        Ok(_) => Ok(flash::done(
            &format!("/subprocessors/notices/{id}"),
            "sp-withdrawn",
        )),
        Err(e) => {
            let (status, _, message) = refusal(&me, e, "sp-error-conflict")?;
            notice_view(&me, id, String::new(), Some(message), status).await
        }
    }
}
