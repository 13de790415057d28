//! Many client companies at once, written straight into the database (the tests and the
//! subprocessors bench need hundreds or thousands of them; the API would take minutes).

use crate::Db;

/// What [`client_companies`] made.
pub struct Companies {
    /// The SQL statements that insert them, to run in order.
    pub statements: Vec<String>,
    /// The primary contacts' (e-mail, language): every company has one, active, speaking nl,
    /// fr or en in turn; the primary contact of company 1 unsubscribed from the notices' mails
    /// and is not listed.
    pub primaries: Vec<(String, String)>,
    /// The ordinary contacts who subscribed (every tenth company's).
    pub subscribers: Vec<String>,
}

/// `n` client companies, each with a primary contact and an ordinary contact whose addresses
/// end in `@{tag}.example`.
pub fn client_companies(db: Db, n: usize, tag: &str) -> Companies {
    let sqlite = db == Db::Sqlite;
    let id = |u: uuid::Uuid| {
        if sqlite {
            format!("X'{}'", u.simple())
        } else {
            format!("'{u}'")
        }
    };
    let ts = if sqlite {
        "'2026-01-01T00:00:00Z'"
    } else {
        "TIMESTAMPTZ '2026-01-01T00:00:00Z'"
    };
    let (yes, no) = if sqlite {
        ("1", "0")
    } else {
        ("TRUE", "FALSE")
    };
    let mut out = Companies {
        statements: Vec::new(),
        primaries: Vec::new(),
        subscribers: Vec::new(),
    };
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        let (mut orgs, mut people, mut roles, mut subs) = (vec![], vec![], vec![], vec![]);
        for i in chunk {
            let org = uuid::Uuid::new_v4();
            orgs.push(format!(
                "({}, 'client', 'Bulk {i} NV', '[]', {yes}, {ts}, {ts})",
                id(org)
            ));
            let lang = ["nl", "fr", "en"][i % 3];
            for (k, role) in [("p", "client_admin"), ("u", "client_user")] {
                let person = uuid::Uuid::new_v4();
                let email = format!("{k}{i}@{tag}.example");
                people.push(format!(
                    "({}, {}, 'Bulk', 'Contact', '{email}', '{email}', 'unspecified', '{lang}', \
                     'active', {ts}, {ts})",
                    id(person),
                    id(org)
                ));
                roles.push(format!("({}, '{role}')", id(person)));
                if role == "client_admin" {
                    if *i == 1 {
                        subs.push(format!("({}, {no}, 0)", id(person)));
                    } else {
                        out.primaries.push((email, lang.to_owned()));
                    }
                } else if i % 10 == 0 {
                    subs.push(format!("({}, {yes}, 0)", id(person)));
                    out.subscribers.push(email);
                }
            }
        }
        out.statements.push(format!(
            "INSERT INTO organisation (id, kind, name, addresses, active, created_at, updated_at) \
             VALUES {}",
            orgs.join(", ")
        ));
        out.statements.push(format!(
            "INSERT INTO person (id, organisation_id, surname, first_name, email, \
             email_normalized, gender, language, state, created_at, updated_at) VALUES {}",
            people.join(", ")
        ));
        out.statements.push(format!(
            "INSERT INTO person_role (person_id, role) VALUES {}",
            roles.join(", ")
        ));
        if !subs.is_empty() {
            out.statements.push(format!(
                "INSERT INTO subprocessor_subscription (person_id, wants_mail, updated_at) \
                 VALUES {}",
                subs.join(", ")
            ));
        }
    }
    out
}
