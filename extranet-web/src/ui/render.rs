//! Turning a template into the response of a page.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::lang::Lang;

/// The page as a response; a template that fails to render is our failure (500, logged).
pub(crate) fn render(lang: Lang, status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => page_response(lang, status, html),
        Err(e) => super::PageError::from(e).into_response(),
    }
}

pub(crate) fn page_response(lang: Lang, status: StatusCode, body: impl IntoResponse) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("accept-language, cookie"),
    );
    // No Cache-Control here: the server's edge makes every response `no-store` unless its
    // handler says otherwise, so a page with someone's data is never kept in a cache.
    res
}
