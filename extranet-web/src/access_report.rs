//! The access report (GDPR Art. 15) as one self-contained, printable HTML page in the report's
//! language, its stylesheet inside (the file is opened away from the extranet and its CSP):
//! `report.html` of the report's archive, `extranet subject report --format html`. People are
//! shown by name, times in the installation's time zone; every value is escaped.

use askama::Template;
use extranet_privacy::export::ActivityRecord;
use extranet_privacy::subject::report::AccessReport;

use crate::i18n::Tr;
use crate::lang::Lang;
use crate::ui::words;

struct ActivityRow {
    id: String,
    purpose: String,
    basis: String,
    interest: Option<String>,
    data: String,
    recipients: String,
    subprocessors: String,
    retention: Vec<String>,
    source: String,
}

struct TableRows {
    table: String,
    rows: Vec<Vec<(String, String)>>,
}

struct AccessRow {
    when: String,
    who: String,
    what: String,
    about: String,
}

struct DocumentRow {
    title: String,
    file: String,
    size: String,
    uploaded: String,
}

#[derive(Template)]
#[template(path = "access_report.html")]
struct ReportDocument {
    tr: Tr,
    lang: Lang,
    site_name: String,
    generated: String,
    person: String,
    email: String,
    organisation: String,
    subjects: String,
    activities: Vec<ActivityRow>,
    held: Vec<TableRows>,
    accesses: Vec<AccessRow>,
    documents: Vec<DocumentRow>,
    css: &'static str,
}

fn activity(tr: &Tr, a: &ActivityRecord) -> ActivityRow {
    ActivityRow {
        id: a.id.clone(),
        purpose: a.purpose.clone(),
        basis: format!(
            "{} ({})",
            tr.t(&format!("privacy-basis-{}", a.basis_word.replace('_', "-"))),
            tr.t1("privacy-basis-article", "letter", &a.basis)
        ),
        interest: a.legitimate_interest.clone(),
        data: a
            .data_categories
            .iter()
            .map(|n| n.name.clone())
            .collect::<Vec<_>>()
            .join(", "),
        recipients: a
            .internal_recipients
            .iter()
            .map(|r| words::role(tr, r))
            .collect::<Vec<_>>()
            .join(", "),
        subprocessors: a
            .subprocessors
            .iter()
            .map(|r| {
                r.name
                    .clone()
                    .unwrap_or_else(|| r.registration_number.clone())
            })
            .collect::<Vec<_>>()
            .join(", "),
        retention: a
            .retention
            .iter()
            .map(|r| {
                let key = match r.unit.as_str() {
                    "days" => "privacy-after-days",
                    "months" => "privacy-after-months",
                    _ => "privacy-after-years",
                };
                let mut text = tr.t2(key, ("n", &r.count.to_string()), ("trigger", &r.trigger));
                if let Some(place) = &r.kept_in {
                    text = format!("{text} ({})", tr.t1("privacy-kept-in", "place", place));
                }
                text
            })
            .collect(),
        source: a.source.clone(),
    }
}

