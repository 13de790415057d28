//! Organisations, people and roles as the rest of the extranet sees them.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::types::{
    EmailAddress, EnterpriseNumber, Gender, Invalid, Language, LicencePlate, VatNumber,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    CertificationBody,
    Client,
    /// A rental company: its contacts carry training, birth date and licence plate.
    Rental,
}

impl OrganisationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrganisationKind::CertificationBody => "certification_body",
            OrganisationKind::Client => "client",
            OrganisationKind::Rental => "rental",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "certification_body" => Ok(OrganisationKind::CertificationBody),
            "client" => Ok(OrganisationKind::Client),
            "rental" => Ok(OrganisationKind::Rental),
            _ => Err(Invalid {
                code: "organisation-kind",
                message: "the kind is certification_body, client or rental".into(),
            }),
        }
    }
}

/// What a person may do, before instance scoping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Staff,
    PrivacyOfficer,
    Inspector,
    ClientAdmin,
    ClientUser,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Staff,
        Role::PrivacyOfficer,
        Role::Inspector,
        Role::ClientAdmin,
        Role::ClientUser,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::PrivacyOfficer => "privacy_officer",
            Role::Inspector => "inspector",
            Role::ClientAdmin => "client_admin",
            Role::ClientUser => "client_user",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Invalid {
                code: "role",
                message: format!("unknown role `{s}`"),
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    Invited,
    Active,
    Deactivated,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Invited => "invited",
            AccountState::Active => "active",
            AccountState::Deactivated => "deactivated",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "active" => AccountState::Active,
            "invited" => AccountState::Invited,
            // Anything unexpected is treated as the most restrictive state.
            _ => AccountState::Deactivated,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PostalAddress {
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Organisation {
    pub id: Uuid,
    pub kind: OrganisationKind,
    pub name: String,
    pub enterprise_number: Option<String>,
    pub vat_number: Option<String>,
    pub addresses: Vec<PostalAddress>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub sector: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub kind: OrganisationKind,
    pub name: String,
    pub enterprise_number: Option<EnterpriseNumber>,
    pub vat_number: Option<VatNumber>,
    pub addresses: Vec<PostalAddress>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub sector: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub surname: String,
    pub first_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub fax: Option<String>,
    pub function: Option<String>,
    pub gender: Gender,
    pub language: Language,
    pub training_valid_until: Option<Date>,
    pub birth_date: Option<Date>,
    pub state: AccountState,
    pub roles: Vec<Role>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewPerson {
    pub organisation_id: Uuid,
    pub surname: String,
    pub first_name: String,
    pub email: EmailAddress,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub fax: Option<String>,
    pub function: Option<String>,
    pub gender: Gender,
    pub language: Language,
    pub training_valid_until: Option<Date>,
    pub birth_date: Option<Date>,
    /// The licence plates of the person's professional vehicles (rental companies).
    pub licence_plates: Vec<LicencePlate>,
    pub roles: Vec<Role>,
}
