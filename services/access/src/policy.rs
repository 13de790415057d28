//! The policy: `policies/model.conf`, `policy.csv` (actions) and `fields.csv` (field grants),
//! checked word by word, loaded into casbin, and compiled into a decision table. Requests never
//! call casbin: the table answers in a few array lookups, and it is rebuilt from the files on
//! every load (start-up, SIGHUP), so casbin stays the one source of every decision.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use casbin::{CoreApi, DefaultModel, Enforcer, RbacApi, StringAdapter};

use crate::error::{AccessError, Result};
use crate::fields::{FieldSet, Outward};
use crate::grants::{Grants, N_ACTIONS, N_RESOURCES};
use crate::roles::{self, Givable, RoleSet};
use crate::views::outward_types;
use crate::vocab::{self, Action, Domain, DomainSet, Resource};

/// The policy files' texts, and where they came from (for messages).
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub model: String,
    pub policy: String,
    pub fields: String,
    /// Who may give which role (`roles.rs`).
    pub roles: String,
    pub origin: String,
}

impl PolicySource {
    /// The policy this build was made with (`policies/` of the source tree).
    pub fn embedded() -> PolicySource {
        PolicySource {
            model: include_str!("../../../policies/model.conf").to_owned(),
            policy: include_str!("../../../policies/policy.csv").to_owned(),
            fields: include_str!("../../../policies/fields.csv").to_owned(),
            roles: include_str!("../../../policies/roles.csv").to_owned(),
            origin: "the built-in policy".to_owned(),
        }
    }

    /// `model.conf`, `policy.csv`, `fields.csv` and `roles.csv` from a directory.
    pub fn from_dir(dir: &Path) -> Result<PolicySource> {
        let read = |name: &str| -> Result<String> {
            let path: PathBuf = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| {
                AccessError::Policy(format!("cannot read policy file {}: {e}", path.display()))
            })
        };
        Ok(PolicySource {
            model: read("model.conf")?,
            policy: read("policy.csv")?,
            fields: read("fields.csv")?,
            roles: read("roles.csv")?,
            origin: dir.display().to_string(),
        })
    }
}

/// What `extranet policy check` reports.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Lines that name an unknown subject, domain, resource, action or field: the policy is refused.
    pub errors: Vec<String>,
    /// `type.field` of every outward field that no line grants to anyone: always masked.
    pub ungranted: Vec<String>,
}

/// The lines of a policy file with comments and blank lines removed, as (line number, cells).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(n, line)| {
        let line = line.trim();
        (!line.is_empty() && !line.starts_with('#'))
            .then(|| (n + 1, line.split(',').map(str::trim).collect()))
    })
}

fn field_position(name: &str) -> Option<(usize, usize)> {
    let (ty, field) = name.split_once('.')?;
    let types = outward_types();
    let t = types.iter().position(|(n, _)| *n == ty)?;
    let f = types[t].1.iter().position(|x| *x == field)?;
    Some((t, f))
}

