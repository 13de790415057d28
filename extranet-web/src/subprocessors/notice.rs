//! A notice, and objecting to it while its window is open.

#[allow(unused_imports)]
use super::*;

#[derive(Deserialize, Default)]
pub(super) struct ReasonsForm {
    #[serde(default)]
    pub(super) reasons: String,
}

#[derive(Template)]
#[template(path = "sp_notice.html")]
pub(super) struct NoticePage {
    pub(super) c: Chrome,
    pub(super) site_name: String,
    pub(super) n: NoticeLine,
    pub(super) facts: Vec<(String, Option<String>)>,
    pub(super) withdrawal_reason: Option<String>,
    /// The form to object, while the window is open, for those who may.
    pub(super) objecting: bool,
    /// The window closed for someone who may object: when.
    pub(super) closed: Option<String>,
    /// The company's open objection to this notice, if any.
    pub(super) own_open: Option<Uuid>,
    pub(super) reasons: String,
    pub(super) problem: Option<String>,
    pub(super) objections: Option<Vec<ObjectionLine>>,
    pub(super) can_edit: bool,
    pub(super) can_publish: bool,
    pub(super) can_withdraw: bool,
    /// The entry the notice adds or changes (once it exists), and the one a replacement
    /// replaces: their pages, with the history.
    pub(super) entry_link: Option<(Uuid, String)>,
    pub(super) replaces_link: Option<(Uuid, String)>,
}

pub(super) async fn notice_view(
    me: &SignedIn,
    id: Uuid,
    reasons: String,
    problem: Option<String>,
    status: StatusCode,
) -> PageResult {
    let s = sp(me);
    let tr = me.tr();
    let current = me.current().await?;
    let m = s.notice(Reader::Person(&current), id).await?;
    let tallies: HashMap<Uuid, Tally> = s.tallies(&current).await?.into_iter().collect();
    let n = notice_line(me, &m, tallies.get(&id));
    let v = m.inner();
    let lang = me.lang();
    let facts = vec![
        (tr.t("sp-field-kind"), Some(n.kind.clone())),
        (tr.t("sp-field-notice-state"), Some(n.state.clone())),
        (
            tr.t("sp-field-service"),
            shown(&m, "service", |v| {
                v.service.clone().unwrap_or_else(|| "—".into())
            }),
        ),
        (
            tr.t("sp-field-data_categories"),
            shown(&m, "data_categories", |v| {
                category_names(s, lang, Kind::Data, &v.data_categories)
            }),
        ),
        (
            tr.t("sp-field-subject_categories"),
            shown(&m, "subject_categories", |v| {
                category_names(s, lang, Kind::Subjects, &v.subject_categories)
            }),
        ),
        (
            tr.t("sp-field-locations"),
            shown(&m, "locations", |v| country_names(s, lang, &v.locations)),
        ),
        (
            tr.t("sp-field-transfers"),
            shown(&m, "transfers", |v| {
                if v.transfers.is_empty() {
                    "—".into()
                } else {
                    transfer_words(s, &tr, &v.transfers)
                }
            }),
        ),
        (tr.t("sp-field-effective"), Some(n.effective.clone())),
        (
            tr.t("sp-field-published"),
            shown(&m, "published_at", |v| {
                v.published_at
                    .as_deref()
                    .map(|d| moment(me, d))
                    .unwrap_or_else(|| "—".into())
            }),
        ),
    ];
    let objections = if may_list_objections(&current) && v.state != "draft" {
        Some(
            s.objections(&current, Some(id))
                .await?
                .iter()
                .map(|o| objection_line(me, o))
                .collect::<Vec<_>>(),
        )
    } else {
        None
    };
    let own_open = if may_object(&current) {
        s.objections(&current, Some(id))
            .await?
            .iter()
            .find(|o| {
                o.inner().organisation_id == current.organisation && o.inner().state == "open"
            })
            .map(|o| o.inner().id)
    } else {
        None
    };
    let can_object = may_object(&current) && v.state != "draft";
    let closed = (can_object && !n.open && v.state != "withdrawn")
        .then(|| tr.t1("sp-notice-closed-at", "when", &moment(me, &v.effective_at)));
    let manage = may_manage(&current);
    let entry_link = if m.is_visible("subprocessor_id") && m.is_visible("subprocessor_name") {
        v.subprocessor_id
            .map(|id| (id, v.subprocessor_name.clone()))
    } else {
        None
    };
    let replaces_link = if m.is_visible("replaces_id") && m.is_visible("replaces_name") {
        v.replaces_id.zip(v.replaces_name.clone())
    } else {
        None
    };
    let page = NoticePage {
        entry_link,
        replaces_link,
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        withdrawal_reason: shown(&m, "withdrawal_reason", |v| {
            v.withdrawal_reason.clone().unwrap_or_default()
        })
        .filter(|r| !r.is_empty()),
        objecting: can_object && n.open && own_open.is_none(),
        closed,
        own_open,
        reasons,
        problem,
        objections,
        can_edit: manage && v.state == "draft",
        can_publish: current
            .grants
            .allows(Resource::Subprocessor, Action::Publish, all())
            && v.state == "draft",
        can_withdraw: current
            .grants
            .allows(Resource::Subprocessor, Action::Withdraw, all())
            && matches!(v.state.as_str(), "draft" | "published"),
        facts,
        n,
    };
    Ok(render(me.lang(), status, &page))
}

pub(super) async fn notice_page(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    notice_view(&me, id, String::new(), None, StatusCode::OK).await
}

pub(super) async fn object(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReasonsForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let caller = me.current().await?;
    let html = markdown(&form.reasons);
    match sp(&me).object(&caller, id, &html).await {
        Ok(o) => Ok(flash::done(
            &format!("/subprocessors/objections/{}", o.inner().id),
            "sp-objection-lodged",
        )),
        Err(e) => {
            let (status, _, message) = refusal(&me, e, "sp-error-already-objected")?;
            notice_view(&me, id, form.reasons, Some(message), status).await
        }
    }
}
