//! The closed lists request bodies take (languages, rights, roles, dossier states), as enums, so
//! the document publishes each list (`enum`) and a body with another word is refused (422,
//! naming the field) by the same schema the client reads. Each list is the domain's own: a unit
//! test keeps them equal.

use serde::Deserialize;
use utoipa::ToSchema;

macro_rules! words {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] #[schema(rename = $text)] $variant),*
        }

        impl $name {
            #[cfg_attr(not(test), allow(dead_code))]
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }
    };
}

words! {
    /// A person's language: `nl`, `fr` or `en`.
    Language { Nl = "nl", Fr = "fr", En = "en" }
}

words! {
    /// How a person is addressed: `mr`, `ms` or `unspecified`.
    Gender { Mr = "mr", Ms = "ms", Unspecified = "unspecified" }
}

words! {
    /// A right a primary contact may delegate to a contact.
    Right {
        DocumentRead = "document.read",
        DocumentUpload = "document.upload",
        SubprocessorObject = "subprocessor.object",
    }
}

words! {
    /// A role a person can hold.
    Role {
        Admin = "admin",
        Staff = "staff",
        PrivacyOfficer = "privacy_officer",
        Inspector = "inspector",
        ClientAdmin = "client_admin",
        ClientUser = "client_user",
    }
}

words! {
    /// Where a dossier stands.
    DossierStatus {
        Application = "application",
        Active = "active",
        Suspended = "suspended",
        Withdrawn = "withdrawn",
        Expired = "expired",
    }
}

words! {
    /// The kind of an organisation staff create (the certification body exists once).
    OrganisationKind { Client = "client", Rental = "rental" }
}

/// The words of a list, as the domain takes them.
pub fn strings<T: Copy>(items: &[T], as_str: fn(T) -> &'static str) -> Vec<String> {
    items.iter().map(|w| as_str(*w).to_owned()).collect()
}

words! {
    /// Where a notice stands.
    NoticeState { Draft = "draft", Published = "published", Withdrawn = "withdrawn", Applied = "applied" }
}

words! {
    /// What a notice changes.
    NoticeKind { Add = "add", Replace = "replace", Remove = "remove", Change = "change" }
}

words! {
    /// The privacy coordinator's decision on an objection.
    DecisionWord { Upheld = "upheld", Rejected = "rejected", Settled = "settled" }
}

words! {
    /// How an upheld objection is met.
    OutcomeWord { WithdrawNotice = "withdraw_notice", Exclude = "exclude" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|w| f(*w)).collect()
    }

    #[test]
    fn the_lists_are_the_domains_own() {
        assert_eq!(
            texts(Right::ALL, Right::as_str),
            extranet_access::vocab::RIGHTS
        );
        assert_eq!(
            texts(Role::ALL, Role::as_str),
            extranet_access::vocab::ROLES
        );
        assert_eq!(
            texts(DossierStatus::ALL, DossierStatus::as_str),
            extranet_directory::dossiers::STATUSES
        );
        for k in OrganisationKind::ALL {
            assert!(extranet_identity::OrganisationKind::parse(k.as_str()).is_ok());
        }
        for l in Language::ALL {
            assert!(l.as_str().parse::<extranet_identity::Language>().is_ok());
        }
        for g in Gender::ALL {
            assert!(g.as_str().parse::<extranet_identity::Gender>().is_ok());
        }
    }
}
