//! The confirmation step of a destructive action, without script: the action's button on a page
//! is a link to this page (`GET`), which says what will happen and holds the form that does it
//! (`POST` to the same path), next to a way back. Every confirmation of the pages is this one.

use std::borrow::Cow;

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Chrome, SignedIn, render};

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    c: Chrome,
    site_name: String,
    ask: Confirm,
    more: Vec<String>,
    items: Vec<String>,
    csrf: String,
    /// The path the page was asked at, without its query: the form posts there.
    action: String,
}

/// What a confirmation page asks.
pub(crate) struct Confirm {
    /// The heading: the question, naming what is concerned.
    pub(crate) title: String,
    /// What it does.
    pub(crate) message: String,
    pub(crate) button: String,
    /// Fields the form posts besides its token.
    pub(crate) hidden: Vec<(Cow<'static, str>, String)>,
    /// Where "cancel" goes (the page the action was started from).
    pub(crate) cancel: String,
    /// A red button: the action takes something away.
    pub(crate) danger: bool,
}

/// A confirmation with more to say: further paragraphs and the items concerned (rights taken
/// away…), listed under the text.
pub(crate) struct Detailed {
    pub(crate) ask: Confirm,
    pub(crate) more: Vec<String>,
    pub(crate) items: Vec<String>,
}

impl Confirm {
    pub(crate) fn detailed(self, more: Vec<String>, items: Vec<String>) -> Detailed {
        Detailed {
            ask: self,
            more,
            items,
        }
    }
}

pub(crate) async fn page(me: &SignedIn, ask: Confirm) -> Response {
    detailed_page(me, ask.detailed(Vec::new(), Vec::new())).await
}

pub(crate) async fn detailed_page(me: &SignedIn, d: Detailed) -> Response {
    render(
        me.lang(),
        StatusCode::OK,
        &ConfirmPage {
            c: me.chrome().await,
            site_name: me.services().site.name.clone(),
            csrf: me.csrf(),
            action: me.v.here.split('?').next().unwrap_or("/").to_owned(),
            ask: d.ask,
            more: d.more,
            items: d.items,
        },
    )
}
