//! The navigation of the signed-in part, from the policy: a link appears only when the person's
//! grants let them reach its page, so nobody is shown a page that would refuse them.

use extranet_access::{Action, Domain, DomainSet, Grants, Resource};

/// One entry of the navigation.
pub(crate) struct NavLink {
    pub(crate) href: &'static str,
    /// Catalogue key of its label.
    pub(crate) label: &'static str,
    pub(crate) current: bool,
}

fn any() -> DomainSet {
    [
        Domain::All,
        Domain::Organisation,
        Domain::Assignment,
        Domain::SelfRecord,
    ]
    .into_iter()
    .fold(DomainSet::default(), DomainSet::with)
}

fn all() -> DomainSet {
    DomainSet::default().with(Domain::All)
}

fn own_organisation() -> DomainSet {
    DomainSet::default().with(Domain::Organisation)
}

/// What each page of the navigation needs from the policy.
pub(crate) fn may_reach(grants: &Grants, href: &str) -> bool {
    match href {
        "/home" | "/account" => true,
        "/dossiers" => grants.allows(Resource::Dossier, Action::List, any()),
        // A company's own page: its people, for those who see their own organisation.
        "/company" => grants.allows(Resource::Organisation, Action::Read, own_organisation()),
        "/company/access-log" => {
            grants.allows(Resource::Document, Action::AccessLog, own_organisation())
        }
        "/subprocessors" => grants.allows(Resource::Subprocessor, Action::List, all()),
        "/subprocessors/manage" => grants.allows(Resource::Subprocessor, Action::Update, all()),
        "/staff/organisations" => grants.allows(Resource::Organisation, Action::List, all()),
        "/staff/assignments" => grants.allows(Resource::Assignment, Action::Create, all()),
        "/staff/audit" => grants.allows(Resource::Audit, Action::Search, all()),
        "/privacy/retention" => {
            grants.allows(Resource::Retention, Action::Read, all())
                || grants.allows(Resource::Person, Action::Hold, all())
        }
        "/newsletter" => grants.allows(Resource::Newsletter, Action::List, all()),
        "/privacy/register" => crate::privacy::may_read_register(grants),
        "/privacy/requests" => grants.allows(Resource::RightsRequest, Action::Update, all()),
        _ => false,
    }
}

/// The navigation's entries, in reading order.
const ENTRIES: [(&str, &str); 14] = [
    ("/home", "menu-home"),
    ("/dossiers", "menu-dossiers"),
    ("/company", "menu-company"),
    ("/company/access-log", "menu-access-log"),
    ("/subprocessors", "sp-menu"),
    ("/subprocessors/manage", "sp-menu-manage"),
    ("/staff/organisations", "menu-organisations"),
    ("/staff/assignments", "menu-assignments"),
    ("/staff/audit", "menu-audit-log"),
    ("/privacy/retention", "retention-menu"),
    ("/newsletter", "consent-menu-newsletter"),
    ("/privacy/register", "privacy-menu-register"),
    ("/privacy/requests", "rights-menu"),
    ("/account", "menu-account"),
];

/// The links this person sees; `here` (the current path) marks the current one.
pub(crate) fn links(grants: &Grants, here: &str) -> Vec<NavLink> {
    let path = here.split(['?', '#']).next().unwrap_or(here);
    // The longest entry that is a prefix of the path is the section the page belongs to.
    let current = ENTRIES
        .iter()
        .filter(|(href, _)| {
            path == *href
                || (path.starts_with(href) && path.as_bytes().get(href.len()) == Some(&b'/'))
        })
        .map(|(href, _)| *href)
        .max_by_key(|h| h.len());
    ENTRIES
        .iter()
        .filter(|(href, _)| may_reach(grants, href))
        .map(|(href, label)| NavLink {
            href,
            label,
            current: Some(*href) == current,
        })
        .collect()
}
