//! Subprocessors in the browser (issue 15): the register as it stands now or stood on a date,
//! each entry with its history, the notices of change with their days left, objections lodged,
//! amended, withdrawn and decided, the subscription to the notices' mails, and the privacy
//! coordinator's management page (drafting, editing, publishing and withdrawing notices, the
//! objections to decide per notice). The register is also published as JSON, CSV and an Atom
//! feed, for signed-in people or, where the installation says so, for anyone.
//!
//! Every decision and audit record is `extranet_subprocessors`'s: a button appears only when the
//! caller's grants allow its action (delegated rights read from the database), and the service
//! decides again. Bad input comes back on its form with the typed values kept (422; a conflict
//! 409), with the message in the person's language.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use extranet_access::{
    Action, Domain, DomainSet, Masked, NoticeView, ObjectionView, Outward, Resource,
    SubprocessorView,
};
use extranet_directory::Caller;
use extranet_subprocessors::entry::{Entry, Location, MECHANISMS};
use extranet_subprocessors::notices::NoticeDraft;
use extranet_subprocessors::objections::{Decision, Tally};
use extranet_subprocessors::vocabulary::Kind;
use extranet_subprocessors::{Listing, Reader, Subprocessors, SubprocessorsError};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::i18n::Tr;
use crate::lang::Lang;
use crate::ui::confirm::{self, Confirm};
use crate::ui::{
    Chrome, CsrfForm, PageError, PageResult, PageRouter, SignedIn, Visitor, flash, render, words,
};

mod entry;
mod files;
mod list;
mod manage;
mod notice;
mod objection;
mod publish;
mod say;

use entry::*;
use files::*;
use list::*;
use manage::*;
use notice::*;
use objection::*;
use publish::*;
use say::*;

pub(crate) fn routes() -> Router {
    PageRouter::new()
        .page("/subprocessors", list)
        .page("/subprocessors.json", json_file)
        .page("/subprocessors.csv", csv_file)
        .page("/subprocessors/feed.atom", atom_feed)
        .form("/subprocessors/subscription", subscription)
        .page("/subprocessors/manage", manage)
        .page_and_form("/subprocessors/manage/new", new_page, create)
        .page_and_form("/subprocessors/manage/notices/{id}/edit", edit_page, edit)
        .page("/subprocessors/{id}", entry_page)
        .page_and_form("/subprocessors/notices/{id}", notice_page, object)
        .page_and_form(
            "/subprocessors/notices/{id}/publish",
            publish_confirm,
            publish,
        )
        .page_and_form(
            "/subprocessors/notices/{id}/withdraw",
            withdraw_confirm,
            withdraw,
        )
        .page_and_form("/subprocessors/objections/{id}", objection_page, amend)
        .page_and_form(
            "/subprocessors/objections/{id}/withdraw",
            withdraw_objection_confirm,
            withdraw_objection,
        )
        .form("/subprocessors/objections/{id}/decision", decide)
        .into_router()
}

pub(super) fn sp(me: &SignedIn) -> &Subprocessors {
    &me.services().subprocessors
}

pub(super) fn all() -> DomainSet {
    DomainSet::default().with(Domain::All)
}

pub(super) fn own() -> DomainSet {
    all().with(Domain::Organisation)
}

pub(super) fn parse_id(raw: &str) -> PageResult<Uuid> {
    raw.parse().map_err(|_| PageError::NotFound)
}

pub(super) fn may_object(c: &Caller) -> bool {
    c.grants
        .allows(Resource::Subprocessor, Action::Object, own())
}

pub(super) fn may_manage(c: &Caller) -> bool {
    c.grants
        .allows(Resource::Subprocessor, Action::Update, all())
}

pub(super) fn may_decide(c: &Caller) -> bool {
    c.grants.allows(Resource::Objection, Action::Decide, all())
}

pub(super) fn may_list_objections(c: &Caller) -> bool {
    !c.grants
        .domains(Resource::Objection, Action::List)
        .is_empty()
}
