//! What an action says after it is done, on the page it leads to ("Document deleted."). The
//! message travels as the key of a catalogue text in a short-lived `__Host-flash` cookie set
//! with the redirect; the session layer hands it to the next page and clears it once a page has
//! shown it. Only keys of the catalogue are shown, so a forged cookie can show nothing else.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};

use crate::i18n::Tr;

pub(crate) const FLASH_COOKIE: &str = "__Host-flash";

/// The longest value a message names (an e-mail address is at most 254 characters).
const ARG_LIMIT: usize = 254;

/// A message for the next page: a catalogue key and whether it reports a success or a problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Flash {
    pub(crate) key: String,
    pub(crate) ok: bool,
    /// The one value the text names (`{ $value }`: an address, a name), shown escaped.
    pub(crate) arg: Option<String>,
}

/// A message as a page shows it.
pub(crate) struct FlashView {
    pub(crate) text: String,
    pub(crate) ok: bool,
}

impl Flash {
    /// The flash the browser sent, if any and well-formed (`ok:key` or `no:key`).
    pub(crate) fn of(headers: &HeaderMap) -> Option<Flash> {
        let raw = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| Cookie::split_parse(v).flatten())
            .find(|c| c.name() == FLASH_COOKIE)?
            .value()
            .to_owned();
        let (kind, rest) = raw.split_once(':')?;
        let (key, arg) = match rest.split_once(':') {
            Some((key, arg)) => (
                key,
                Some(
                    percent_encoding::percent_decode_str(arg)
                        .decode_utf8()
                        .ok()?
                        .chars()
                        .take(ARG_LIMIT)
                        .collect::<String>(),
                ),
            ),
            None => (rest, None),
        };
        let well_formed = !key.is_empty()
            && key.len() <= 64
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit());
        (well_formed && matches!(kind, "ok" | "no")).then(|| Flash {
            key: key.to_owned(),
            ok: kind == "ok",
            arg,
        })
    }

    /// The message in the visitor's language; a key the catalogue does not have shows nothing.
    pub(crate) fn view(&self, tr: &Tr) -> Option<FlashView> {
        let key = format!("flash-{}", self.key);
        let text = match &self.arg {
            Some(arg) => tr.t1(&key, "value", arg),
            None => tr.t(&key),
        };
        (text != key).then_some(FlashView { text, ok: self.ok })
    }
}

fn cookie(value: String, max_age: time::Duration) -> Option<HeaderValue> {
    let c = Cookie::build((FLASH_COOKIE, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .build();
    HeaderValue::from_str(&c.to_string()).ok()
}

/// The cookie that removes a shown message.
pub(crate) fn cleared() -> Option<HeaderValue> {
    cookie(String::new(), time::Duration::ZERO)
}

/// Goes to `to` (a local path) and says there that `key` (`flash-<key>` in the catalogue)
/// happened.
pub(crate) fn done(to: &str, key: &str) -> Response {
    with(to, key, true, None)
}

/// Goes to `to` and says there that `key` happened, naming one value (`{ $value }`: a count,
/// a name), shown escaped.
pub(crate) fn done_with(to: &str, key: &str, value: &str) -> Response {
    with(to, key, true, Some(value))
}

/// Goes to `to` and says there that `key` went wrong.
pub(crate) fn failed(to: &str, key: &str) -> Response {
    with(to, key, false, None)
}

fn with(to: &str, key: &str, ok: bool, arg: Option<&str>) -> Response {
    let mut res = Redirect::to(to).into_response();
    let mut value = format!("{}:{key}", if ok { "ok" } else { "no" });
    if let Some(arg) = arg {
        let arg: String = arg.chars().take(ARG_LIMIT).collect();
        value.push(':');
        value.extend(percent_encoding::utf8_percent_encode(
            &arg,
            percent_encoding::NON_ALPHANUMERIC,
        ));
    }
    if let Some(c) = cookie(value, time::Duration::minutes(5)) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key handed to `flash::done`, `done_with` or `failed` in the sources is a message of
    /// the catalogue once `flash-` is put before it (a key written with the prefix shows nothing).
    #[test]
    fn every_flash_key_in_the_sources_is_in_the_catalogue() {
        fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    files(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let mut all = Vec::new();
        files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut all,
        );
        let tr = Tr(crate::lang::Lang::En);
        let mut seen = 0;
        for f in all {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for call in ["flash::done(", "flash::done_with(", "flash::failed("] {
                for (at, _) in text.match_indices(call) {
                    // The call's arguments: up to its closing parenthesis.
                    let window: String = text[at + call.len()..].chars().take(600).collect();
                    let mut depth = 1;
                    let mut end = window.len();
                    for (i, ch) in window.char_indices() {
                        match ch {
                            '(' => depth += 1,
                            ')' => depth -= 1,
                            _ => {}
                        }
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    for lit in window[..end].split('"').skip(1).step_by(2) {
                        if lit.contains('-')
                            && lit
                                .bytes()
                                .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit())
                        {
                            let key = format!("flash-{lit}");
                            assert_ne!(
                                tr.t1(&key, "value", "1"),
                                key,
                                "{}: no message {key}",
                                f.display()
                            );
                            seen += 1;
                        }
                    }
                }
            }
        }
        assert!(
            seen > 10,
            "only {seen} flash keys found: the scan is broken"
        );
    }

    fn with_cookie(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn only_catalogue_shaped_keys_are_read() {
        let f = Flash::of(&with_cookie("__Host-flash=ok:document-deleted")).unwrap();
        assert_eq!(
            f,
            Flash {
                key: "document-deleted".into(),
                ok: true,
                arg: None
            }
        );
        let f = Flash::of(&with_cookie("__Host-flash=ok:invited:a%3Cb%40c")).unwrap();
        assert_eq!(f.arg.as_deref(), Some("a<b@c"));
        for bad in [
            "__Host-flash=ok:<script>",
            "__Host-flash=maybe:x",
            "__Host-flash=ok:",
        ] {
            assert!(Flash::of(&with_cookie(bad)).is_none(), "{bad}");
        }
    }

    #[test]
    fn unknown_keys_show_nothing() {
        let tr = Tr(crate::lang::Lang::En);
        let f = Flash {
            key: "no-such-message".into(),
            ok: true,
            arg: None,
        };
        assert!(f.view(&tr).is_none());
    }
}