/// Checks every line of the policy against the words the code knows.
pub fn check(src: &PolicySource) -> Report {
    let mut report = Report::default();
    let mut granted: BTreeSet<(usize, usize)> = BTreeSet::new();
    let subject = |s: &str| vocab::is_subject(s);
    for (n, cells) in lines(&src.policy) {
        let at = format!("policy.csv line {n}");
        match cells.as_slice() {
            ["p", sub, dom, obj, act] => {
                if !subject(sub) {
                    report.errors.push(format!("{at}: unknown role or subject `{sub}`"));
                }
                if Domain::parse(dom).is_none() {
                    report.errors.push(format!("{at}: unknown domain `{dom}`"));
                }
                if Resource::parse(obj).is_none() {
                    report.errors.push(format!("{at}: unknown resource `{obj}`"));
                }
                if Action::parse(act).is_none() {
                    report.errors.push(format!("{at}: unknown action `{act}`"));
                }
            }
            ["g", sub, role, dom] => {
                for s in [sub, role] {
                    if !subject(s) {
                        report.errors.push(format!("{at}: unknown role `{s}`"));
                    }
                }
                if Domain::parse(dom).is_none() {
                    report.errors.push(format!("{at}: unknown domain `{dom}`"));
                }
            }
            _ => report.errors.push(format!(
                "{at}: expected `p, subject, domain, resource, action` or `g, subject, role, domain`"
            )),
        }
    }
    for (n, cells) in lines(&src.fields) {
        let at = format!("fields.csv line {n}");
        match cells.as_slice() {
            ["p", sub, dom, field, act] => {
                if !subject(sub) {
                    report
                        .errors
                        .push(format!("{at}: unknown role or subject `{sub}`"));
                }
                if Domain::parse(dom).is_none() {
                    report.errors.push(format!("{at}: unknown domain `{dom}`"));
                }
                match field_position(field) {
                    Some(pos) => {
                        granted.insert(pos);
                    }
                    None => report.errors.push(format!("{at}: unknown field `{field}`")),
                }
                if *act != vocab::VIEW {
                    report.errors.push(format!(
                        "{at}: unknown action `{act}` (fields are granted `view`)"
                    ));
                }
            }
            _ => report.errors.push(format!(
                "{at}: expected `p, subject, domain, type.field, view`"
            )),
        }
    }
    for (n, cells) in lines(&src.roles) {
        let at = format!("roles.csv line {n}");
        match cells.as_slice() {
            ["p", sub, dom, obj, act] => {
                if !vocab::ROLES.contains(sub) {
                    report.errors.push(format!("{at}: unknown role `{sub}`"));
                }
                if Domain::parse(dom).is_none() {
                    report.errors.push(format!("{at}: unknown domain `{dom}`"));
                }
                if roles::role_object(obj).is_none() {
                    report.errors.push(format!("{at}: unknown role `{obj}`"));
                }
                if *act != roles::GIVE {
                    report.errors.push(format!(
                        "{at}: unknown action `{act}` (roles are given: `give`)"
                    ));
                }
            }
            _ => report.errors.push(format!(
                "{at}: expected `p, role, domain, role.<role>, give`"
            )),
        }
    }
    for (t, (ty, fields)) in outward_types().iter().enumerate() {
        for (f, field) in fields.iter().enumerate() {
            if !granted.contains(&(t, f)) {
                report.ungranted.push(format!("{ty}.{field}"));
            }
        }
    }
    report
}

/// What one subject may do and see, per domain.
#[derive(Debug, Clone)]
pub(crate) struct SubjectGrants {
    pub actions: [[DomainSet; N_ACTIONS]; N_RESOURCES],
    pub fields: Vec<[FieldSet; 4]>,
    pub roles: Givable,
}

impl SubjectGrants {
    fn empty() -> SubjectGrants {
        SubjectGrants {
            actions: [[DomainSet::EMPTY; N_ACTIONS]; N_RESOURCES],
            fields: vec![[FieldSet::EMPTY; 4]; outward_types().len()],
            roles: [RoleSet::EMPTY; 4],
        }
    }
}

/// A loaded, checked policy, compiled into a decision table.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) subjects: HashMap<String, SubjectGrants>,
    pub origin: String,
    pub report: Report,
}

