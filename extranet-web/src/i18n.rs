use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{Loader, static_loader};

use crate::lang::Lang;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Isolation marks around arguments show up as stray characters in e-mails and titles.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// Translations for one language, handed to templates as `tr`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text for `key`; a missing key shows as the key itself (a test keeps them complete).
    pub fn t(&self, key: &str) -> String {
        LOCALES
            .try_lookup(&self.0.langid(), key)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The text for `key` with one named argument.
    pub fn t1(&self, key: &str, name: &str, value: &str) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        args.insert(
            Cow::Owned(name.to_owned()),
            FluentValue::from(value.to_owned()),
        );
        LOCALES
            .try_lookup_with_args(&self.0.langid(), key, &args)
            .unwrap_or_else(|| key.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn keys(lang: &str) -> BTreeSet<String> {
        let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        text.lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && l.contains(" ="))
            .filter_map(|l| l.split(" =").next())
            .map(|k| k.trim().to_owned())
            .collect()
    }

    #[test]
    fn every_language_has_every_key() {
        let en = keys("en");
        assert!(en.len() > 10, "English catalogue not found or nearly empty");
        for lang in ["nl", "fr"] {
            let other = keys(lang);
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
            assert!(extra.is_empty(), "{lang} has keys English lacks: {extra:?}");
        }
    }

    #[test]
    fn lookups_differ_by_language() {
        let [nl, fr, en] = Lang::ALL.map(|l| Tr(l).t("nav-sign-in"));
        assert_eq!(en, "Sign in");
        assert_eq!(nl, "Aanmelden");
        assert_eq!(fr, "Se connecter");
    }
}
