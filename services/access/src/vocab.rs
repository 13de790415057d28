//! The words a policy may use: subjects, domains, resources, actions. A policy line that uses any
//! other word is refused by `extranet policy check` and at start-up.

use std::fmt;

/// How a record relates to the caller (the casbin domain of a request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Domain {
    /// Any organisation: staff roles span all of them.
    All,
    /// The caller's own organisation.
    Organisation,
    /// A dossier assigned to the caller within the assignment's period, its organisation and
    /// contacts.
    Assignment,
    /// The caller's own record.
    SelfRecord,
}

impl Domain {
    pub const ALL: [Domain; 4] = [
        Domain::All,
        Domain::Organisation,
        Domain::Assignment,
        Domain::SelfRecord,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Domain::All => "all",
            Domain::Organisation => "organisation",
            Domain::Assignment => "assignment",
            Domain::SelfRecord => "self",
        }
    }

    pub fn parse(s: &str) -> Option<Domain> {
        Domain::ALL.into_iter().find(|d| d.as_str() == s)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of domains, as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct DomainSet(u8);

impl DomainSet {
    pub const EMPTY: DomainSet = DomainSet(0);

    pub fn with(self, d: Domain) -> DomainSet {
        DomainSet(self.0 | d.bit())
    }

    pub fn contains(self, d: Domain) -> bool {
        self.0 & d.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn union(self, other: DomainSet) -> DomainSet {
        DomainSet(self.0 | other.0)
    }

    pub fn intersects(self, other: DomainSet) -> bool {
        self.0 & other.0 != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Domain> {
        Domain::ALL.into_iter().filter(move |d| self.contains(*d))
    }
}

macro_rules! words {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|w| w.as_str() == s)
            }

            pub(crate) fn index(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words! {
    /// A kind of thing a request acts on.
    Resource {
        Organisation = "organisation",
        Person = "person",
        Dossier = "dossier",
        Assignment = "assignment",
        Audit = "audit",
        Document = "document",
        Subprocessor = "subprocessor",
        Invitation = "invitation",
        Objection = "objection",
        Register = "register",
        Retention = "retention",
        Consent = "consent",
        Newsletter = "newsletter",
        RightsRequest = "rights_request",
    }
}

words! {
    /// What a request does to a resource.
    Action {
        List = "list",
        Read = "read",
        Create = "create",
        Update = "update",
        Deactivate = "deactivate",
        Export = "export",
        Invite = "invite",
        Grant = "grant",
        Handover = "handover",
        End = "end",
        Search = "search",
        Upload = "upload",
        Object = "object",
        Delete = "delete",
        Restore = "restore",
        Hold = "hold",
        AccessLog = "access_log",
        ResetSecondFactor = "reset_second_factor",
        Status = "status",
        History = "history",
        Resend = "resend",
        Withdraw = "withdraw",
        Publish = "publish",
        Decide = "decide",
        Restrict = "restrict",
    }
}

/// The roles a person can hold (as in the identity crate and the access token).
pub const ROLES: [&str; 6] = [
    "admin",
    "staff",
    "privacy_officer",
    "inspector",
    "client_admin",
    "client_user",
];

/// The subject every caller is, for what anyone may do on their own record.
pub const PERSON: &str = "person";

/// Rights a primary contact may delegate to the company's other contacts: `right:<name>`
/// subjects in the policy.
pub const RIGHTS: [&str; 3] = ["document.read", "document.upload", "subprocessor.object"];

pub const RIGHT_PREFIX: &str = "right:";

/// Every subject a policy may name.
pub fn subjects() -> impl Iterator<Item = String> {
    ROLES
        .iter()
        .map(|r| (*r).to_owned())
        .chain(std::iter::once(PERSON.to_owned()))
        .chain(RIGHTS.iter().map(|r| format!("{RIGHT_PREFIX}{r}")))
}

pub fn is_subject(s: &str) -> bool {
    ROLES.contains(&s)
        || s == PERSON
        || s.strip_prefix(RIGHT_PREFIX)
            .is_some_and(|r| RIGHTS.contains(&r))
}

/// The action that viewing a field is, in the field grants.
pub const VIEW: &str = "view";
