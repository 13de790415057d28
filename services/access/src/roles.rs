//! Who may give which role (`policies/roles.csv`): `p, giver, domain, role.<role>, give`, loaded
//! into casbin with the rest of the policy and compiled per subject into one [`RoleSet`] per
//! domain. It decides two things: the roles a caller may give, and — because nobody should
//! change someone who holds more than they could give — whose roles, rights and account state a
//! caller may change at all.

use crate::vocab::{self, Domain, DomainSet};

/// The action of `roles.csv` lines.
pub const GIVE: &str = "give";

/// The prefix of the object of `roles.csv` lines: `role.admin`.
pub const ROLE_PREFIX: &str = "role.";

/// The position of `role.<name>` in [`vocab::ROLES`].
pub fn role_object(obj: &str) -> Option<usize> {
    let name = obj.strip_prefix(ROLE_PREFIX)?;
    vocab::ROLES.iter().position(|r| *r == name)
}

/// A set of roles, as a bit mask over [`vocab::ROLES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoleSet(u8);

impl RoleSet {
    pub const EMPTY: RoleSet = RoleSet(0);

    pub fn with(self, index: usize) -> RoleSet {
        RoleSet(self.0 | (1 << index))
    }

    pub fn union(self, other: RoleSet) -> RoleSet {
        RoleSet(self.0 | other.0)
    }

    pub fn contains_role(self, role: &str) -> bool {
        vocab::ROLES
            .iter()
            .position(|r| *r == role)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    pub fn names(self) -> impl Iterator<Item = &'static str> {
        vocab::ROLES
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, r)| *r)
    }
}

/// The roles given in each domain (indexed by `Domain as usize`).
pub type Givable = [RoleSet; 4];

/// The roles `givable` lets its holder give to a person related to them as `relation`.
pub fn in_relation(givable: &Givable, relation: DomainSet) -> RoleSet {
    Domain::ALL
        .into_iter()
        .filter(|d| relation.contains(*d))
        .fold(RoleSet::EMPTY, |set, d| set.union(givable[d as usize]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_objects_are_known_roles_only() {
        assert_eq!(role_object("role.admin"), Some(0));
        assert_eq!(role_object("role.client_user"), Some(5));
        assert_eq!(role_object("role.auditor"), None);
        assert_eq!(role_object("admin"), None);
    }

    #[test]
    fn sets_union_per_relation() {
        let mut g: Givable = [RoleSet::EMPTY; 4];
        g[Domain::All as usize] = RoleSet::EMPTY.with(1);
        g[Domain::Organisation as usize] = RoleSet::EMPTY.with(5);
        let own = DomainSet::EMPTY
            .with(Domain::All)
            .with(Domain::Organisation);
        let other = DomainSet::EMPTY.with(Domain::All);
        assert_eq!(
            in_relation(&g, own).names().collect::<Vec<_>>(),
            ["staff", "client_user"]
        );
        assert_eq!(
            in_relation(&g, other).names().collect::<Vec<_>>(),
            ["staff"]
        );
        assert!(!in_relation(&g, other).contains_role("client_user"));
    }
}
