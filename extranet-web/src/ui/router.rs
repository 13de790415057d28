//! The only way pages are routed. `page` registers a `GET` handler; `form` registers a `POST`
//! handler and accepts only one whose last argument is a [`CsrfForm`], a [`CsrfMultipart`] or a
//! [`CsrfUpload`]:
//! a state-changing page route without the CSRF check does not compile.
//!
//! ```
//! use extranet_web::ui::{CsrfForm, PageRouter};
//! #[derive(serde::Deserialize)]
//! struct Rename { name: String }
//! async fn rename(CsrfForm(form): CsrfForm<Rename>) -> String { form.name }
//! let _ = PageRouter::<()>::new().form("/rename", rename);
//! ```
//!
//! The same handler reading the form without the check is refused by the compiler:
//!
//! ```compile_fail
//! use axum::Form;
//! use extranet_web::ui::PageRouter;
//! #[derive(serde::Deserialize)]
//! struct Rename { name: String }
//! async fn rename(Form(form): Form<Rename>) -> String { form.name }
//! let _ = PageRouter::<()>::new().form("/rename", rename);
//! ```

use axum::Router;
use axum::handler::Handler;
use axum::routing::{get, post};

use super::form::{CsrfForm, CsrfMultipart, CsrfUpload};

mod sealed {
    pub trait Sealed {}
}

/// Implemented by the argument lists (as axum's `Handler` sees them: a marker, then the
/// extractors) whose last extractor checks the CSRF token. Sealed: only this module says which.
pub trait ChecksCsrf: sealed::Sealed {}

macro_rules! checks_csrf {
    ($($ty:ident),*) => {
        impl<M, F, $($ty,)*> sealed::Sealed for (M, $($ty,)* CsrfForm<F>,) {}
        impl<M, F, $($ty,)*> ChecksCsrf for (M, $($ty,)* CsrfForm<F>,) {}
        impl<M, $($ty,)*> sealed::Sealed for (M, $($ty,)* CsrfMultipart,) {}
        impl<M, $($ty,)*> ChecksCsrf for (M, $($ty,)* CsrfMultipart,) {}
        impl<M, $($ty,)*> sealed::Sealed for (M, $($ty,)* CsrfUpload,) {}
        impl<M, $($ty,)*> ChecksCsrf for (M, $($ty,)* CsrfUpload,) {}
    };
}

checks_csrf!();
checks_csrf!(T1);
checks_csrf!(T1, T2);
checks_csrf!(T1, T2, T3);
checks_csrf!(T1, T2, T3, T4);
checks_csrf!(T1, T2, T3, T4, T5);
checks_csrf!(T1, T2, T3, T4, T5, T6);
checks_csrf!(T1, T2, T3, T4, T5, T6, T7);

/// Page routes under construction; [`PageRouter::into_router`] hands them to axum.
pub struct PageRouter<S = ()> {
    inner: Router<S>,
}

impl<S: Clone + Send + Sync + 'static> Default for PageRouter<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + Send + Sync + 'static> PageRouter<S> {
    pub fn new() -> Self {
        PageRouter {
            inner: Router::new(),
        }
    }

    /// A page read with `GET` (and `HEAD`).
    pub fn page<H, T>(self, path: &str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        PageRouter {
            inner: self.inner.route(path, get(handler)),
        }
    }

    /// A form posted to `path`; its handler must take a CSRF-checked form last.
    pub fn form<H, T>(self, path: &str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: ChecksCsrf + 'static,
    {
        PageRouter {
            inner: self.inner.route(path, post(handler)),
        }
    }

    /// A page and the form it posts to itself.
    pub fn page_and_form<G, TG, P, TP>(self, path: &str, page: G, form: P) -> Self
    where
        G: Handler<TG, S>,
        TG: 'static,
        P: Handler<TP, S>,
        TP: ChecksCsrf + 'static,
    {
        PageRouter {
            inner: self.inner.route(path, get(page).post(form)),
        }
    }

    pub fn merge(self, other: PageRouter<S>) -> Self {
        PageRouter {
            inner: self.inner.merge(other.inner),
        }
    }

    /// Gives the handlers their state.
    pub fn with_state<S2>(self, state: S) -> PageRouter<S2> {
        PageRouter {
            inner: self.inner.with_state(state),
        }
    }

    pub fn into_router(self) -> Router<S> {
        self.inner
    }
}