impl Policy {
    /// Checks the policy, loads it into casbin, asks casbin the questions every correct model
    /// answers "denied" (`invariants`), then, for every subject and domain, what it allows. A
    /// policy with an unknown word, or a model that answers an invariant question wrongly, is
    /// refused.
    pub async fn load(src: &PolicySource) -> Result<Policy> {
        let report = check(src);
        if let Some(first) = report.errors.first() {
            return Err(AccessError::Policy(format!(
                "{}: {first}{}",
                src.origin,
                match report.errors.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                }
            )));
        }
        let enforcer = enforcer(src).await?;
        // Before anything is compiled: a model that answers a fixed question wrongly is refused.
        let broken = crate::invariants::violations(&enforcer, src)?;
        if !broken.is_empty() {
            return Err(AccessError::Invariants {
                origin: src.origin.clone(),
                broken: broken.iter().map(ToString::to_string).collect(),
            });
        }
        let mut subjects = HashMap::new();
        for subject in vocab::subjects() {
            let mut grants = SubjectGrants::empty();
            for domain in Domain::ALL {
                // Candidates from casbin's implicit permissions (roles inherited in this domain),
                // each confirmed through `enforce`, so the model's matcher has the last word.
                let candidates =
                    enforcer.get_implicit_permissions_for_user(&subject, Some(domain.as_str()));
                for line in candidates {
                    let [_, _, obj, act] = line.as_slice() else {
                        continue;
                    };
                    let allowed = enforcer
                        .enforce((
                            subject.as_str(),
                            domain.as_str(),
                            obj.as_str(),
                            act.as_str(),
                        ))
                        .map_err(|e| AccessError::Policy(format!("casbin: {e}")))?;
                    if !allowed {
                        continue;
                    }
                    if act == vocab::VIEW {
                        if let Some((t, f)) = field_position(obj) {
                            let slot = &mut grants.fields[t][domain as usize];
                            *slot = slot.with(f);
                        }
                    } else if act == roles::GIVE {
                        if let Some(role) = roles::role_object(obj) {
                            let slot = &mut grants.roles[domain as usize];
                            *slot = slot.with(role);
                        }
                    } else if let (Some(r), Some(a)) = (Resource::parse(obj), Action::parse(act)) {
                        let slot = &mut grants.actions[r.index()][a.index()];
                        *slot = slot.with(domain);
                    }
                }
            }
            subjects.insert(subject, grants);
        }
        Ok(Policy {
            subjects,
            origin: src.origin.clone(),
            report,
        })
    }

    /// What a caller holding `roles` and delegated `rights` may do and see (always also the
    /// `person` subject, for their own record). Unknown roles and rights add nothing.
    pub fn grants<'a>(
        &self,
        roles: impl IntoIterator<Item = &'a str>,
        rights: impl IntoIterator<Item = &'a str>,
    ) -> Grants {
        let mut g = Grants::none();
        let mut add = |name: &str| {
            if let Some(s) = self.subjects.get(name) {
                g.absorb(s);
            }
        };
        add(vocab::PERSON);
        for r in roles {
            add(r);
        }
        for r in rights {
            if vocab::RIGHTS.contains(&r) {
                add(&format!("{}{r}", vocab::RIGHT_PREFIX));
            }
        }
        g
    }

    /// The domains in which one subject may perform an action (for the matrix).
    pub fn subject_domains(&self, subject: &str, r: Resource, a: Action) -> DomainSet {
        self.subjects
            .get(subject)
            .map(|s| s.actions[r.index()][a.index()])
            .unwrap_or_default()
    }

    /// The domains in which one subject sees a field of type `T` (for the matrix).
    pub fn subject_field_domains(
        &self,
        subject: &str,
        type_index: usize,
        field: usize,
    ) -> DomainSet {
        let Some(s) = self.subjects.get(subject) else {
            return DomainSet::EMPTY;
        };
        let mut set = DomainSet::EMPTY;
        for d in Domain::ALL {
            if s.fields
                .get(type_index)
                .is_some_and(|f| f[d as usize].contains(field))
            {
                set = set.with(d);
            }
        }
        set
    }

    /// The domains in which one subject may give `role` (for the matrix).
    pub fn subject_role_domains(&self, subject: &str, role: &str) -> DomainSet {
        let Some(s) = self.subjects.get(subject) else {
            return DomainSet::EMPTY;
        };
        Domain::ALL
            .into_iter()
            .filter(|d| s.roles[*d as usize].contains_role(role))
            .fold(DomainSet::EMPTY, DomainSet::with)
    }

    /// Fields of `T` nobody can see, as `type.field`.
    pub fn ungranted<T: Outward>(&self) -> Vec<String> {
        self.report
            .ungranted
            .iter()
            .filter(|f| f.starts_with(&format!("{}.", T::TYPE)))
            .cloned()
            .collect()
    }
}

