//! What one caller may do and see: the union of their subjects' grants, computed once per request
//! from the decision table, then asked per record in a few bit operations.

use uuid::Uuid;

use crate::fields::{FieldSet, Outward};
use crate::policy::SubjectGrants;
use crate::roles::{self, Givable, RoleSet};
use crate::views::outward_types;
use crate::vocab::{Action, Domain, DomainSet, Resource};

pub(crate) const N_RESOURCES: usize = Resource::ALL.len();
pub(crate) const N_ACTIONS: usize = Action::ALL.len();
const N_TYPES: usize = outward_types().len();

#[derive(Debug, Clone)]
pub struct Grants {
    actions: [[DomainSet; N_ACTIONS]; N_RESOURCES],
    fields: [[FieldSet; 4]; N_TYPES],
    roles: Givable,
}

impl Grants {
    /// Nothing allowed, nothing visible.
    pub fn none() -> Grants {
        Grants {
            actions: [[DomainSet::EMPTY; N_ACTIONS]; N_RESOURCES],
            fields: [[FieldSet::EMPTY; 4]; N_TYPES],
            roles: [RoleSet::EMPTY; 4],
        }
    }

    pub(crate) fn absorb(&mut self, s: &SubjectGrants) {
        for (mine, theirs) in self.actions.iter_mut().zip(s.actions.iter()) {
            for (m, t) in mine.iter_mut().zip(theirs.iter()) {
                *m = m.union(*t);
            }
        }
        for (mine, theirs) in self.fields.iter_mut().zip(s.fields.iter()) {
            for (m, t) in mine.iter_mut().zip(theirs.iter()) {
                *m = m.union(*t);
            }
        }
        for (m, t) in self.roles.iter_mut().zip(s.roles.iter()) {
            *m = m.union(*t);
        }
    }

    /// The roles the caller may give to a person related to them as `relation` (roles.csv).
    pub fn givable(&self, relation: DomainSet) -> RoleSet {
        roles::in_relation(&self.roles, relation)
    }

    /// The domains in which the caller may perform `action` on `resource`.
    pub fn domains(&self, resource: Resource, action: Action) -> DomainSet {
        self.actions[resource.index()][action.index()]
    }

    /// Whether the caller may perform `action` on a record related to them as `relation`.
    pub fn allows(&self, resource: Resource, action: Action, relation: DomainSet) -> bool {
        self.domains(resource, action).intersects(relation)
    }

    /// The fields of `T` the caller sees on a record related to them as `relation`.
    pub fn visible<T: Outward>(&self, relation: DomainSet) -> FieldSet {
        let Some(t) = outward_types().iter().position(|(n, _)| *n == T::TYPE) else {
            return FieldSet::EMPTY;
        };
        let mut set = FieldSet::EMPTY;
        for d in relation.iter() {
            set = set.union(self.fields[t][d as usize]);
        }
        set
    }
}

/// How a record relates to its caller: every record is in domain `all`; it is in `organisation`
/// when it belongs to the caller's organisation, in `self` when it is the caller's own record,
/// and in `assignment` when the query found it through an assignment of the caller that is in
/// force now.
#[derive(Debug, Clone, Copy)]
pub struct Relation {
    pub caller_person: Uuid,
    pub caller_organisation: Uuid,
}

impl Relation {
    pub fn of(
        &self,
        organisation: Option<Uuid>,
        person: Option<Uuid>,
        via_assignment: bool,
    ) -> DomainSet {
        let mut set = DomainSet::EMPTY.with(Domain::All);
        if organisation == Some(self.caller_organisation) {
            set = set.with(Domain::Organisation);
        }
        if person == Some(self.caller_person) {
            set = set.with(Domain::SelfRecord);
        }
        if via_assignment {
            set = set.with(Domain::Assignment);
        }
        set
    }
}
