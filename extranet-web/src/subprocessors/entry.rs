//! An entry of the register with its history, one line per changed field.

#[allow(unused_imports)]
use super::*;

pub(super) struct HistoryLine {
    pub(super) when: String,
    pub(super) what: String,
    /// "Service: Hosting", one line per field that changed.
    pub(super) changes: Vec<String>,
    pub(super) notice: Option<Uuid>,
}

/// An entry's fields in words, in order, for comparing one change with the one before.
pub(super) fn entry_words(
    s: &Subprocessors,
    tr: &Tr,
    e: &Entry,
    state: &str,
    visible: &dyn Fn(&str) -> bool,
) -> Vec<(&'static str, String)> {
    let lang = tr.0;
    let countries: Vec<String> = e.locations.iter().map(|l| l.country.clone()).collect();
    let fields: [(&'static str, String); 10] = [
        ("legal_name", e.legal_name.clone()),
        ("registration_number", e.registration_number.clone()),
        ("website", e.website.clone()),
        ("service", e.service.clone()),
        (
            "data_categories",
            category_names(s, lang, Kind::Data, &e.data_categories),
        ),
        (
            "subject_categories",
            category_names(s, lang, Kind::Subjects, &e.subject_categories),
        ),
        ("locations", country_names(s, lang, &countries)),
        ("transfers", transfer_words(s, tr, &e.transfers())),
        (
            "agreement_date",
            e.agreement_date
                .as_deref()
                .map(|d| iso_day(lang, d))
                .unwrap_or_default(),
        ),
        ("state", state_word(tr, state)),
    ];
    fields.into_iter().filter(|(f, _)| visible(f)).collect()
}

#[derive(Template)]
#[template(path = "sp_entry.html")]
pub(super) struct EntryPage {
    pub(super) c: Chrome,
    pub(super) site_name: String,
    pub(super) title: String,
    pub(super) facts: Vec<(String, Option<String>)>,
    pub(super) excluded: bool,
    pub(super) history: Vec<HistoryLine>,
}

pub(super) async fn entry_page(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    let s = sp(&me);
    let tr = me.tr();
    let (m, history) = s.entry(Reader::Person(&me.caller), id).await?;
    let line = entry_line(s, &tr, &m);
    let title = line.name.clone().unwrap_or_else(|| tr.t("hidden"));
    let facts = vec![
        (tr.t("sp-field-legal_name"), line.name.clone()),
        (
            tr.t("sp-field-registration_number"),
            shown(&m, "registration_number", |v| v.registration_number.clone()),
        ),
        (
            tr.t("sp-field-website"),
            shown(&m, "website", |v| v.website.clone()),
        ),
        (tr.t("sp-field-service"), line.service.clone()),
        (tr.t("sp-field-data_categories"), line.data.clone()),
        (tr.t("sp-field-subject_categories"), line.subjects.clone()),
        (tr.t("sp-field-locations"), line.countries.clone()),
        (tr.t("sp-field-transfers"), line.transfers.clone()),
        (tr.t("sp-field-agreement_date"), line.agreement.clone()),
        (tr.t("sp-field-state"), Some(line.state.clone())),
    ];
    let visible = |f: &str| f == "state" || m.is_visible(f);
    let mut before: Vec<(&'static str, String)> = Vec::new();
    let mut lines = Vec::new();
    for change in &history {
        let now = entry_words(s, &tr, &change.entry.entry, &change.entry.state, &visible);
        let changes: Vec<String> = now
            .iter()
            .filter(|(f, v)| {
                before.is_empty() && !v.is_empty() || before.iter().any(|(g, w)| g == f && w != v)
            })
            .map(|(f, v)| {
                tr.t2(
                    "sp-change-line",
                    ("field", &tr.t(&format!("sp-field-{f}"))),
                    ("value", if v.is_empty() { "—" } else { v }),
                )
            })
            .collect();
        if change.kind != "excluded" {
            before = now;
        }
        lines.push(HistoryLine {
            when: moment(&me, &change.at),
            what: tr.t(&format!("sp-change-{}", change.kind)),
            changes: if change.kind == "excluded" {
                Vec::new()
            } else {
                changes
            },
            notice: change.notice_id,
        });
    }
    let page = EntryPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        title,
        facts,
        excluded: line.excluded,
        history: lines,
    };
    Ok(render(me.lang(), StatusCode::OK, &page))
}
