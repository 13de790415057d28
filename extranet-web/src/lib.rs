//! The server-rendered side of the extranet: pages, static assets and the three languages.
//!
//! Templates are askama (checked at compile time, auto-escaping); texts are Fluent files in
//! `locales/`; no page carries inline script or style, so the strict CSP holds everywhere.

pub mod access_report;
mod account;
mod assets;
mod audit_log;
mod backoffice;
mod consent;
mod directory;
mod documents;
mod facts;
mod home;
mod i18n;
mod lang;
pub mod pace;
mod pages;
pub mod privacy;
mod recovery;
mod retention;
mod rights;
mod second_factor;
pub mod session;
mod site;
mod staff;
mod subprocessors;
pub mod transfer;
pub mod ui;

pub use i18n::Tr;
pub use lang::{LANG_COOKIE, Lang, negotiate};
pub use pages::{Services, error_page, routes, streaming_routes};
pub use site::Site;
