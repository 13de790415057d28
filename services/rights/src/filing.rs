//! Filing a request. Signed in, it is received at once. Without an account, it waits for the
//! address to be confirmed: a single-use link (only its hash stored) is mailed, and using it
//! receives the request. Either way, receipt gives the request its number, its due date and its
//! signed receipt, mailed to the requester — in one transaction with its history and its audit
//! record, so nothing is half-filed.

use std::net::IpAddr;

use extranet_access::{Action, Masked, RightsRequestView};
use extranet_audit::{NewEntry, Outcome};
use extranet_identity::EmailAddress;
use extranet_identity::sessions::{hash_token, new_token};
use extranet_notify::outbox::{self, Mail};
// Mail is queued on the wall clock: the sender sends what is due by it, whatever the
// requests' own clock (under test control in end-to-end tests) says.
use extranet_platform::{SystemClock, on_pool, write_tx};
use serde::Deserialize;
use sqlx::{AssertSqlSafe, FromRow};
use uuid::Uuid;

use crate::due;
use crate::error::{Result, RightsError};
use crate::model::{self, MAX_DETAILS, MAX_NAME};
use crate::service::{Rights, Who, own};
use crate::store::{RequestRow, SELECT, event};

/// A request filed by a signed-in person.
#[derive(Debug, Clone, Deserialize)]
pub struct NewRequest {
    pub rights: Vec<String>,
    #[serde(default)]
    pub details: String,
    /// Refused when it is not the person's own address: a request is about one's own data.
    #[serde(default)]
    pub email: Option<String>,
    /// Rectification: the values the person proposes, field → value (see
    /// [`model::PROPOSABLE`]); staff accept or refuse each.
    #[serde(default)]
    pub proposals: std::collections::BTreeMap<String, String>,
}

/// A request filed without an account.
#[derive(Debug, Clone, Deserialize)]
pub struct PublicRequest {
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub language: String,
    pub rights: Vec<String>,
    #[serde(default)]
    pub details: String,
}

/// Why a confirmation link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefused {
    /// Unknown: altered, or used already.
    Invalid,
    /// Genuine but past its expiry.
    Expired,
}

#[derive(FromRow)]
struct Requester {
    first_name: String,
    surname: String,
    email: String,
    language: String,
}

/// The number, instant, due day and receipt a request gets when it is received.
struct Receipt {
    number: String,
    due_on: String,
    jws: String,
}

impl Rights {
    /// The next number of `year` (`2026-0001`, …) as seen inside the filing transaction; a
    /// concurrent filing on PostgreSQL may take it first, which the unique index refuses and
    /// [`Rights::receive`] retries.
    fn next_number(last: Option<String>, year: i32) -> String {
        let n = last
            .and_then(|l| l.rsplit('-').next().and_then(|n| n.parse::<u32>().ok()))
            .unwrap_or(0);
        format!("{year}-{:04}", n + 1)
    }

    fn receipt_for(&self, row: &RequestRow, number: String, at: i64) -> Result<Receipt> {
        let day = due::local_date(at, &self.settings.time_zone);
        let due_on = due::due_on(day);
        let jws = self.sign_receipt(row, &number, at, due_on)?;
        Ok(Receipt {
            number,
            due_on: due::iso(due_on),
            jws,
        })
    }

    /// Files a request of the signed-in person, about their own data: received at once.
    pub async fn file(&self, who: &Who<'_>, req: &NewRequest) -> Result<Masked<RightsRequestView>> {
        self.permit(who, Action::Create, own())?;
        let rights = model::rights(&req.rights)?;
        let details = model::text("details", &req.details, MAX_DETAILS, false)?.unwrap_or_default();
        let proposals = model::proposals(&req.proposals, &rights)?;
        let person = who.person;
        let me: Requester = on_pool!(self.db(), read, |pool| {
            sqlx::query_as("SELECT first_name, surname, email, language FROM person WHERE id = $1")
                .bind(person)
                .fetch_optional(pool)
                .await
        })?
        .ok_or(RightsError::NotFound)?;
        if let Some(other) = req
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            && !other.eq_ignore_ascii_case(me.email.trim())
        {
            return Err(RightsError::invalid(
                "email",
                "not_own",
                "a request is about your own data: file it with your own address, or let the \
                 other person file theirs",
            ));
        }
        let now = self.now();
        let row = RequestRow {
            id: Uuid::now_v7(),
            number: None,
            person_id: Some(person),
            email: me.email.clone(),
            name: format!("{} {}", me.first_name, me.surname),
            language: model::language(&me.language).to_owned(),
            rights: rights.join(","),
            details,
            channel: "account".into(),
            state: "received".into(),
            created_at: now,
            received_at: None,
            due_on: None,
            extended_to: None,
            extension_reason: None,
            assignee_id: None,
            assignee_first: None,
            assignee_surname: None,
            outcome_note: None,
            refusal_ground: None,
            closed_at: None,
            receipt: None,
            proposals,
        };
        let id = self.receive(&row, who.ip, true).await?;
        let row = self.row(id).await?.ok_or(RightsError::NotFound)?;
        Ok(self.masked(who, &row))
    }

