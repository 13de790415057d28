//! Subprocessors in words: masked fields, dates in the installation's time zone, categories and
//! countries by their names, refusals as messages next to their fields, reasons written as Markdown.

#[allow(unused_imports)]
use super::*;

/// A field of a masked record in words (`None`: not granted, shown as "hidden").
pub(super) fn shown<T: Outward>(
    m: &Masked<T>,
    field: &str,
    f: impl FnOnce(&T) -> String,
) -> Option<String> {
    m.is_visible(field).then(|| f(m.inner()))
}

pub(super) fn instant(raw: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(raw, &Rfc3339).ok()
}

/// An RFC 3339 instant as a moment in the installation's time zone.
pub(super) fn moment(me: &SignedIn, raw: &str) -> String {
    instant(raw)
        .map(|t| words::moment(me.lang(), &me.services().site.tz(), t))
        .unwrap_or_else(|| raw.to_owned())
}

/// An RFC 3339 instant as the date it falls on in the installation's time zone.
pub(super) fn day(me: &SignedIn, raw: &str) -> String {
    instant(raw)
        .map(|t| words::day_of(me.lang(), &me.services().site.tz(), t))
        .unwrap_or_else(|| raw.to_owned())
}

pub(super) fn parse_day(raw: &str) -> Option<time::Date> {
    time::Date::parse(
        raw.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// `2026-12-04` in words; anything else as it is.
pub(super) fn iso_day(lang: Lang, raw: &str) -> String {
    parse_day(raw)
        .map(|d| words::date(lang, d))
        .unwrap_or_else(|| raw.to_owned())
}

pub(super) fn category_names(
    s: &Subprocessors,
    lang: Lang,
    kind: Kind,
    codes: &[String],
) -> String {
    codes
        .iter()
        .map(|c| {
            s.vocabulary()
                .category(kind, c)
                .map(|x| x.names.get(lang.code()).to_owned())
                .unwrap_or_else(|| c.clone())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn country_name(s: &Subprocessors, lang: Lang, code: &str) -> String {
    s.vocabulary()
        .country(code)
        .map(|c| c.names.get(lang.code()).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

pub(super) fn country_names(s: &Subprocessors, lang: Lang, codes: &[String]) -> String {
    codes
        .iter()
        .map(|c| country_name(s, lang, c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `US: standard_contractual_clauses` as "United States: standard contractual clauses".
pub(super) fn transfer_words(s: &Subprocessors, tr: &Tr, transfers: &[String]) -> String {
    transfers
        .iter()
        .map(|t| match t.split_once(": ") {
            Some((country, mechanism)) => format!(
                "{}: {}",
                country_name(s, tr.0, country),
                tr.t(&format!("sp-mechanism-{}", mechanism.replace('_', "-")))
            ),
            None => t.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn kind_word(tr: &Tr, kind: &str) -> String {
    tr.t(&format!("sp-kind-{kind}"))
}

pub(super) fn state_word(tr: &Tr, state: &str) -> String {
    tr.t(&format!("sp-state-{state}"))
}

pub(super) fn objection_state_word(tr: &Tr, state: &str) -> String {
    tr.t(&format!("sp-objection-state-{state}"))
}

/// Today in the installation's time zone, and the earliest effective date a notice may have.
pub(super) fn earliest(me: &SignedIn) -> (String, String) {
    let s = sp(me);
    let now = s.clock().now().unix_timestamp();
    let date = jiff::Timestamp::from_second(now)
        .ok()
        .map(|t| t.to_zoned(me.services().site.tz()).date())
        .and_then(|d| {
            d.checked_add(jiff::Span::new().days(i64::from(s.settings().notice_days)))
                .ok()
        })
        .map(|d| d.to_string())
        .unwrap_or_default();
    let words = iso_day(me.lang(), &date);
    (date, words)
}

/// What the service refused, for the page: the status, the field concerned (`""`: the form as
/// a whole) and the message in the person's language. `conflict`: the catalogue key of a
/// conflict on this form. Anything else is a failure the error page answers.
pub(super) fn refusal(
    me: &SignedIn,
    e: SubprocessorsError,
    conflict: &str,
) -> Result<(StatusCode, &'static str, String), PageError> {
    let tr = me.tr();
    Ok(match e {
        SubprocessorsError::Invalid { field, .. } => {
            let message = match field {
                "effective_date" => tr.t1("sp-error-effective_date", "date", &earliest(me).1),
                "legal_name"
                | "registration_number"
                | "website"
                | "service"
                | "data_categories"
                | "subject_categories"
                | "locations"
                | "agreement_date"
                | "summary"
                | "kind"
                | "subprocessor_id"
                | "entry"
                | "reasons"
                | "note"
                | "decision"
                | "outcome"
                | "reason"
                | "at" => tr.t(&format!("sp-error-{field}")),
                _ => tr.t("sp-error-general"),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, field, message)
        }
        SubprocessorsError::WindowClosed { closed_at } => (
            StatusCode::CONFLICT,
            "",
            tr.t1(
                "sp-error-window-closed",
                "when",
                &words::moment(me.lang(), &me.services().site.tz(), closed_at),
            ),
        ),
        SubprocessorsError::Conflict(_) => (StatusCode::CONFLICT, "", tr.t(conflict)),
        other => return Err(other.into()),
    })
}

/// Messages of a refused form, each next to its field.
#[derive(Default)]
pub(crate) struct Problems(Vec<(&'static str, String)>);

impl Problems {
    pub(super) fn one(field: &'static str, message: String) -> Problems {
        Problems(vec![(field, message)])
    }

    pub(crate) fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Messages about the form as a whole, or about fields the form does not show.
    pub(crate) fn general(&self, shown: &[&str]) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(f, _)| f.is_empty() || !shown.contains(f))
            .map(|(_, m)| m.as_str())
            .collect()
    }
}

/// Reasons written as Markdown (paragraphs, lists, emphasis, links) as HTML; the service cleans
/// it with ammonia before storing it, so anything Markdown lets through raw is removed there.
pub(super) fn markdown(text: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(text, pulldown_cmark::Options::empty());
    let mut html = String::with_capacity(text.len() * 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}
