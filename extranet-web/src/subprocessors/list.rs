//! The register as it stands now or stood on a date, the pending notices, the company's
//! objections, and the subscription to the notices' mails.

#[allow(unused_imports)]
use super::*;

pub(super) struct EntryLine {
    pub(super) id: Uuid,
    pub(super) name: Option<String>,
    pub(super) service: Option<String>,
    pub(super) data: Option<String>,
    pub(super) subjects: Option<String>,
    pub(super) countries: Option<String>,
    pub(super) transfers: Option<String>,
    pub(super) agreement: Option<String>,
    pub(super) excluded: bool,
    pub(super) state: String,
}

pub(super) fn entry_line(s: &Subprocessors, tr: &Tr, m: &Masked<SubprocessorView>) -> EntryLine {
    let lang = tr.0;
    EntryLine {
        id: m.inner().id,
        name: shown(m, "legal_name", |v| v.legal_name.clone()),
        service: shown(m, "service", |v| v.service.clone()),
        data: shown(m, "data_categories", |v| {
            category_names(s, lang, Kind::Data, &v.data_categories)
        }),
        subjects: shown(m, "subject_categories", |v| {
            category_names(s, lang, Kind::Subjects, &v.subject_categories)
        }),
        countries: shown(m, "locations", |v| country_names(s, lang, &v.locations)),
        transfers: shown(m, "transfers", |v| {
            if v.transfers.is_empty() {
                "—".to_owned()
            } else {
                transfer_words(s, tr, &v.transfers)
            }
        }),
        agreement: shown(m, "agreement_date", |v| {
            v.agreement_date
                .as_deref()
                .map(|d| iso_day(lang, d))
                .unwrap_or_else(|| "—".to_owned())
        }),
        excluded: m.is_visible("excluded") && m.inner().excluded,
        state: state_word(tr, &m.inner().state),
    }
}

pub(super) struct NoticeLine {
    pub(super) id: Uuid,
    pub(super) title: String,
    pub(super) kind: String,
    pub(super) state: String,
    pub(super) summary: Option<String>,
    pub(super) effective: String,
    pub(super) days_left: i64,
    /// "12 days left", "waiting for decisions", "withdrawn on…".
    pub(super) status: String,
    pub(super) open: bool,
    pub(super) tally: Option<String>,
    pub(super) open_objections: i64,
}

/// "New subprocessor: Hosting NV", "Old NV replaced by New NV".
pub(super) fn title_of(tr: &Tr, m: &Masked<NoticeView>) -> String {
    let n = m.inner();
    let name = shown(m, "subprocessor_name", |v| v.subprocessor_name.clone())
        .unwrap_or_else(|| tr.t("hidden"));
    let old = shown(m, "replaces_name", |v| {
        v.replaces_name.clone().unwrap_or_default()
    })
    .unwrap_or_else(|| tr.t("hidden"));
    if n.kind == "replace" {
        tr.t2("sp-notice-title-replace", ("old", &old), ("name", &name))
    } else {
        tr.t1(&format!("sp-notice-title-{}", n.kind), "name", &name)
    }
}

pub(super) fn notice_line(
    me: &SignedIn,
    m: &Masked<NoticeView>,
    tally: Option<&Tally>,
) -> NoticeLine {
    let tr = me.tr();
    let n = m.inner();
    let now = sp(me).clock().now();
    let open = n.state == "published" && instant(&n.effective_at).is_some_and(|t| t > now);
    let status = if n.waiting {
        tr.t("sp-notice-waiting")
    } else if open {
        tr.n("sp-days-left", "n", u64::try_from(n.days_left).unwrap_or(0))
    } else {
        match n.state.as_str() {
            "withdrawn" => tr.t1(
                "sp-notice-withdrawn-on",
                "date",
                &n.withdrawn_at
                    .as_deref()
                    .map(|d| day(me, d))
                    .unwrap_or_default(),
            ),
            "applied" => tr.t1(
                "sp-notice-applied-on",
                "date",
                &n.applied_at
                    .as_deref()
                    .map(|d| day(me, d))
                    .unwrap_or_default(),
            ),
            "published" => tr.t("sp-notice-closed"),
            other => state_word(&tr, other),
        }
    };
    let title = title_of(&tr, m);
    NoticeLine {
        id: n.id,
        title,
        kind: kind_word(&tr, &n.kind),
        state: state_word(&tr, &n.state),
        summary: shown(m, "summary", |v| v.summary.clone()),
        effective: day(me, &n.effective_at),
        days_left: n.days_left,
        status,
        open,
        tally: tally.map(|t| {
            tr.t2(
                "sp-tally",
                ("open", &t.open.to_string()),
                ("decided", &(t.upheld + t.rejected + t.settled).to_string()),
            )
        }),
        open_objections: tally.map_or(0, |t| t.open),
    }
}