pub(crate) async fn enforcer(src: &PolicySource) -> Result<Enforcer> {
    let model = DefaultModel::from_str(&src.model)
        .await
        .map_err(|e| AccessError::Policy(format!("{}: model.conf: {e}", src.origin)))?;
    let mut text = String::new();
    for (_, cells) in lines(&src.policy)
        .chain(lines(&src.fields))
        .chain(lines(&src.roles))
    {
        text.push_str(&cells.join(", "));
        text.push('\n');
    }
    Enforcer::new(model, StringAdapter::new(text))
        .await
        .map_err(|e| AccessError::Policy(format!("{}: {e}", src.origin)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_shipped_policy_loads_and_names_only_known_words() {
        let src = PolicySource::embedded();
        let report = check(&src);
        assert_eq!(report.errors, Vec::<String>::new());
        let policy = Policy::load(&src).await.unwrap();
        assert!(
            policy
                .subject_domains("staff", Resource::Person, Action::Read)
                .contains(Domain::All)
        );
    }

    #[tokio::test]
    async fn the_matcher_keeps_domains_apart() {
        // The pitfall: a matcher without `r.dom == p.dom` lets a role of one domain use another
        // domain's rules. Asked of casbin directly, with the shipped model.
        let src = PolicySource::embedded();
        let e = enforcer(&src).await.unwrap();
        assert!(
            e.enforce(("client_admin", "organisation", "person", "read"))
                .unwrap()
        );
        assert!(
            !e.enforce(("client_admin", "all", "person", "read"))
                .unwrap()
        );
        assert!(
            !e.enforce(("client_admin", "assignment", "person", "read"))
                .unwrap()
        );
        assert!(!e.enforce(("inspector", "all", "dossier", "read")).unwrap());
        // Inheritance holds within its domain only.
        assert!(e.enforce(("admin", "all", "dossier", "create")).unwrap());
        assert!(
            !e.enforce(("admin", "organisation", "dossier", "create"))
                .unwrap()
        );
    }

    #[tokio::test]
    async fn unknown_words_are_refused_with_their_line() {
        let mut src = PolicySource::embedded();
        src.policy.push_str("\np, auditor, all, person, read\np, staff, everywhere, person, read\np, staff, all, person, obliterate\n");
        src.fields
            .push_str("\np, staff, all, person.shoe_size, view\n");
        let report = check(&src);
        assert_eq!(report.errors.len(), 4, "{:?}", report.errors);
        assert!(report.errors[0].contains("`auditor`"));
        assert!(report.errors[1].contains("`everywhere`"));
        assert!(report.errors[2].contains("`obliterate`"));
        assert!(report.errors[3].contains("`person.shoe_size`"));
        let err = Policy::load(&src).await.unwrap_err().to_string();
        assert!(err.contains("auditor") && err.contains("3 more"), "{err}");
    }

    #[tokio::test]
    async fn a_field_without_grant_is_listed_and_masked_for_everyone() {
        let mut src = PolicySource::embedded();
        src.fields = src
            .fields
            .lines()
            .filter(|l| !l.contains("person.birth_date"))
            .collect::<Vec<_>>()
            .join("\n");
        let report = check(&src);
        assert_eq!(report.ungranted, vec!["person.birth_date".to_owned()]);
        let policy = Policy::load(&src).await.unwrap();
        let all = DomainSet::EMPTY
            .with(Domain::All)
            .with(Domain::Organisation)
            .with(Domain::SelfRecord);
        let birth = crate::views::PersonView::index_of("birth_date").unwrap();
        let g = policy.grants(["admin", "staff", "privacy_officer", "client_admin"], []);
        assert!(!g.visible::<crate::views::PersonView>(all).contains(birth));
    }
}
