//! The outward types of this records. Every field of each has grants per subject and
//! domain in `policies/fields.csv`; a field without one is masked.

use uuid::Uuid;

use crate::fields::Outward;
use crate::outward;

outward! {
    /// An organisation: the certification body, a client or a rental company.
    pub struct OrganisationView as "organisation" {
        pub id: Uuid,
        /// `certification_body`, `client` or `rental`.
        pub kind: String,
        pub name: String,
        pub active: bool,
        pub enterprise_number: Option<String>,
        pub vat_number: Option<String>,
        /// One line per postal address.
        pub addresses: Vec<String>,
        pub phone: Option<String>,
        pub fax: Option<String>,
        pub sector: Option<String>,
    }
}

outward! {
    /// A person: a contact of a company, an inspector, a member of staff.
    pub struct PersonView as "person" {
        pub id: Uuid,
        pub organisation_id: Uuid,
        pub surname: String,
        pub first_name: String,
        pub email: String,
        pub phone: Option<String>,
        pub mobile: Option<String>,
        pub fax: Option<String>,
        pub function: Option<String>,
        /// `mr`, `ms` or `unspecified`.
        pub gender: String,
        /// `nl`, `fr` or `en`.
        pub language: String,
        /// ISO date.
        pub training_valid_until: Option<String>,
        /// ISO date.
        pub birth_date: Option<String>,
        /// The licence plates of the person's professional vehicles (rental companies).
        pub licence_plates: Vec<String>,
        /// `invited`, `active` or `deactivated`.
        pub state: String,
        pub roles: Vec<String>,
        /// Rights delegated by the company's primary contact.
        pub rights: Vec<String>,
        /// RFC 3339.
        pub created_at: String,
    }
}

outward! {
    /// A certification dossier of a client company.
    pub struct DossierView as "dossier" {
        pub id: Uuid,
        pub organisation_id: Uuid,
        pub organisation_name: String,
        pub scheme: String,
        pub certificate_number: Option<String>,
        /// `application`, `active`, `suspended`, `withdrawn` or `expired`.
        pub status: String,
        /// ISO date.
        pub valid_from: Option<String>,
        /// ISO date.
        pub valid_until: Option<String>,
        /// RFC 3339.
        pub created_at: String,
    }
}

outward! {
    /// An inspector's assignment to a dossier for a period.
    pub struct AssignmentView as "assignment" {
        pub id: Uuid,
        pub dossier_id: Uuid,
        pub inspector_id: Uuid,
        pub inspector_name: String,
        /// RFC 3339.
        pub starts_at: String,
        /// RFC 3339; the assignment gives access until this instant, not after.
        pub ends_at: String,
        /// `planned`, `active` or `ended`.
        pub state: String,
        /// RFC 3339.
        pub created_at: String,
    }
}