    /// Gives `row` its number, receipt and due date — inserting it (`insert`, filed signed in)
    /// or updating the unconfirmed row — with its history, audit record and receipt mail.
    async fn receive(&self, row: &RequestRow, ip: Option<IpAddr>, insert: bool) -> Result<Uuid> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.receive_once(row, ip, insert).await {
                Err(RightsError::Internal(m)) if attempt < 5 && m.contains("unique") => continue,
                other => return other,
            }
        }
    }

    async fn receive_once(
        &self,
        row: &RequestRow,
        ip: Option<IpAddr>,
        insert: bool,
    ) -> Result<Uuid> {
        let now = self.now();
        let year = due::local_date(now, &self.settings.time_zone).year();
        let prefix = format!("{year}-%");
        let mut entry = NewEntry::new(self.clock.now(), "rights_request.receive", Outcome::Success)
            .subject("rights_request", row.id)
            .detail(serde_json::json!({ "rights": row.rights(), "channel": row.channel }));
        if let Some(p) = row.person_id {
            entry = entry.actor(p);
        }
        if let Some(ip) = ip {
            entry = entry.ip(ip);
        }
        let res: Result<Uuid> = write_tx!(self.db(), |tx| async {
            let last: Option<String> = sqlx::query_scalar(
                "SELECT number FROM rights_request WHERE number LIKE $1 \
                 ORDER BY LENGTH(number) DESC, number DESC LIMIT 1",
            )
            .bind(&prefix)
            .fetch_optional(&mut *tx)
            .await?;
            let receipt = self.receipt_for(row, Self::next_number(last, year), now)?;
            if insert {
                sqlx::query(
                    "INSERT INTO rights_request (id, number, person_id, email, name, language, \
                     rights, details, channel, state, created_at, received_at, due_on, receipt, \
                     updated_at, proposals) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                     'received', $10, $10, $11, $12, $10, $13)",
                )
                .bind(row.id)
                .bind(&receipt.number)
                .bind(row.person_id)
                .bind(&row.email)
                .bind(&row.name)
                .bind(&row.language)
                .bind(&row.rights)
                .bind(&row.details)
                .bind(&row.channel)
                .bind(now)
                .bind(&receipt.due_on)
                .bind(&receipt.jws)
                .bind(&row.proposals)
                .execute(&mut *tx)
                .await?;
                event!(tx, row.id, now, row.person_id, "filed", "received", false, None::<String>)?;
            } else {
                let n = sqlx::query(
                    "UPDATE rights_request SET number = $1, person_id = $2, state = 'received', \
                     received_at = $3, due_on = $4, receipt = $5, confirm_hash = NULL, \
                     confirm_expires = NULL, updated_at = $3 WHERE id = $6 AND state = 'unconfirmed'",
                )
                .bind(&receipt.number)
                .bind(row.person_id)
                .bind(now)
                .bind(&receipt.due_on)
                .bind(&receipt.jws)
                .bind(row.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(RightsError::conflict("link_invalid", "this link was used already"));
                }
                event!(tx, row.id, now, row.person_id, "confirmed", "received", false, None::<String>)?;
            }
            extranet_audit::append_in(&mut *tx, &entry).await?;
            outbox::enqueue_in(
                &mut *tx,
                &SystemClock,
                &Mail {
                    recipient: row.email.clone(),
                    language: row.language.clone(),
                    template: "rights-received",
                    args: serde_json::json!({
                        "site": self.settings.site_name,
                        "number": receipt.number,
                        "rights": row.rights.replace(',', ", "),
                        "due": receipt.due_on,
                        "link": self.page_link(row),
                        "receipt": receipt.jws,
                    }),
                },
            )
            .await?;
            Ok::<_, RightsError>(row.id)
        }
        .await)
        .await;
        res
    }

    /// Where the requester follows their request: their account, or (without one) the public
    /// page of their receipt.
    pub(crate) fn page_link(&self, row: &RequestRow) -> String {
        if row.person_id.is_some() {
            self.link(&format!("/account/requests/{}", row.id))
        } else {
            self.link("/rights/receipt")
        }
    }

    /// Files a request without an account: the answer is the same whether or not the address
    /// is known (nothing is disclosed before it is confirmed). Refused beyond the per-address
    /// and per-client limits.
    pub async fn file_public(&self, req: &PublicRequest, ip: Option<IpAddr>) -> Result<()> {
        let email: EmailAddress =
            req.email
                .parse()
                .map_err(|e: extranet_identity::types::Invalid| {
                    RightsError::invalid("email", "email", e.message)
                })?;
        let name = model::text("name", &req.name, MAX_NAME, true)?.unwrap_or_default();
        let rights = model::rights(&req.rights)?;
        let details = model::text("details", &req.details, MAX_DETAILS, false)?.unwrap_or_default();
        let language = model::language(&req.language);
        let now = self.now();
        // Keyed: a plain hash of an address is reversed by trying every address.
        let client = ip.map(|ip| {
            self.auth
                .tokens
                .sealer
                .pseudonym(&ip.to_string(), "rights_request.client_ip")
        });
        let normalized = email.normalized();
        let (by_address, by_client): (i64, i64) = on_pool!(self.db(), read, |pool| {
            async {
                let a: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM rights_request WHERE LOWER(email) = $1 \
                     AND channel = 'public' AND created_at > $2",
                )
                .bind(&normalized)
                .bind(now - 24 * 3600)
                .fetch_one(pool)
                .await?;
                let c: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM rights_request WHERE client_ip = $1 AND created_at > $2",
                )
                .bind(&client)
                .bind(now - 3600)
                .fetch_one(pool)
                .await?;
                Ok::<_, sqlx::Error>((a, c))
            }
            .await
        })?;
        if by_address >= self.settings.per_address_per_day
            || by_client >= self.settings.per_client_per_hour
        {
            let mut e = NewEntry::new(self.clock.now(), "rights_request.file", Outcome::Denied)
                .detail(serde_json::json!({ "reason": "rate limited" }));
            if let Some(ip) = ip {
                e = e.ip(ip);
            }
            extranet_audit::append(self.db(), &e).await?;
            return Err(RightsError::TooMany(
                "too many requests from this address: try again tomorrow, or write to the \
                 privacy coordinator"
                    .into(),
            ));
        }
        let token = new_token();
        let id = Uuid::now_v7();
        let expires = now + i64::try_from(self.settings.link_lifetime.as_secs()).unwrap_or(86_400);
        let mut entry = NewEntry::new(self.clock.now(), "rights_request.file", Outcome::Success)
            .subject("rights_request", id)
            .detail(serde_json::json!({ "rights": rights, "channel": "public" }));
        if let Some(ip) = ip {
            entry = entry.ip(ip);
        }
        let link = self.link(&format!("/rights/confirm?token={token}"));
        let rights_text = rights.join(",");
        let res: Result<()> = write_tx!(self.db(), |tx| async {
            sqlx::query(
                "INSERT INTO rights_request (id, email, name, language, rights, details, channel, \
                 state, created_at, confirm_hash, confirm_expires, client_ip, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'public', 'unconfirmed', $7, $8, $9, $10, $7)",
            )
            .bind(id)
            .bind(email.as_str())
            .bind(&name)
            .bind(language)
            .bind(&rights_text)
            .bind(&details)
            .bind(now)
            .bind(hash_token(&token))
            .bind(expires)
            .bind(&client)
            .execute(&mut *tx)
            .await?;
            event!(
                tx,
                id,
                now,
                None::<Uuid>,
                "filed",
                "unconfirmed",
                false,
                None::<String>
            )?;
            extranet_audit::append_in(&mut *tx, &entry).await?;
            outbox::enqueue_in(
                &mut *tx,
                &SystemClock,
                &Mail {
                    recipient: email.as_str().to_owned(),
                    language: language.to_owned(),
                    template: "rights-confirm",
                    args: serde_json::json!({
                        "site": self.settings.site_name,
                        "name": name,
                        "rights": rights_text.replace(',', ", "),
                        "link": link,
                        "hours": self.settings.link_lifetime.as_secs() / 3600,
                    }),
                },
            )
            .await?;
            Ok::<_, RightsError>(())
        }
        .await)
        .await;
        res
    }

    /// Uses a confirmation link: the request is received (numbered, due, its receipt mailed).
    /// The data subject is the person who has this address, if anyone does.
    pub async fn confirm(
        &self,
        token: &str,
        ip: Option<IpAddr>,
    ) -> Result<std::result::Result<RequestRow, LinkRefused>> {
        let hash = hash_token(token.trim());
        let found: Option<(RequestRow, Option<i64>)> = {
            let row: Option<RequestRow> = on_pool!(self.db(), read, |pool| {
                sqlx::query_as(AssertSqlSafe(format!(
                    "{SELECT} WHERE r.confirm_hash = $1 AND r.state = 'unconfirmed'"
                )))
                .bind(&hash)
                .fetch_optional(pool)
                .await
            })?;
            match row {
                None => None,
                Some(r) => {
                    let expires: Option<i64> = on_pool!(self.db(), read, |pool| {
                        sqlx::query_scalar(
                            "SELECT confirm_expires FROM rights_request WHERE id = $1",
                        )
                        .bind(r.id)
                        .fetch_one(pool)
                        .await
                    })?;
                    Some((r, expires))
                }
            }
        };
        let Some((mut row, expires)) = found else {
            return Ok(Err(LinkRefused::Invalid));
        };
        if expires.is_none_or(|e| e < self.now()) {
            return Ok(Err(LinkRefused::Expired));
        }
        let normalized = row.email.to_lowercase();
        row.person_id = on_pool!(self.db(), read, |pool| {
            sqlx::query_scalar("SELECT id FROM person WHERE email_normalized = $1")
                .bind(&normalized)
                .fetch_optional(pool)
                .await
        })?;
        match self.receive(&row, ip, false).await {
            Ok(id) => Ok(Ok(self.row(id).await?.ok_or(RightsError::NotFound)?)),
            Err(RightsError::Conflict { .. }) => Ok(Err(LinkRefused::Invalid)),
            Err(e) => Err(e),
        }
    }
}
