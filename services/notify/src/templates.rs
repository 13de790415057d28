//! Mail texts in Dutch, French and English (Fluent catalogues in `locales/`).

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{Loader, static_loader};
use unic_langid::LanguageIdentifier;

static_loader! {
    static MAIL = {
        locales: "./locales",
        fallback_language: "en",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// Subject and plain-text body of `template` in `language` with `args`.
pub fn render(
    template: &str,
    language: &str,
    args: &serde_json::Value,
) -> Option<(String, String)> {
    let lang: LanguageIdentifier = match language {
        "nl" | "fr" | "en" => language.parse().ok()?,
        _ => "en".parse().ok()?,
    };
    let mut fluent_args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
    if let Some(map) = args.as_object() {
        for (k, v) in map {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            fluent_args.insert(Cow::Owned(k.clone()), FluentValue::from(text));
        }
    }
    let subject = MAIL.try_lookup_with_args(&lang, &format!("{template}-subject"), &fluent_args)?;
    let mut body = MAIL.try_lookup_with_args(&lang, &format!("{template}-body"), &fluent_args)?;
    if let Some(why) = essential(template) {
        body.push_str("\n\n");
        body.push_str(&MAIL.try_lookup(&lang, why)?);
    }
    Some((subject, body))
}

/// Why a mail that needs no consent is sent anyway: the line (a catalogue key) that ends it.
/// Every template is either essential (security, the account's data, legal notices) or relies
/// on consent and carries a withdrawal link; `None` for the latter.
pub fn essential(template: &str) -> Option<&'static str> {
    match template {
        "password-reset" | "invitation" => Some("essential-security"),
        "data-confirmation" => Some("essential-account"),
        "subprocessor-notice" | "subprocessor-withdrawn" | "objection-decided" => {
            Some("essential-legal")
        }
        "rights-confirm" | "rights-received" | "rights-update" => Some("essential-account"),
        "rights-reminder" | "rights-overdue" => Some("essential-legal"),
        "audit-checkpoint" => Some("essential-coordinator"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_in_every_language() {
        let args = serde_json::json!({ "name": "An", "link": "https://x.example/l", "site": "CertiBel", "minutes": 60, "version": 2,
            "kind": "add", "date": "2027-01-04", "summary": "Hosting moves", "reason": "objection upheld",
            "decision": "upheld", "outcome": "exclude", "note": "agreed", "subject": "Spring", "body": "News",
            "rights": "access", "hours": 24, "number": "2026-0001", "due": "2027-01-04", "step": "closed",
            "state": "refused", "ground": "legal_obligation", "receipt": "eyJ",
            "entries": 42, "hash": "ab12", "at": "2027-01-04T10:00:00Z", "checkpoint": "eyJhbGciOi.eyJzZXEiOjQyfQ.c2ln" });
        for template in [
            "password-reset",
            "invitation",
            "data-confirmation",
            "subprocessor-notice",
            "subprocessor-withdrawn",
            "objection-decided",
            "newsletter",
            "privacy-notice",
            "rights-confirm",
            "rights-received",
            "rights-update",
            "rights-reminder",
            "rights-overdue",
            "audit-checkpoint",
        ] {
            let mut seen = Vec::new();
            for lang in ["nl", "fr", "en"] {
                let (subject, body) = render(template, lang, &args).unwrap_or_default();
                assert!(!subject.is_empty(), "{template} {lang}");
                assert!(
                    body.contains("https://x.example/l"),
                    "{template} {lang}: {body}"
                );
                seen.push(subject);
            }
            seen.dedup();
            if template != "newsletter" {
                assert_eq!(seen.len(), 3, "{template}: the languages differ");
            }
        }
    }

    #[test]
    fn a_right_carried_out_is_named_in_the_requesters_language() {
        for (lang, word) in [("en", "erasure"), ("nl", "wissing"), ("fr", "l'effacement")] {
            let args = serde_json::json!({ "site": "CertiBel", "number": "2026-0001",
                "step": "carried_out", "state": "in_progress", "right": "erasure",
                "result": "partly", "ground": "legal_obligation", "note": "- document (title)",
                "due": "2027-01-04", "link": "https://x.example/l" });
            let (subject, body) = render("rights-update", lang, &args).unwrap_or_default();
            assert!(!subject.contains("carried_out"), "{lang}: {subject}");
            assert!(body.contains(word), "{lang}: {body}");
            assert!(body.contains("legal_obligation"), "{lang}: {body}");
            assert!(body.contains("- document (title)"), "{lang}: {body}");
        }
    }

    #[test]
    fn essential_mail_says_why_and_the_newsletter_does_not() {
        let args = serde_json::json!({ "name": "An", "link": "https://x.example/l", "site": "CertiBel", "minutes": 60,
            "kind": "add", "date": "2027-01-04", "summary": "s", "reason": "r", "decision": "upheld",
            "outcome": "exclude", "note": "n", "subject": "Spring", "body": "News" });
        let said = [
            ("en", "it is not a newsletter"),
            ("nl", "het is geen nieuwsbrief"),
            ("fr", "ce n'est pas une lettre d'information"),
        ];
        for template in [
            "password-reset",
            "invitation",
            "data-confirmation",
            "subprocessor-notice",
            "subprocessor-withdrawn",
            "objection-decided",
        ] {
            for (lang, line) in said {
                let (_, body) = render(template, lang, &args).unwrap_or_default();
                assert!(
                    body.lines().last().is_some_and(|l| l.contains(line)),
                    "{template} {lang}: {body}"
                );
            }
        }
        for (lang, line) in said {
            let (subject, body) = render("newsletter", lang, &args).unwrap_or_default();
            assert_eq!(subject, "Spring");
            assert!(body.starts_with("News"), "{lang}: {body}");
            assert!(!body.contains(line), "{lang}: {body}");
        }
    }
}
