//! What any correct model must answer, whatever the policy grants. Checking the policy's words
//! (see `policy::check`) cannot see a matcher that ignores the domain (`r.dom == p.dom` removed)
//! or grants a subject by name (`|| r.sub == "client_user"`); asking casbin can. The questions
//! are derived from the policy's own lines, so they stay true as the policy grows, and their
//! number is bounded by the vocabulary (subjects × domains), not by the number of lines: each
//! `enforce` scans every line, so asking about every line would cost seconds at start-up.
//!
//! The reference is plain RBAC with domains read off the files: a subject may do what a `p` line
//! gives it, or a role it holds through `g` lines, in that same domain. Only questions whose
//! reference answer is "denied" are asked: a model may be stricter than the policy (the decision
//! table keeps only what casbin confirms), never looser.

use casbin::{CoreApi, Enforcer};

use crate::error::{AccessError, Result};
use crate::policy::{PolicySource, lines};
use crate::vocab::{self, Domain};

/// A word no policy may use: a subject without lines or role links, an object, an action and a
/// domain that exist nowhere.
const PROBE: &str = "invariant-probe";

/// One question and the invariant it stands for; the reference answer is always "denied".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub invariant: &'static str,
    pub request: [String; 4],
    /// Why the answer must be "denied", for the message.
    pub because: String,
}

impl std::fmt::Display for Question {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [sub, dom, obj, act] = &self.request;
        write!(
            f,
            "invariant \"{}\" broken: the model allows ({sub}, {dom}, {obj}, {act}), but {}",
            self.invariant, self.because
        )
    }
}

/// (object, action) pairs, in the order the files give them.
type Pairs = Vec<(String, String)>;

/// The policy as plain RBAC with domains: what each subject may do, per domain.
struct Reference {
    subjects: Vec<String>,
    /// `p` lines: (subject, domain, object, action).
    grants: Vec<[String; 4]>,
    /// `g` lines: (subject, role, domain).
    links: Vec<[String; 3]>,
}

impl Reference {
    fn read(src: &PolicySource) -> Reference {
        let mut grants = Vec::new();
        let mut links = Vec::new();
        for (_, cells) in lines(&src.policy)
            .chain(lines(&src.fields))
            .chain(lines(&src.roles))
        {
            match cells.as_slice() {
                ["p", s, d, o, a] => grants.push([s, d, o, a].map(|w| (*w).to_owned())),
                ["g", s, r, d] => links.push([s, r, d].map(|w| (*w).to_owned())),
                _ => {}
            }
        }
        let mut subjects: Vec<String> = vocab::subjects().collect();
        for s in grants
            .iter()
            .map(|g| &g[0])
            .chain(links.iter().map(|l| &l[0]))
        {
            if !subjects.contains(s) {
                subjects.push(s.clone());
            }
        }
        Reference {
            subjects,
            grants,
            links,
        }
    }

    /// The subject and every role it holds in `dom`, following `g` lines transitively.
    fn roles(&self, sub: &str, dom: &str) -> Vec<String> {
        let mut held = vec![sub.to_owned()];
        let mut i = 0;
        while let Some(s) = held.get(i).cloned() {
            for [from, role, d] in &self.links {
                if *from == s && d == dom && !held.contains(role) {
                    held.push(role.clone());
                }
            }
            i += 1;
        }
        held
    }

    fn granted(&self, sub: &str, dom: &str) -> Pairs {
        let roles = self.roles(sub, dom);
        let mut pairs: Pairs = Vec::new();
        for [s, d, o, a] in &self.grants {
            let pair = (o.clone(), a.clone());
            if d == dom && roles.contains(s) && !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
        pairs
    }
}

fn is_field(pair: &(String, String)) -> bool {
    pair.1 == vocab::VIEW
}

/// The fixed set of questions for this policy; every answer must be "denied".
pub fn questions(src: &PolicySource) -> Vec<Question> {
    let reference = Reference::read(src);
    let domains: Vec<&str> = Domain::ALL.iter().map(|d| d.as_str()).collect();
    let granted: Vec<Vec<Pairs>> = reference
        .subjects
        .iter()
        .map(|s| domains.iter().map(|d| reference.granted(s, d)).collect())
        .collect();
    let mut out: Vec<Question> = Vec::new();
    let mut ask = |invariant, request: [&str; 4], because: String| {
        let q = Question {
            invariant,
            request: request.map(str::to_owned),
            because,
        };
        if !out.iter().any(|o| o.request == q.request) {
            out.push(q);
        }
    };
    for (si, sub) in reference.subjects.iter().enumerate() {
        for (di, dom) in domains.iter().enumerate() {
            let mine = &granted[si][di];
            // Actions and field views apart: a matcher could treat them differently.
            for field in [false, true] {
                // Domain isolation: what the subject has elsewhere, it does not have here.
                let elsewhere = domains
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != di)
                    .find_map(|(j, other)| {
                        granted[si][j]
                            .iter()
                            .find(|p| is_field(p) == field && !mine.contains(p))
                            .map(|p| (other, p))
                    });
                if let Some((other, (obj, act))) = elsewhere {
                    ask(
                        "domain isolation",
                        [sub, dom, obj, act],
                        format!("`{sub}` is granted it in domain `{other}`, not in `{dom}`"),
                    );
                }
                // Subjects apart: what another subject has here, this one does not.
                let others = reference
                    .subjects
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != si);
                let theirs = others.clone().find_map(|(j, other)| {
                    granted[j][di]
                        .iter()
                        .find(|p| is_field(p) == field && !mine.contains(p))
                        .map(|p| (other, p))
                });
                if let Some((other, (obj, act))) = theirs {
                    ask(
                        "no subject granted by name",
                        [sub, dom, obj, act],
                        format!("in domain `{dom}` it is granted to `{other}`, not to `{sub}`"),
                    );
                }
            }
            // The object and the action must match exactly, not merely exist.
            if let Some((obj, act)) = mine.first() {
                ask(
                    "objects match exactly",
                    [sub, dom, PROBE, act],
                    format!("no line names the object `{PROBE}`"),
                );
                ask(
                    "actions match exactly",
                    [sub, dom, obj, PROBE],
                    format!("no line names the action `{PROBE}`"),
                );
            }
        }
        // A domain no line names gives nothing.
        if let Some((obj, act)) = granted[si].iter().flatten().next() {
            ask(
                "known domains only",
                [sub, PROBE, obj, act],
                format!("no line names the domain `{PROBE}`"),
            );
        }
    }
    // A subject with no lines and no role links gets nothing, in any domain.
    for (di, dom) in domains.iter().enumerate() {
        for field in [false, true] {
            let any = granted
                .iter()
                .flat_map(|per_domain| per_domain[di].iter())
                .find(|p| is_field(p) == field);
            if let Some((obj, act)) = any {
                ask(
                    "unknown subjects get nothing",
                    [PROBE, dom, obj, act],
                    format!("`{PROBE}` has no policy line and no role"),
                );
            }
        }
    }
    out
}