pub(super) struct ObjectionLine {
    pub(super) id: Uuid,
    pub(super) notice_id: Uuid,
    pub(super) company: Option<String>,
    pub(super) author: Option<String>,
    pub(super) state: String,
    pub(super) lodged: String,
    pub(super) decision: Option<String>,
}

pub(super) fn objection_line(me: &SignedIn, m: &Masked<ObjectionView>) -> ObjectionLine {
    let tr = me.tr();
    let o = m.inner();
    ObjectionLine {
        id: o.id,
        notice_id: o.notice_id,
        company: shown(m, "organisation_name", |v| v.organisation_name.clone()),
        author: shown(m, "author_name", |v| v.author_name.clone()),
        state: objection_state_word(&tr, &o.state),
        lodged: moment(me, &o.created_at),
        decision: shown(m, "decision_note", |v| {
            v.decision_note.clone().unwrap_or_default()
        })
        .filter(|n| !n.is_empty()),
    }
}

#[derive(Template)]
#[template(path = "sp_list.html")]
pub(super) struct ListPage {
    pub(super) c: Chrome,
    pub(super) site_name: String,
    pub(super) as_of: String,
    pub(super) at: String,
    pub(super) at_error: Option<String>,
    pub(super) today: String,
    pub(super) entries: Vec<EntryLine>,
    pub(super) notices: Vec<NoticeLine>,
    pub(super) can_object: bool,
    pub(super) objections: Option<Vec<ObjectionLine>>,
    /// `Some(wants)`: the person may choose whether the notices are mailed to them.
    pub(super) subscription: Option<bool>,
    pub(super) manage: bool,
    pub(super) files_at: String,
}

#[derive(Deserialize)]
pub(super) struct AtQuery {
    pub(super) at: Option<String>,
}

pub(super) async fn list(me: SignedIn, Query(q): Query<AtQuery>) -> PageResult {
    let s = sp(&me);
    let tr = me.tr();
    let lang = me.lang();
    let at = q.at.unwrap_or_default().trim().to_owned();
    let reader = Reader::Person(&me.caller);
    let mut status = StatusCode::OK;
    let mut at_error = None;
    let listing: Listing = if at.is_empty() {
        s.current(reader).await?
    } else if parse_day(&at).is_none() {
        status = StatusCode::UNPROCESSABLE_ENTITY;
        at_error = Some(tr.t("sp-error-at"));
        s.current(reader).await?
    } else {
        match s.as_of(reader, &at).await {
            Ok(l) => l,
            Err(SubprocessorsError::Invalid { .. }) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                at_error = Some(tr.t("sp-error-at-future"));
                s.current(reader).await?
            }
            Err(e) => return Err(e.into()),
        }
    };
    let current = me.current().await?;
    let notices = s
        .notices(reader, &["published"])
        .await?
        .iter()
        .map(|n| notice_line(&me, n, None))
        .collect();
    let objections = if may_list_objections(&current) {
        Some(
            s.objections(&current, None)
                .await?
                .iter()
                .map(|o| objection_line(&me, o))
                .collect(),
        )
    } else {
        None
    };
    let subscription = if Subprocessors::may_subscribe(&current) {
        Some(s.wants_mail(&current).await?)
    } else {
        None
    };
    let shown_at = if at_error.is_none() {
        at.clone()
    } else {
        String::new()
    };
    let page = ListPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        as_of: words::moment(lang, &me.services().site.tz(), listing.as_of),
        files_at: if shown_at.is_empty() {
            String::new()
        } else {
            format!("?at={shown_at}")
        },
        at,
        at_error,
        today: earliest_today(&me),
        entries: listing
            .entries
            .iter()
            .map(|e| entry_line(s, &tr, e))
            .collect(),
        notices,
        can_object: may_object(&current),
        objections,
        subscription,
        manage: may_manage(&current),
    };
    Ok(render(lang, status, &page))
}

/// Today's date (`YYYY-MM-DD`) in the installation's time zone: the latest "as of" date.
pub(super) fn earliest_today(me: &SignedIn) -> String {
    let now = sp(me).clock().now().unix_timestamp();
    jiff::Timestamp::from_second(now)
        .ok()
        .map(|t| t.to_zoned(me.services().site.tz()).date().to_string())
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub(super) struct SubscriptionForm {
    pub(super) wants: String,
}

pub(super) async fn subscription(
    me: SignedIn,
    CsrfForm(form): CsrfForm<SubscriptionForm>,
) -> PageResult {
    let caller = me.current().await?;
    let wants = match form.wants.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(PageError::BadRequest),
    };
    sp(&me).set_wants_mail(&caller, wants).await?;
    Ok(flash::done(
        "/subprocessors#subscription",
        if wants {
            "sp-subscribed"
        } else {
            "sp-unsubscribed"
        },
    ))
}
