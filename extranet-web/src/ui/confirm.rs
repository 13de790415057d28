//! The confirmation step of a destructive action, without script: the action's button on a page
//! is a link to this page (`GET`), which says what will happen and holds the form that does it
//! (`POST` to the same path), next to a way back.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Chrome, SignedIn, render};

#[derive(Template)]
#[template(path = "confirm_action.html")]
struct ConfirmPage {
    c: Chrome,
    site_name: String,
    title: String,
    message: String,
    button: String,
    csrf: String,
    /// Fields the form posts besides its token.
    hidden: Vec<(&'static str, String)>,
    cancel: String,
    danger: bool,
}

/// What a confirmation page asks.
pub(crate) struct Confirm {
    pub(crate) title: String,
    pub(crate) message: String,
    pub(crate) button: String,
    pub(crate) hidden: Vec<(&'static str, String)>,
    /// Where "cancel" goes (the page the action was started from).
    pub(crate) cancel: String,
    pub(crate) danger: bool,
}

pub(crate) async fn page(me: &SignedIn, ask: Confirm) -> Response {
    render(
        me.lang(),
        StatusCode::OK,
        &ConfirmPage {
            c: me.chrome().await,
            site_name: me.services().site.name.clone(),
            title: ask.title,
            message: ask.message,
            button: ask.button,
            csrf: me.csrf(),
            hidden: ask.hidden,
            cancel: ask.cancel,
            danger: ask.danger,
        },
    )
}