/// Every outward type's name and fields: what the field grants must cover.
pub const fn outward_types() -> [(&'static str, &'static [&'static str]); 12] {
    [
        (OrganisationView::TYPE, OrganisationView::FIELDS),
        (PersonView::TYPE, PersonView::FIELDS),
        (DossierView::TYPE, DossierView::FIELDS),
        (AssignmentView::TYPE, AssignmentView::FIELDS),
        (DocumentView::TYPE, DocumentView::FIELDS),
        (VersionView::TYPE, VersionView::FIELDS),
        (DocumentAccessView::TYPE, DocumentAccessView::FIELDS),
        (SubprocessorView::TYPE, SubprocessorView::FIELDS),
        (NoticeView::TYPE, NoticeView::FIELDS),
        (ObjectionView::TYPE, ObjectionView::FIELDS),
        (RightsRequestView::TYPE, RightsRequestView::FIELDS),
        (RightsEventView::TYPE, RightsEventView::FIELDS),
    ]
}

outward! {
    /// A subprocessor in the register, as it stands on the date asked for.
    pub struct SubprocessorView as "subprocessor" {
        pub id: Uuid,
        pub legal_name: String,
        /// Enterprise or registration number.
        pub registration_number: String,
        pub website: String,
        /// What it does for the certification body.
        pub service: String,
        /// Codes of `policies/data_categories.csv` (kind `data`).
        pub data_categories: Vec<String>,
        /// Codes of `policies/data_categories.csv` (kind `subjects`).
        pub subject_categories: Vec<String>,
        /// ISO 3166-1 alpha-2 codes of where it processes personal data.
        pub locations: Vec<String>,
        /// `US: standard_contractual_clauses` for each location outside the EEA.
        pub transfers: Vec<String>,
        /// ISO date of the processing agreement.
        pub agreement_date: Option<String>,
        /// `announced`, `active` or `retired`.
        pub state: String,
        /// True when an upheld objection took the caller's company out of this entry: it does
        /// not process that company's data.
        pub excluded: bool,
    }
}

outward! {
    /// A change notice: a planned addition, replacement, removal or change of an entry.
    pub struct NoticeView as "notice" {
        pub id: Uuid,
        /// `add`, `replace`, `remove` or `change`.
        pub kind: String,
        /// `draft`, `published`, `withdrawn` or `applied`.
        pub state: String,
        /// The entry added, changed or removed (for a replacement: the new one).
        pub subprocessor_id: Option<Uuid>,
        pub subprocessor_name: String,
        /// A replacement: the entry it replaces.
        pub replaces_id: Option<Uuid>,
        pub replaces_name: Option<String>,
        /// What changes and why (plain text).
        pub summary: String,
        /// The entry as it will be (empty for a removal).
        pub service: Option<String>,
        pub locations: Vec<String>,
        pub transfers: Vec<String>,
        pub data_categories: Vec<String>,
        pub subject_categories: Vec<String>,
        /// RFC 3339: the change takes effect, and the period to object closes, then.
        pub effective_at: String,
        /// RFC 3339.
        pub published_at: Option<String>,
        pub withdrawn_at: Option<String>,
        pub withdrawal_reason: Option<String>,
        pub applied_at: Option<String>,
        /// Whole days left to object (0 once closed).
        pub days_left: i64,
        /// Its date has come, and it waits for the objections still open to be decided.
        pub waiting: bool,
    }
}

outward! {
    /// A client company's objection to a notice, with its decision.
    pub struct ObjectionView as "objection" {
        pub id: Uuid,
        pub notice_id: Uuid,
        pub organisation_id: Uuid,
        pub organisation_name: String,
        /// Who lodged it (name).
        pub author_name: String,
        /// Cleaned HTML (paragraphs, lists, emphasis, links).
        pub reasons: String,
        /// `open`, `withdrawn`, `upheld`, `rejected` or `settled`.
        pub state: String,
        /// For an upheld objection: `withdraw_notice` or `exclude`.
        pub outcome: Option<String>,
        /// The justification of a rejection, or the note of an upheld or settled objection.
        pub decision_note: Option<String>,
        /// RFC 3339.
        pub decided_at: Option<String>,
        /// RFC 3339.
        pub created_at: String,
        /// RFC 3339.
        pub updated_at: String,
    }
}

outward! {
    /// A certification document with its latest version.
    pub struct DocumentView as "document" {
        pub id: Uuid,
        pub dossier_id: Uuid,
        pub title: String,
        /// One of the configured document types.
        pub doc_type: String,
        /// The number of the latest version.
        pub version: i64,
        /// The latest version's display name (sanitised; metadata only).
        pub file_name: String,
        /// Detected from the bytes.
        pub media_type: String,
        /// Bytes.
        pub size: i64,
        /// Lower-case hex; the download's ETag.
        pub sha256: String,
        /// RFC 3339.
        pub uploaded_at: String,
        /// Who uploaded the latest version (name).
        pub uploaded_by: String,
        /// RFC 3339, when soft-deleted (staff only see deleted documents).
        pub deleted_at: Option<String>,
    }
}

outward! {
    /// One version of a document.
    pub struct VersionView as "version" {
        pub document_id: Uuid,
        pub version: i64,
        pub file_name: String,
        pub media_type: String,
        pub size: i64,
        pub sha256: String,
        /// RFC 3339.
        pub uploaded_at: String,
        pub uploaded_by: String,
    }
}

outward! {
    /// Who viewed or downloaded a company's document, for the company's primary contact.
    pub struct DocumentAccessView as "document_access" {
        /// RFC 3339.
        pub at: String,
        /// `document.view` or `document.download`.
        pub action: String,
        pub document_id: Uuid,
        pub document_title: String,
        pub version: Option<i64>,
        pub actor_name: String,
        /// The actor's roles.
        pub actor_roles: Vec<String>,
        pub actor_organisation: String,
    }
}

outward! {
    /// A data subject's rights request: what it asks, where it stands, when it is due.
    pub struct RightsRequestView as "rights_request" {
        pub id: Uuid,
        /// `2026-0042`: the year of receipt and a running number; none before the address is
        /// confirmed.
        pub number: Option<String>,
        /// Words of `access`, `rectification`, `erasure`, `restriction`, `portability`,
        /// `objection`, `withdrawal`.
        pub rights: Vec<String>,
        /// The requester's own words.
        pub details: String,
        /// A rectification's proposed values, field → value.
        pub proposals: Option<serde_json::Value>,
        /// The requester's name and address.
        pub name: String,
        pub email: String,
        /// nl, fr or en: the language of the mails about it.
        pub language: String,
        /// `account` (filed signed in) or `public` (filed by a confirmed address).
        pub channel: String,
        /// `unconfirmed`, `received`, `identity_check`, `in_progress`, `extended`,
        /// `fulfilled`, `partly_fulfilled` or `refused`.
        pub state: String,
        /// RFC 3339.
        pub received_at: Option<String>,
        /// The day the answer is due (YYYY-MM-DD, the installation's calendar): one month after
        /// receipt, or the extended date.
        pub due_on: Option<String>,
        /// The due date before an extension (YYYY-MM-DD) when it was extended.
        pub original_due_on: Option<String>,
        pub extension_reason: Option<String>,
        /// Past its due date and not closed.
        pub overdue: bool,
        /// Who handles it (name).
        pub assignee_name: Option<String>,
        /// What was done, and where something was refused, the legal ground.
        pub outcome_note: Option<String>,
        pub refusal_ground: Option<String>,
        /// RFC 3339.
        pub closed_at: Option<String>,
        /// The signed receipt (a compact JWS verifiable with /.well-known/jwks.json).
        pub receipt: Option<String>,
        /// RFC 3339.
        pub created_at: String,
    }
}

outward! {
    /// One step of a rights request.
    pub struct RightsEventView as "rights_event" {
        /// RFC 3339.
        pub at: String,
        /// `filed`, `confirmed`, `received`, `assigned`, `comment`, `identity_check`,
        /// `in_progress`, `extended`, `carried_out`, `closed`, `reminded`.
        pub kind: String,
        /// The request's state after it.
        pub state: String,
        /// Who did it (name); none for the requester's own and the system's steps.
        pub actor_name: Option<String>,
        pub note: Option<String>,
        /// What the system did when a right was carried out (`carried_out`): the right, its
        /// result (`done`, `partly`, `refused`, `nothing_held`), the ground of what it did
        /// not do, and what it did.
        pub detail: Option<serde_json::Value>,
        /// An internal note of the staff, never shown to the requester.
        pub internal: bool,
    }
}
