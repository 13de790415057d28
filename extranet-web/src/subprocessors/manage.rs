//! The privacy coordinator's register: entries, notices by state, objections to decide, and
//! the form that drafts and edits a notice.

#[allow(unused_imports)]
use super::*;

pub(super) struct ManagedEntry {
    pub(super) id: Uuid,
    pub(super) name: String,
    pub(super) service: String,
    pub(super) state: String,
}

#[derive(Template)]
#[template(path = "sp_manage.html")]
pub(super) struct ManagePage {
    pub(super) c: Chrome,
    pub(super) site_name: String,
    pub(super) entries: Vec<ManagedEntry>,
    pub(super) drafts: Vec<NoticeLine>,
    pub(super) published: Vec<NoticeLine>,
    pub(super) waiting: Vec<NoticeLine>,
    pub(super) withdrawn: Vec<NoticeLine>,
    pub(super) applied: Vec<NoticeLine>,
}

pub(super) async fn manage(me: SignedIn) -> PageResult {
    if !may_manage(&me.caller) {
        return Err(PageError::NotFound);
    }
    let s = sp(&me);
    let tr = me.tr();
    let current = me.current().await?;
    let entries = s
        .all_entries(&current)
        .await?
        .into_iter()
        .map(|e| ManagedEntry {
            id: e.id,
            name: e.legal_name,
            service: e.service,
            state: state_word(&tr, &e.state),
        })
        .collect();
    let tallies: HashMap<Uuid, Tally> = s.tallies(&current).await?.into_iter().collect();
    let notices = s
        .notices(
            Reader::Person(&current),
            &extranet_subprocessors::notices::STATES,
        )
        .await?;
    let mut page = ManagePage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        entries,
        drafts: Vec::new(),
        published: Vec::new(),
        waiting: Vec::new(),
        withdrawn: Vec::new(),
        applied: Vec::new(),
    };
    for n in &notices {
        let line = notice_line(&me, n, tallies.get(&n.inner().id));
        match n.inner().state.as_str() {
            "draft" => page.drafts.push(line),
            "published" if n.inner().waiting => page.waiting.push(line),
            "published" => page.published.push(line),
            "withdrawn" => page.withdrawn.push(line),
            _ => page.applied.push(line),
        }
    }
    Ok(render(me.lang(), StatusCode::OK, &page))
}

/// The notice form as typed: repeated fields (categories) and one country and mechanism per
/// row, so it is read as pairs.
#[derive(Default, Clone)]
pub(super) struct NoticeForm {
    pub(super) kind: String,
    pub(super) subprocessor_id: String,
    pub(super) legal_name: String,
    pub(super) registration_number: String,
    pub(super) website: String,
    pub(super) service: String,
    pub(super) data_categories: Vec<String>,
    pub(super) subject_categories: Vec<String>,
    /// (country, mechanism) per row.
    pub(super) locations: Vec<(String, String)>,
    pub(super) agreement_date: String,
    pub(super) summary: String,
    pub(super) effective_date: String,
}

/// Rows of countries the form offers.
pub(super) const LOCATION_ROWS: usize = 4;

impl NoticeForm {
    pub(super) fn from_pairs(pairs: Vec<(String, String)>) -> NoticeForm {
        let mut f = NoticeForm::default();
        let mut rows: Vec<(String, String)> = vec![Default::default(); entry_rows()];
        for (k, v) in pairs {
            match k.as_str() {
                "kind" => f.kind = v,
                "subprocessor_id" => f.subprocessor_id = v,
                "legal_name" => f.legal_name = v,
                "registration_number" => f.registration_number = v,
                "website" => f.website = v,
                "service" => f.service = v,
                "data_categories" => f.data_categories.push(v),
                "subject_categories" => f.subject_categories.push(v),
                "agreement_date" => f.agreement_date = v,
                "summary" => f.summary = v,
                "effective_date" => f.effective_date = v,
                other => {
                    if let Some((what, i)) = other.split_once('_')
                        && let Ok(i) = i.parse::<usize>()
                        && let Some(row) = rows.get_mut(i)
                    {
                        match what {
                            "country" => row.0 = v,
                            "mechanism" => row.1 = v,
                            _ => {}
                        }
                    }
                }
            }
        }
        f.locations = rows;
        f
    }

