use axum_extra::extract::CookieJar;
use fluent_langneg::{NegotiationStrategy, negotiate_languages, parse_accepted_languages};
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

/// The cookie the language switch sets.
pub const LANG_COOKIE: &str = "lang";

/// The languages the extranet speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Nl,
    Fr,
    #[default]
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Nl, Lang::Fr, Lang::En];

    /// The position in [`Lang::ALL`].
    pub(crate) fn index(self) -> usize {
        match self {
            Lang::Nl => 0,
            Lang::Fr => 1,
            Lang::En => 2,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The language's name in itself, as the language switch shows it.
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::Nl => "Nederlands",
            Lang::Fr => "Français",
            Lang::En => "English",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "nl" => Some(Lang::Nl),
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub(crate) fn langid(self) -> LanguageIdentifier {
        match self {
            Lang::Nl => unic_langid::langid!("nl"),
            Lang::Fr => unic_langid::langid!("fr"),
            Lang::En => unic_langid::langid!("en"),
        }
    }
}

/// The visitor's language: the switch's cookie if set, then `Accept-Language`, then the default.
pub fn negotiate(headers: &HeaderMap, default: Lang) -> Lang {
    let jar = CookieJar::from_headers(headers);
    if let Some(lang) = jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
        return lang;
    }
    let Some(accept) = headers
        .get(http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return default;
    };
    let requested = parse_accepted_languages(accept);
    let available = Lang::ALL.map(Lang::langid);
    let default_id = default.langid();
    negotiate_languages(
        &requested,
        &available,
        Some(&default_id),
        NegotiationStrategy::Lookup,
    )
    .first()
    .and_then(|id| Lang::parse(id.language.as_str()))
    .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                *k,
                v.parse()
                    .unwrap_or_else(|_| http::HeaderValue::from_static("")),
            );
        }
        h
    }

    #[test]
    fn accept_language_picks_the_first_supported() {
        let h = headers(&[("accept-language", "de-DE, fr-BE;q=0.8, nl;q=0.5")]);
        assert_eq!(negotiate(&h, Lang::En), Lang::Fr);
        let h = headers(&[("accept-language", "nl-BE,nl;q=0.9,en;q=0.8")]);
        assert_eq!(negotiate(&h, Lang::En), Lang::Nl);
    }

    #[test]
    fn cookie_wins_over_accept_language() {
        let h = headers(&[("accept-language", "fr"), ("cookie", "lang=nl")]);
        assert_eq!(negotiate(&h, Lang::En), Lang::Nl);
    }

    #[test]
    fn unknown_or_absent_falls_back_to_default() {
        assert_eq!(
            negotiate(&headers(&[("accept-language", "de, es")]), Lang::Fr),
            Lang::Fr
        );
        assert_eq!(
            negotiate(&headers(&[("cookie", "lang=xx")]), Lang::Nl),
            Lang::Nl
        );
        assert_eq!(negotiate(&HeaderMap::new(), Lang::En), Lang::En);
    }
}