/// The questions casbin answers wrongly under this model (empty: the model keeps every
/// invariant).
pub fn violations(enforcer: &Enforcer, src: &PolicySource) -> Result<Vec<Question>> {
    let mut wrong = Vec::new();
    for q in questions(src) {
        let [s, d, o, a] = &q.request;
        let allowed = enforcer
            .enforce((s.as_str(), d.as_str(), o.as_str(), a.as_str()))
            .map_err(|e| AccessError::Policy(format!("casbin: {e}")))?;
        if allowed {
            wrong.push(q);
        }
    }
    Ok(wrong)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    const MATCHER: &str = "r.dom == p.dom && r.obj == p.obj && r.act == p.act";

    fn with_matcher(from: &str, to: &str) -> PolicySource {
        let mut src = PolicySource::embedded();
        assert!(src.model.contains(from), "the shipped matcher changed");
        src.model = src.model.replace(from, to);
        src
    }

    async fn refused(src: &PolicySource) -> Vec<String> {
        match Policy::load(src).await {
            Err(AccessError::Invariants { broken, .. }) => broken,
            other => panic!("expected the model to be refused, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_shipped_model_keeps_every_invariant() {
        let src = PolicySource::embedded();
        let qs = questions(&src);
        // Bounded by the vocabulary, not by the number of lines.
        assert!(qs.len() > 50 && qs.len() < 250, "{}", qs.len());
        for name in [
            "domain isolation",
            "no subject granted by name",
            "objects match exactly",
            "actions match exactly",
            "known domains only",
            "unknown subjects get nothing",
        ] {
            assert!(
                qs.iter().any(|q| q.invariant == name),
                "no question for {name}"
            );
        }
        Policy::load(&src).await.unwrap();
    }

    #[tokio::test]
    async fn a_matcher_that_ignores_the_domain_is_refused() {
        let src = with_matcher(MATCHER, "r.obj == p.obj && r.act == p.act");
        let broken = refused(&src).await;
        assert!(
            broken.iter().any(|b| b.contains("\"domain isolation\"")),
            "{broken:#?}"
        );
        // e.g. the primary contact asked about every organisation.
        assert!(
            broken
                .iter()
                .any(|b| b.contains("(client_admin, all, organisation, list)")),
            "{broken:#?}"
        );
    }

    #[tokio::test]
    async fn a_matcher_that_grants_a_subject_by_name_is_refused() {
        let src = with_matcher(MATCHER, &format!("{MATCHER} || r.sub == \"client_user\""));
        let broken = refused(&src).await;
        assert!(
            broken
                .iter()
                .all(|b| b.contains("the model allows (client_user,")),
            "{broken:#?}"
        );
        assert!(
            broken
                .iter()
                .any(|b| b.contains("\"no subject granted by name\"")),
            "{broken:#?}"
        );
    }

    #[tokio::test]
    async fn matchers_that_ignore_the_object_or_allow_anything_are_refused() {
        let src = with_matcher(MATCHER, "r.dom == p.dom && r.act == p.act");
        let broken = refused(&src).await;
        assert!(
            broken
                .iter()
                .any(|b| b.contains("\"objects match exactly\"")),
            "{broken:#?}"
        );
        let src = with_matcher(MATCHER, &format!("{MATCHER} || true"));
        let broken = refused(&src).await;
        assert!(
            broken
                .iter()
                .any(|b| b.contains("\"unknown subjects get nothing\"")),
            "{broken:#?}"
        );
    }

    #[tokio::test]
    async fn role_links_hold_within_their_domain_only() {
        // `g, admin, staff, all`: admin is not staff in a company's own domain.
        let src = PolicySource::embedded();
        let reference = Reference::read(&src);
        assert!(
            reference
                .roles("admin", "all")
                .contains(&"staff".to_owned())
        );
        assert!(
            !reference
                .roles("admin", "organisation")
                .contains(&"staff".to_owned())
        );
        let qs = questions(&src);
        assert!(
            qs.iter().any(|q| q.request
                == ["admin", "organisation", "organisation", "list"].map(str::to_owned)),
            "{qs:#?}"
        );
    }
}
