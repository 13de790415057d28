use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

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

/// The catalogue's keys (every language has the same ones: a test checks it).
const KEYS_SOURCE: &str = include_str!("../locales/en/main.ftl");

/// Messages without arguments, formatted once per language: a page asks for dozens of them,
/// and formatting each through Fluent on every request was a tenth of a page's cost.
static PLAIN: LazyLock<[HashMap<&'static str, String>; 3]> = LazyLock::new(|| {
    Lang::ALL.map(|lang| {
        let id = lang.langid();
        KEYS_SOURCE
            .lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && !l.contains("{ $"))
            .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim()))
            .filter_map(|k| LOCALES.try_lookup(&id, k).map(|text| (k, text)))
            .collect()
    })
});

/// Translations for one language, handed to templates as `tr`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text for `key`; a missing key shows as the key itself (a test keeps them complete).
    pub fn t(&self, key: &str) -> String {
        if let Some(text) = PLAIN[self.0.index()].get(key) {
            return text.clone();
        }
        LOCALES
            .try_lookup(&self.0.langid(), key)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The text for `key` with one named number (plural forms choose by it).
    pub fn n(&self, key: &str, name: &str, value: u64) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        args.insert(Cow::Owned(name.to_owned()), FluentValue::from(value));
        LOCALES
            .try_lookup_with_args(&self.0.langid(), key, &args)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The text for `key` with two named arguments.
    pub fn t2(&self, key: &str, (n1, v1): (&str, &str), (n2, v2): (&str, &str)) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        args.insert(Cow::Owned(n1.to_owned()), FluentValue::from(v1.to_owned()));
        args.insert(Cow::Owned(n2.to_owned()), FluentValue::from(v2.to_owned()));
        LOCALES
            .try_lookup_with_args(&self.0.langid(), key, &args)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The text for `key` with named arguments (numbers given as text still choose plural
    /// forms: they are passed as numbers when they parse as one).
    pub fn t_args(&self, key: &str, pairs: &[(&str, String)]) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        for (name, value) in pairs {
            let v = match value.parse::<u64>() {
                Ok(n) => FluentValue::from(n),
                Err(_) => FluentValue::from(value.clone()),
            };
            args.insert(Cow::Owned((*name).to_owned()), v);
        }
        LOCALES
            .try_lookup_with_args(&self.0.langid(), key, &args)
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
    fn the_precomputed_table_says_what_fluent_says() {
        for lang in Lang::ALL {
            let table = &PLAIN[lang.index()];
            assert!(table.len() > 50, "{lang:?}: {} plain messages", table.len());
            for (key, text) in table {
                let direct = LOCALES.try_lookup(&lang.langid(), key);
                assert_eq!(direct.as_deref(), Some(text.as_str()), "{lang:?} {key}");
            }
        }
        assert!(
            !PLAIN[0].contains_key("home-heading"),
            "messages with arguments stay out"
        );
    }

    #[test]
    fn lookups_differ_by_language() {
        let [nl, fr, en] = Lang::ALL.map(|l| Tr(l).t("nav-sign-in"));
        assert_eq!(en, "Sign in");
        assert_eq!(nl, "Aanmelden");
        assert_eq!(fr, "Se connecter");
    }
}
