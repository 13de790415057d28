//! The audit log in an erasure: the client addresses of the person's own entries go where the
//! hash allows it (version 2); everything else in an entry is chained by its hash and stays with
//! the log, on the audit trail's ground.

use extranet_platform::Db;

use super::plan::{Person, WHILE_HELD, rule_ground};
use super::sql::{Bind, names, number};
use super::{Erased, Ground, Kept};
use crate::error::Result;
use crate::register::{Register, Target};

/// The audit log: the client addresses of the person's own entries go where the hash allows
/// (version 2); everything else in an entry is chained by its hash and stays with the log.
pub(crate) async fn places(
    db: &Db,
    register: &Register,
    p: &Person,
    pats: &[String],
    held: Option<&Ground>,
    erase: &mut Vec<Erased>,
    keep: &mut Vec<Kept>,
) -> Result<()> {
    let text = || vec![Bind::Text(p.id.hyphenated().to_string())];
    let ips = number(
        db,
        "SELECT COUNT(*) FROM audit_log WHERE actor_id = $1 AND hash_version >= 2 \
         AND (actor_ip IS NOT NULL OR actor_ip_salt IS NOT NULL)",
        &text(),
    )
    .await?;
    let v1 = number(
        db,
        "SELECT COUNT(*) FROM audit_log WHERE actor_id = $1 AND hash_version < 2 \
         AND actor_ip IS NOT NULL",
        &text(),
    )
    .await?;
    let theirs = number(
        db,
        "SELECT COUNT(*) FROM audit_log WHERE actor_id = $1 OR subject_id = $1",
        &text(),
    )
    .await?;
    let mut b = Vec::new();
    b.extend(pats.iter().cloned().map(Bind::Text));
    let naming = number(
        db,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE {}",
            names("detail", 1, pats.len())
        ),
        &b,
    )
    .await?;
    let chained = |reason: &str| Ground::Activity {
        activity: "audit-trail".into(),
        reason: reason.into(),
    };
    let until = "as long as the audit log: no rule deletes its entries".to_owned();
    if ips > 0 {
        match held {
            Some(g) => keep.push(Kept {
                table: "audit_log".into(),
                columns: vec!["actor_ip".into(), "actor_ip_salt".into()],
                rows: ips,
                objects: Vec::new(),
                ground: g.clone(),
                until: WHILE_HELD.into(),
                identifying: false,
            }),
            None => erase.push(Erased {
                table: "audit_log".into(),
                columns: vec!["actor_ip".into(), "actor_ip_salt".into()],
                action: "erase".into(),
                rows: ips,
                objects: 0,
            }),
        }
    }
    if v1 > 0 {
        keep.push(Kept {
            table: "audit_log".into(),
            columns: vec!["actor_ip".into()],
            rows: v1,
            objects: Vec::new(),
            ground: chained(
                "written before the address had its own commitment: the entry's hash covers the \
                 address itself, erasing it would make the log unverifiable",
            ),
            until: rule_ground(register, Target::AuditAddresses)
                .map(|(r, _)| format!("{until} (the rule {} cannot apply)", r.id))
                .unwrap_or_else(|| until.clone()),
            identifying: false,
        });
    }
    if theirs > 0 {
        keep.push(Kept {
            table: "audit_log".into(),
            columns: vec!["actor_id".into(), "subject_id".into()],
            rows: theirs,
            objects: Vec::new(),
            ground: chained(
                "who did what to which record, chained by hashes (GDPR Art. 5(2), Art. 30, \
                 Art. 32): the person's pseudonymous id, whose row names no one after the erasure",
            ),
            until: until.clone(),
            identifying: false,
        });
    }
    if naming > 0 {
        keep.push(Kept {
            table: "audit_log".into(),
            columns: vec!["detail".into()],
            rows: naming,
            objects: Vec::new(),
            ground: chained(
                "the entry's hash covers its detail: removing the name would break the chain",
            ),
            until,
            identifying: true,
        });
    }
    Ok(())
}