    pub(super) fn from_draft(d: &NoticeDraft) -> NoticeForm {
        let mut f = NoticeForm {
            kind: d.kind.clone(),
            subprocessor_id: d.subprocessor_id.map(|i| i.to_string()).unwrap_or_default(),
            summary: d.summary.clone(),
            effective_date: d.effective_date.clone(),
            ..NoticeForm::default()
        };
        if let Some(e) = &d.entry {
            f.legal_name = e.legal_name.clone();
            f.registration_number = e.registration_number.clone();
            f.website = e.website.clone();
            f.service = e.service.clone();
            f.data_categories = e.data_categories.clone();
            f.subject_categories = e.subject_categories.clone();
            f.locations = e
                .locations
                .iter()
                .map(|l| (l.country.clone(), l.mechanism.clone().unwrap_or_default()))
                .collect();
            f.agreement_date = e.agreement_date.clone().unwrap_or_default();
        }
        f.locations
            .resize(entry_rows().max(f.locations.len()), Default::default());
        f
    }

    pub(super) fn draft(&self) -> Result<NoticeDraft, &'static str> {
        let subprocessor_id = match self.subprocessor_id.trim() {
            "" => None,
            raw => Some(raw.parse::<Uuid>().map_err(|_| "subprocessor_id")?),
        };
        let entry = (self.kind != "remove").then(|| Entry {
            legal_name: self.legal_name.clone(),
            registration_number: self.registration_number.clone(),
            website: self.website.clone(),
            service: self.service.clone(),
            data_categories: self.data_categories.clone(),
            subject_categories: self.subject_categories.clone(),
            locations: self
                .locations
                .iter()
                .filter(|(c, _)| !c.trim().is_empty())
                .map(|(c, m)| Location {
                    country: c.clone(),
                    mechanism: Some(m.clone()).filter(|m| !m.trim().is_empty()),
                })
                .collect(),
            agreement_date: Some(self.agreement_date.clone()).filter(|d| !d.trim().is_empty()),
        });
        Ok(NoticeDraft {
            kind: self.kind.clone(),
            subprocessor_id: subprocessor_id.filter(|_| self.kind != "add"),
            entry,
            summary: self.summary.clone(),
            effective_date: self.effective_date.clone(),
        })
    }
}

pub(super) fn entry_rows() -> usize {
    LOCATION_ROWS
}

pub(super) struct Choice {
    pub(super) code: String,
    pub(super) name: String,
    pub(super) checked: bool,
}

pub(super) struct LocationRow {
    pub(super) index: usize,
    pub(super) country: String,
    pub(super) mechanism: String,
}