fn value(tr: &Tr, f: &extranet_privacy::subject::Field) -> String {
    if f.withheld {
        return tr.t("report-withheld");
    }
    match &f.value {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The report as a page; `site_name` heads it, times are shown in `tz`.
pub fn report_html(
    report: &AccessReport,
    site_name: &str,
    tz: &jiff::tz::TimeZone,
) -> Result<String, askama::Error> {
    let lang = Lang::parse(&report.language).unwrap_or(Lang::En);
    let tr = Tr(lang);
    let when = |t: time::OffsetDateTime| words::moment(lang, tz, t);
    let titles: std::collections::BTreeMap<String, String> = report
        .documents
        .iter()
        .map(|d| (d.document_id.to_string(), d.title.clone()))
        .collect();
    let p = &report.person;
    ReportDocument {
        generated: when(report.generated_at),
        person: format!("{} {}", p.first_name, p.surname),
        email: p.email.clone(),
        organisation: p.organisation.clone(),
        subjects: report
            .subject_categories
            .iter()
            .map(|n| n.name.clone())
            .collect::<Vec<_>>()
            .join(", "),
        activities: report.activities.iter().map(|a| activity(&tr, a)).collect(),
        held: report
            .held
            .iter()
            .map(|t| TableRows {
                table: t.table.clone(),
                rows: t
                    .rows
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|f| (f.column.clone(), value(&tr, f)))
                            .collect()
                    })
                    .collect(),
            })
            .collect(),
        accesses: report
            .accesses
            .iter()
            .map(|a| AccessRow {
                when: when(a.at),
                who: a
                    .actor_name
                    .clone()
                    .unwrap_or_else(|| tr.t("report-someone-gone")),
                what: a.action.clone(),
                about: match a.subject_type.as_deref() {
                    Some("document") => a
                        .document_title
                        .clone()
                        .or_else(|| a.subject_id.as_ref().and_then(|d| titles.get(d).cloned()))
                        .unwrap_or_default(),
                    _ => tr.t("report-your-record"),
                },
            })
            .collect(),
        documents: report
            .documents
            .iter()
            .map(|d| DocumentRow {
                title: d.title.clone(),
                file: d.file_name.clone(),
                size: words::size(&tr, u64::try_from(d.size).unwrap_or(0)),
                uploaded: when(d.uploaded_at),
            })
            .collect(),
        tr,
        lang,
        site_name: site_name.to_owned(),
        css: crate::assets::record_css(),
    }
    .render()
}

#[cfg(test)]
mod tests {
    use extranet_privacy::subject::report::{Access, AccessReport, PersonSummary};
    use extranet_privacy::subject::{Field, HeldTable};

    use super::report_html;

    fn report(lang: &str) -> AccessReport {
        let at = time::macros::datetime!(2026-07-01 22:30 UTC);
        AccessReport {
            language: lang.to_owned(),
            generated_at: at,
            register_digest: "abc".into(),
            person: PersonSummary {
                id: uuid::Uuid::nil(),
                first_name: "<script>alert(1)</script>".into(),
                surname: "Peeters".into(),
                email: "a@b.example".into(),
                language: lang.to_owned(),
                organisation_id: uuid::Uuid::nil(),
                organisation: "Beton & Co".into(),
                roles: vec!["client_admin".into()],
            },
            subject_categories: vec![],
            activities: vec![],
            held: vec![HeldTable {
                table: "person".into(),
                rows: vec![vec![Field {
                    column: "password_hash".into(),
                    category: Some("account".into()),
                    value: serde_json::Value::Null,
                    withheld: true,
                }]],
            }],
            accesses: vec![Access {
                seq: 7,
                at,
                actor_id: "00000000-0000-0000-0000-000000000001".into(),
                actor_name: Some("Jan <b>Staff</b>".into()),
                action: "person.read".into(),
                outcome: "success".into(),
                subject_type: Some("person".into()),
                subject_id: None,
                document_title: None,
            }],
            documents: vec![],
        }
    }

    #[test]
    fn every_value_is_escaped_and_times_are_local() {
        let tz = jiff::tz::TimeZone::get("Europe/Brussels").unwrap();
        let html = report_html(&report("nl"), "BE-Cert", &tz).unwrap();
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<b>Staff"));
        assert!(html.contains("Jan &#60;b&#62;Staff") || html.contains("Jan &lt;b&gt;Staff"));
        // 22:30 UTC on 1 July is 00:30 the next day in Brussels.
        assert!(html.contains("2 juli 2026 00:30 CEST"), "{html}");
        assert!(html.contains("<html lang=\"nl\""));
        assert!(
            !html.contains("00000000-0000-0000-0000-000000000001"),
            "names, not ids"
        );
    }
}
