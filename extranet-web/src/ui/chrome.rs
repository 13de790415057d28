//! The shell around every page: brand, navigation (from the policy), the person's name, the
//! language switch, sign-out and the message of the last action.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::extract::{SignedIn, Visitor};
use super::flash::FlashView;
use super::nav::{NavLink, links};
use crate::assets;
use crate::i18n::Tr;
use crate::lang::Lang;

pub(crate) struct Chrome {
    pub(crate) tr: Tr,
    pub(crate) lang: Lang,
    /// The current path, so that the language switch comes back to it.
    pub(crate) here: String,
    pub(crate) css: String,
    pub(crate) favicon: String,
    /// The sign-out form's token (empty when nobody is signed in).
    pub(crate) csrf: String,
    /// Empty when nobody is signed in.
    pub(crate) nav: Vec<NavLink>,
    /// The signed-in person's name.
    pub(crate) who: Option<String>,
    pub(crate) flash: Option<FlashView>,
    /// A changed privacy notice the signed-in person has not opened yet.
    pub(crate) privacy_banner: bool,
}

impl Chrome {
    /// A shell with no person and no message (the public home page, error pages).
    pub(crate) fn new(lang: Lang, here: &str) -> Chrome {
        Chrome {
            tr: Tr(lang),
            lang,
            here: here.to_owned(),
            css: assets::url("app.css"),
            favicon: assets::url("favicon.svg"),
            csrf: String::new(),
            nav: Vec::new(),
            who: None,
            flash: None,
            privacy_banner: false,
        }
    }

    pub(crate) fn public(v: &Visitor) -> Chrome {
        let mut c = Chrome::new(v.lang, &v.here);
        c.flash = v.flash.as_ref().and_then(|f| f.view(&c.tr));
        c
    }

    pub(crate) async fn signed_in(s: &SignedIn) -> Chrome {
        let mut c = Chrome::public(&s.v);
        c.csrf = s.v.csrf.clone();
        c.nav = links(&s.caller.grants, &s.v.here);
        c.who = name_of(s).await;
        c.privacy_banner = match s.services().privacy.notice_unseen(s.claims.sub).await {
            Ok(unseen) => unseen,
            Err(e) => {
                // The page stands without the banner.
                tracing::warn!(error = %e, "privacy notice banner not read");
                false
            }
        };
        c
    }

    pub(crate) fn languages(&self) -> [Lang; 3] {
        Lang::ALL
    }

    pub(crate) fn switch_links(&self) -> Vec<(Lang, String, bool)> {
        let next = url::form_urlencoded::byte_serialize(self.here.as_bytes()).collect::<String>();
        Lang::ALL
            .iter()
            .map(|l| {
                (
                    *l,
                    format!("/lang/{}?next={next}", l.code()),
                    *l == self.lang,
                )
            })
            .collect()
    }
}

/// How long a name shown in the header may lag behind a change of it.
const NAME_FRESH: Duration = Duration::from_secs(60);

/// Names in the header, so that a page does not read the person's record for them each time.
static NAMES: LazyLock<quick_cache::sync::Cache<Uuid, (Arc<str>, Instant)>> =
    LazyLock::new(|| quick_cache::sync::Cache::new(10_000));

async fn name_of(s: &SignedIn) -> Option<String> {
    let id = s.claims.sub;
    if let Some((name, at)) = NAMES.get(&id)
        && at.elapsed() < NAME_FRESH
    {
        return Some(name.to_string());
    }
    match extranet_identity::store::get_person(&s.services().auth.db, id).await {
        Ok(p) => {
            let name: Arc<str> = format!("{} {}", p.first_name, p.surname).into();
            NAMES.insert(id, (name.clone(), Instant::now()));
            Some(name.to_string())
        }
        Err(e) => {
            // The page stands without the name.
            tracing::warn!(error = %e, "name for the header not read");
            None
        }
    }
}

/// Forgets a cached name (after the person's record changed).
pub(crate) fn forget_name(id: Uuid) {
    NAMES.remove(&id);
}
