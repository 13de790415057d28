//! Reading and checking the register's three files together.

use std::collections::{BTreeMap, BTreeSet};

use extranet_subprocessors::vocabulary::{Kind, Vocabulary};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::activities::{Activity, Basis, Consent, RawActivities};
use super::retention::{Action, Duration, RawRule, RawSchedule, Rule, Target};
use super::schema_map::ColumnClass;
use super::texts::Texts;
use super::{
    ACTIVITIES_FILE, Context, Problem, RETENTION_FILE, Register, RegisterSource, SCHEMA_FILE,
    line_of,
};

const CATEGORIES_CSV: &str = include_str!("../../../../policies/data_categories.csv");

/// Collects problems for one file.
struct File<'a> {
    name: String,
    text: &'a str,
}

impl File<'_> {
    fn at(&self, line: usize, word: &str, message: impl Into<String>) -> Problem {
        Problem {
            file: self.name.clone(),
            line,
            word: word.to_owned(),
            message: message.into(),
        }
    }

    fn spanned<T>(&self, s: &Spanned<T>, word: &str, message: impl Into<String>) -> Problem {
        self.at(line_of(self.text, s.span().start), word, message)
    }

    fn parse<T: DeserializeOwned>(&self, out: &mut Vec<Problem>) -> Option<T> {
        match toml::from_str::<T>(self.text) {
            Ok(v) => Some(v),
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let word = self
                    .text
                    .get(span.clone())
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(60)
                    .collect::<String>();
                out.push(self.at(
                    line_of(self.text, span.start),
                    &word,
                    e.message().trim().to_owned(),
                ));
                None
            }
        }
    }

    fn texts(&self, t: &Spanned<Texts>, what: &str, out: &mut Vec<Problem>) {
        for lang in t.get_ref().missing() {
            out.push(self.spanned(t, what, format!("the {lang} text is empty")));
        }
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

pub(super) fn load(src: &RegisterSource, ctx: &Context) -> Result<Register, Vec<Problem>> {
    let mut out = Vec::new();
    let vocab = match Vocabulary::shipped() {
        Ok(v) => v,
        Err(e) => {
            return Err(vec![Problem {
                file: "policies/data_categories.csv".into(),
                line: 0,
                word: String::new(),
                message: e.to_string(),
            }]);
        }
    };
    let rfile = File {
        name: src.file(RETENTION_FILE),
        text: &src.retention,
    };
    let afile = File {
        name: src.file(ACTIVITIES_FILE),
        text: &src.activities,
    };
    let sfile = File {
        name: src.file(SCHEMA_FILE),
        text: &src.schema,
    };

    let rules = rfile
        .parse::<RawSchedule>(&mut out)
        .map(|raw| check_rules(&rfile, raw.rule, &mut out))
        .unwrap_or_default();
    let raw_activities = afile.parse::<RawActivities>(&mut out);
    let mut activities = Vec::new();
    let mut used_rules = BTreeSet::new();
    let mut used_categories = BTreeSet::new();
    if let Some(raw) = raw_activities {
        let mut seen = BTreeSet::new();
        for a in raw.activity {
            let id = a.id.get_ref().clone();
            if !is_id(&id) {
                out.push(afile.spanned(&a.id, &id, "an id is lower-case letters, digits and -"));
            } else if !seen.insert(id.clone()) {
                out.push(afile.spanned(&a.id, &id, "a second activity with this id"));
            }
            afile.texts(&a.purpose, "purpose", &mut out);
            afile.texts(&a.source, "source", &mut out);
            let basis = Basis::parse(a.basis.get_ref());
            if basis.is_none() {
                out.push(afile.spanned(
                    &a.basis,
                    a.basis.get_ref(),
                    "not a legal basis of GDPR Art. 6(1): one of a, b, c, d, e, f",
                ));
            }
            match (&a.legitimate_interest, basis) {
                (None, Some(Basis::LegitimateInterests)) => out.push(afile.spanned(
                    &a.basis,
                    "f",
                    "legitimate interests (f) need the interest stated in `legitimate_interest`",
                )),
                (Some(li), Some(b)) if b != Basis::LegitimateInterests => out.push(afile.spanned(
                    li,
                    "legitimate_interest",
                    "stated only where the basis is legitimate interests (f)",
                )),
                (Some(li), _) => afile.texts(li, "legitimate_interest", &mut out),
                _ => {}
            }
            match (&a.consent, basis) {
                (None, Some(Basis::Consent)) => out.push(afile.spanned(
                    &a.basis,
                    "a",
                    "consent (a) needs the text agreed to in `consent` (version and text)",
                )),
                (Some(c), Some(b)) if b != Basis::Consent => out.push(afile.spanned(
                    c,
                    "consent",
                    "a consent text only where the basis is consent (a)",
                )),
                (Some(c), _) => {
                    for lang in c.get_ref().text.missing() {
                        out.push(afile.spanned(c, "consent", format!("the {lang} text is empty")));
                    }
                    if c.get_ref().version == 0 {
                        out.push(afile.spanned(c, "version", "versions start at 1"));
                    }
                }
                _ => {}
            }
            let words = |list: &[Spanned<String>],
                         what: &str,
                         ok: &dyn Fn(&str) -> Option<String>,
                         out: &mut Vec<Problem>|
             -> Vec<String> {
                let mut v = Vec::new();
                for w in list {
                    match ok(w.get_ref()) {
                        None => v.push(w.get_ref().clone()),
                        Some(why) => out.push(afile.spanned(w, w.get_ref(), why)),
                    }
                }
                if list.is_empty() && what != "subprocessors" && what != "transfers" {
                    out.push(afile.spanned(&a.id, &id, format!("`{what}` lists nothing")));
                }
                v
            };
            let data = words(
                &a.data,
                "data",
                &|w| {
                    vocab
                        .category(Kind::Data, w)
                        .is_none()
                        .then(|| "not a category of personal data in data_categories.csv".into())
                },
                &mut out,
            );
            let subjects = words(
                &a.subjects,
                "subjects",
                &|w| {
                    vocab
                        .category(Kind::Subjects, w)
                        .is_none()
                        .then(|| "not a category of data subjects in data_categories.csv".into())
                },
                &mut out,
            );
            let internal = words(
                &a.internal_recipients,
                "internal_recipients",
                &|w| {
                    (!extranet_access::vocab::ROLES.contains(&w)).then(|| {
                        format!(
                            "not a role: one of {}",
                            extranet_access::vocab::ROLES.join(", ")
                        )
                    })
                },
                &mut out,
            );
            let known = ctx.subprocessors.as_ref().filter(|s| !s.is_empty());
            let subprocessors = words(
                &a.subprocessors,
                "subprocessors",
                &|w| {
                    known.and_then(|k| {
                        (!k.contains(w)).then(|| {
                            "no entry of the subprocessor register has this registration number"
                                .into()
                        })
                    })
                },
                &mut out,
            );
            let retention = words(
                &a.retention,
                "retention",
                &|w| {
                    (!rules.iter().any(|r: &Rule| r.id == w))
                        .then(|| "not a rule of retention.toml".into())
                },
                &mut out,
            );
            let transfers = words(
                &a.transfers,
                "transfers",
                &|w| match vocab.country(w) {
                    None => Some("not an ISO 3166-1 country code".into()),
                    Some(c) if c.eea => {
                        Some("in the EEA: not a transfer (list countries outside it)".into())
                    }
                    Some(_) => None,
                },
                &mut out,
            );
            used_rules.extend(retention.iter().cloned());
            used_categories.extend(data.iter().cloned());
            used_categories.extend(subjects.iter().cloned());
            if let Some(basis) = basis {
                activities.push(Activity {
                    id,
                    purpose: a.purpose.into_inner(),
                    basis,
                    legitimate_interest: a.legitimate_interest.map(Spanned::into_inner),
                    data,
                    subjects,
                    internal_recipients: internal,
                    subprocessors,
                    source: a.source.into_inner(),
                    retention,
                    transfers,
                    consent: a.consent.map(|c| {
                        let c = c.into_inner();
                        Consent {
                            version: c.version,
                            text: c.text,
                        }
                    }),
                });
            }
        }
        if activities.is_empty() && out.is_empty() {
            out.push(afile.at(1, "activity", "the register lists no activity"));
        }
        for r in &rules {
            if !used_rules.contains(&r.id) {
                let line = rfile
                    .text
                    .find(&format!("\"{}\"", r.id))
                    .map(|o| line_of(rfile.text, o))
                    .unwrap_or(0);
                out.push(rfile.at(line, &r.id, "no activity names this rule"));
            }
        }
        for kind in [Kind::Data, Kind::Subjects] {
            for c in vocab.categories(kind) {
                if !used_categories.contains(&c.code) {
                    let line = CATEGORIES_CSV
                        .lines()
                        .position(|l| l.split(',').nth(1) == Some(c.code.as_str()))
                        .map_or(0, |i| i + 1);
                    out.push(Problem {
                        file: "policies/data_categories.csv".into(),
                        line,
                        word: c.code.clone(),
                        message: "no activity of the register declares this category".into(),
                    });
                }
            }
        }
    }

    let columns = check_schema(&sfile, &vocab, &used_categories, ctx, &mut out);

    if !out.is_empty() {
        return Err(out);
    }
    let mut h = Sha256::new();
    for part in [&src.activities, &src.retention, &src.schema] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    Ok(Register {
        activities,
        rules,
        columns,
        digest: hex::encode(h.finalize()),
    })
}

fn check_rules(file: &File<'_>, raw: Vec<RawRule>, out: &mut Vec<Problem>) -> Vec<Rule> {
    let mut rules = Vec::new();
    let mut seen = BTreeSet::new();
    for r in raw {
        let id = r.id.get_ref().clone();
        if !is_id(&id) {
            out.push(file.spanned(&r.id, &id, "an id is lower-case letters, digits and -"));
        } else if !seen.insert(id.clone()) {
            out.push(file.spanned(&r.id, &id, "a second rule with this id"));
        }
        file.texts(&r.trigger, "trigger", out);
        let target = Target::parse(r.applies_to.get_ref());
        if target.is_none() {
            let words: Vec<&str> = Target::ALL.iter().map(|t| t.as_str()).collect();
            out.push(file.spanned(
                &r.applies_to,
                r.applies_to.get_ref(),
                format!(
                    "not a kind of record the extranet keeps: one of {}",
                    words.join(", ")
                ),
            ));
        }
        let after = Duration::parse(r.after.get_ref());
        if after.is_none() {
            out.push(file.spanned(
                &r.after,
                r.after.get_ref(),
                "not a duration: a number and days, weeks, months or years (\"30 days\")",
            ));
        }
        match (target, &r.kept_in) {
            (Some(Target::External), None) => out.push(file.spanned(
                &r.applies_to,
                "external",
                "records kept outside the extranet need `kept_in` saying where",
            )),
            (Some(t), Some(_)) if t != Target::External => out.push(file.spanned(
                &r.applies_to,
                "kept_in",
                "`kept_in` is only for records kept outside the extranet (external)",
            )),
            _ => {}
        }
        let action_word = r.action.get_ref().as_str();
        let mut erase = Vec::new();
        let mut replace = Vec::new();
        for e in &r.erase {
            let f = e.get_ref();
            if target.is_some_and(|t| !t.erasable().contains(&f.as_str())) {
                out.push(file.spanned(
                    e,
                    f,
                    format!(
                        "not a field this rule can erase: one of {}",
                        target.map(|t| t.erasable().join(", ")).unwrap_or_default()
                    ),
                ));
            }
            if erase.contains(f) {
                out.push(file.spanned(e, f, "erased twice"));
            }
            erase.push(f.clone());
        }
        if let Some(table) = &r.replace {
            for (k, v) in table.get_ref() {
                let Some(v) = v.as_str() else {
                    out.push(file.spanned(table, k, "the replacement is a text"));
                    continue;
                };
                if target.is_some_and(|t| !t.replaceable().contains(&k.as_str())) {
                    out.push(file.spanned(
                        table,
                        k,
                        format!(
                            "not a field this rule can replace: one of {}",
                            target.map(|t| t.replaceable().join(", ")).unwrap_or_default()
                        ),
                    ));
                }
                if erase.contains(k) {
                    out.push(file.spanned(
                        table,
                        k,
                        "both erased and replaced: a field is either deleted or anonymised",
                    ));
                }
                if k == "gender" && !["mr", "ms", "unspecified"].contains(&v) {
                    out.push(file.spanned(table, v, "a form of address is mr, ms or unspecified"));
                }
                if k == "email" && !v.contains("{id}") {
                    out.push(file.spanned(
                        table,
                        v,
                        "addresses are unique: the replacement must contain {id}",
                    ));
                }
                replace.push((k.clone(), v.to_owned()));
            }
        }
        let action = match action_word {
            "delete" => {
                if !erase.is_empty() || !replace.is_empty() {
                    out.push(file.spanned(
                        &r.action,
                        action_word,
                        "a rule that deletes the records erases or replaces no field",
                    ));
                }
                Some(Action::Delete)
            }
            "anonymise" => {
                if erase.is_empty() && replace.is_empty() {
                    out.push(file.spanned(
                        &r.action,
                        action_word,
                        "anonymising needs `erase` or `replace`: which fields, to what",
                    ));
                }
                Some(Action::Anonymise { erase, replace })
            }
            other => {
                out.push(file.spanned(&r.action, other, "the action is delete or anonymise"));
                None
            }
        };
        if let (Some(t), Some(_)) = (target, &action)
            && !t.actions().contains(&action_word)
        {
            out.push(file.spanned(
                &r.action,
                action_word,
                format!("{t} can only be: {}", t.actions().join(", ")),
            ));
        }
        if let (Some(target), Some(after), Some(action)) = (target, after, action) {
            rules.push(Rule {
                id,
                target,
                after,
                trigger: r.trigger.into_inner(),
                action,
                kept_in: r.kept_in,
            });
        }
    }
    rules
}

fn check_schema(
    file: &File<'_>,
    vocab: &Vocabulary,
    used: &BTreeSet<String>,
    ctx: &Context,
    out: &mut Vec<Problem>,
) -> Vec<ColumnClass> {
    let mut columns = Vec::new();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut header = false;
    for (i, raw) in file.text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if !header {
            header = true;
            if l != "table,column,category" {
                out.push(file.at(line, l, "the first line is: table,column,category"));
            }
            continue;
        }
        let parts: Vec<&str> = l.split(',').map(str::trim).collect();
        let [table, column, category] = parts.as_slice() else {
            out.push(file.at(line, l, "three fields: table,column,category"));
            continue;
        };
        let category = match *category {
            "-" => None,
            c if vocab.category(Kind::Data, c).is_some() => {
                if !used.contains(c) {
                    out.push(file.at(
                        line,
                        c,
                        "no activity of the register declares this category",
                    ));
                }
                Some(c.to_string())
            }
            c => {
                out.push(file.at(
                    line,
                    c,
                    "not a category of personal data in data_categories.csv (or - for none)",
                ));
                continue;
            }
        };
        if seen
            .insert((table.to_string(), column.to_string()), line)
            .is_some()
        {
            out.push(file.at(line, &format!("{table}.{column}"), "classified twice"));
            continue;
        }
        columns.push(ColumnClass {
            table: table.to_string(),
            column: column.to_string(),
            category,
            line,
        });
    }
    if let Some(actual) = &ctx.columns {
        let actual: BTreeSet<&(String, String)> = actual.iter().collect();
        let last = file.text.lines().count() + 1;
        for c in &columns {
            if !actual.contains(&(c.table.clone(), c.column.clone())) {
                out.push(file.at(
                    c.line,
                    &format!("{}.{}", c.table, c.column),
                    "the schema has no such column",
                ));
            }
        }
        for (t, c) in actual {
            if !seen.contains_key(&(t.clone(), c.clone())) {
                let line = columns
                    .iter()
                    .filter(|k| &k.table == t)
                    .map(|k| k.line)
                    .max()
                    .map_or(last, |l| l + 1);
                out.push(file.at(
                    line,
                    &format!("{t}.{c}"),
                    "a column of the schema the map does not classify: name its data category, \
                     or - if it holds no personal data",
                ));
            }
        }
    }
    columns
}
