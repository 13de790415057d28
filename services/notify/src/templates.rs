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
    let body = MAIL.try_lookup_with_args(&lang, &format!("{template}-body"), &fluent_args)?;
    Some((subject, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_in_every_language() {
        let args = serde_json::json!({ "name": "An", "link": "https://x.example/l", "site": "CertiBel", "minutes": 60, "version": 2,
            "kind": "add", "date": "2027-01-04", "summary": "Hosting moves", "reason": "objection upheld",
            "decision": "upheld", "outcome": "exclude", "note": "agreed" });
        for template in [
            "password-reset",
            "invitation",
            "data-confirmation",
            "subprocessor-notice",
            "subprocessor-withdrawn",
            "objection-decided",
            "privacy-notice",
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
            assert_eq!(seen.len(), 3, "{template}: the languages differ");
        }
    }
}