#[derive(Template)]
#[template(path = "sp_notice_form.html")]
pub(super) struct NoticeFormPage {
    pub(super) c: Chrome,
    pub(super) site_name: String,
    pub(super) heading: String,
    pub(super) action: String,
    pub(super) form: NoticeForm,
    pub(super) problems: Problems,
    pub(super) general: Vec<String>,
    pub(super) kinds: Vec<(&'static str, String)>,
    pub(super) entries: Vec<(String, String)>,
    pub(super) data: Vec<Choice>,
    pub(super) subjects: Vec<Choice>,
    pub(super) countries: Vec<(String, String)>,
    pub(super) rows: Vec<LocationRow>,
    pub(super) mechanisms: Vec<(&'static str, String)>,
    pub(super) outside_eea: bool,
    pub(super) earliest: String,
    pub(super) earliest_words: String,
    /// The entry's one-line fields: (name, value typed).
    pub(super) texts: Vec<(&'static str, String)>,
}

pub(super) const FORM_FIELDS: [&str; 13] = [
    "kind",
    "subprocessor_id",
    "legal_name",
    "registration_number",
    "website",
    "service",
    "data_categories",
    "subject_categories",
    "locations",
    "agreement_date",
    "summary",
    "effective_date",
    "entry",
];

pub(super) async fn form_page(
    me: &SignedIn,
    edit: Option<Uuid>,
    form: NoticeForm,
    problems: Problems,
    status: StatusCode,
) -> PageResult {
    let s = sp(me);
    let tr = me.tr();
    let lang = me.lang();
    let current = me.current().await?;
    let entries = s
        .all_entries(&current)
        .await?
        .into_iter()
        .filter(|e| e.state == "active")
        .map(|e| (e.id.to_string(), e.legal_name))
        .collect();
    let choices = |kind: Kind, chosen: &[String]| -> Vec<Choice> {
        s.vocabulary()
            .categories(kind)
            .map(|c| Choice {
                code: c.code.clone(),
                name: c.names.get(lang.code()).to_owned(),
                checked: chosen.contains(&c.code),
            })
            .collect()
    };
    let outside_eea = s.settings().allow_outside_eea;
    let mut countries: Vec<(String, String)> = s
        .vocabulary()
        .countries()
        .filter(|c| outside_eea || c.eea)
        .map(|c| (c.code.clone(), c.names.get(lang.code()).to_owned()))
        .collect();
    countries.sort_by(|a, b| a.1.cmp(&b.1));
    let (earliest, earliest_words) = earliest(me);
    let general = problems
        .general(&FORM_FIELDS)
        .into_iter()
        .chain(problems.of("entry"))
        .map(str::to_owned)
        .collect();
    let page = NoticeFormPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        heading: tr.t(if edit.is_some() {
            "sp-edit-heading"
        } else {
            "sp-new-heading"
        }),
        action: match edit {
            Some(id) => format!("/subprocessors/manage/notices/{id}/edit"),
            None => "/subprocessors/manage/new".to_owned(),
        },
        kinds: extranet_subprocessors::notices::KINDS
            .into_iter()
            .map(|k| (k, kind_word(&tr, k)))
            .collect(),
        entries,
        data: choices(Kind::Data, &form.data_categories),
        subjects: choices(Kind::Subjects, &form.subject_categories),
        countries,
        rows: form
            .locations
            .iter()
            .enumerate()
            .map(|(index, (country, mechanism))| LocationRow {
                index,
                country: country.clone(),
                mechanism: mechanism.clone(),
            })
            .collect(),
        mechanisms: MECHANISMS
            .into_iter()
            .map(|m| (m, tr.t(&format!("sp-mechanism-{}", m.replace('_', "-")))))
            .collect(),
        outside_eea,
        earliest,
        earliest_words,
        texts: vec![
            ("legal_name", form.legal_name.clone()),
            ("registration_number", form.registration_number.clone()),
            ("website", form.website.clone()),
            ("service", form.service.clone()),
        ],
        general,
        form,
        problems,
    };
    Ok(render(lang, status, &page))
}

pub(super) async fn new_page(me: SignedIn) -> PageResult {
    if !may_manage(&me.caller) {
        return Err(PageError::NotFound);
    }
    let form = NoticeForm {
        kind: "add".into(),
        effective_date: earliest(&me).0,
        locations: vec![Default::default(); entry_rows()],
        ..NoticeForm::default()
    };
    form_page(&me, None, form, Problems::default(), StatusCode::OK).await
}

pub(super) async fn save(
    me: SignedIn,
    edit: Option<Uuid>,
    pairs: Vec<(String, String)>,
) -> PageResult {
    let caller = me.current().await?;
    if !may_manage(&caller) {
        return Err(PageError::Forbidden);
    }
    let tr = me.tr();
    let form = NoticeForm::from_pairs(pairs);
    let draft = match form.draft() {
        Ok(d) => d,
        Err(field) => {
            let p = Problems::one(field, tr.t(&format!("sp-error-{field}")));
            return form_page(&me, edit, form, p, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let s = sp(&me);
    let saved = match edit {
        Some(id) => s.update_draft(&caller, id, &draft).await,
        None => s.draft(&caller, &draft).await,
    };
    match saved {
        Ok(n) => Ok(flash::done(
            &format!("/subprocessors/notices/{}", n.inner().id),
            "sp-draft-saved",
        )),
        Err(e) => {
            let (status, field, message) = refusal(&me, e, "sp-error-conflict")?;
            form_page(&me, edit, form, Problems::one(field, message), status).await
        }
    }
}

pub(super) async fn create(
    me: SignedIn,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    save(me, None, pairs).await
}

pub(super) async fn edit_page(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    if !may_manage(&me.caller) {
        return Err(PageError::NotFound);
    }
    let caller = me.current().await?;
    let d = sp(&me).draft_form(&caller, id).await?;
    form_page(
        &me,
        Some(id),
        NoticeForm::from_draft(&d),
        Problems::default(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn edit(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id)?;
    save(me, Some(id), pairs).await
}
