//! What every page shares, whatever its feature. A feature module starts its handlers from
//! these and nothing else:
//!
//! - [`Visitor`] / [`SignedIn`]: who asks (claims, the directory's [`Caller`], the client
//!   address), in which language, with the browser's CSRF token and the flash message;
//! - [`CsrfForm`] / [`CsrfMultipart`]: a posted form, readable only once its CSRF token and
//!   origin are checked;
//! - [`PageRouter`]: the only way to register a page route, which refuses (at compile time) a
//!   POST handler that does not take one of those two;
//! - [`PageError`]: a failure, logged with its cause and answered with the error page in the
//!   visitor's language (with the request id for the support desk);
//! - [`Chrome`]: the shell around every page (navigation from the policy, the person's name,
//!   language switch, sign-out, flash);
//! - [`words`]: names, dates, sizes and durations as people say them.
//!
//! [`Caller`]: extranet_directory::Caller

pub(crate) mod chrome;
pub(crate) mod confirm;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod flash;
pub mod form;
pub(crate) mod nav;
pub(crate) mod render;
pub mod router;
pub(crate) mod signed_in;
pub(crate) mod words;

pub(crate) use chrome::Chrome;
pub(crate) use error::{PageError, PageResult};
pub(crate) use extract::{SignedIn, Visitor};
pub use form::{CsrfForm, CsrfMultipart, CsrfUpload};
pub(crate) use render::render;
pub use router::PageRouter;
