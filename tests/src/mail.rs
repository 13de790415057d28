//! Reading what the SMTP sink (`infra/scripts/start-smtp.sh`, a Maildir) or the file transport
//! (`.eml` files) received.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};

/// A received message, decoded.
#[derive(Debug, Clone)]
pub struct Received {
    pub subject: String,
    pub body: String,
    pub content_language: Option<String>,
    /// Every header as (name, value), in order.
    pub headers: Vec<(String, String)>,
}

impl Received {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn parse(raw: &[u8]) -> anyhow::Result<(Vec<String>, Received)> {
    let mail = mailparse::parse_mail(raw)?;
    use mailparse::MailHeaderMap;
    let to = mail.headers.get_all_values("To");
    Ok((
        to,
        Received {
            subject: mail.headers.get_first_value("Subject").unwrap_or_default(),
            body: mail.get_body()?,
            content_language: mail.headers.get_first_value("Content-Language"),
            headers: mail
                .headers
                .iter()
                .map(|h| (h.get_key(), h.get_value()))
                .collect(),
        },
    ))
}

/// Waits (up to `limit`) for a message to `recipient` among the files under `dir` (searched
/// recursively: a Maildir's `new/` and `cur/`, or a directory of `.eml` files).
pub async fn wait_for(dir: &Path, recipient: &str, limit: Duration) -> anyhow::Result<Received> {
    wait_for_subject(dir, recipient, "", limit).await
}

/// [`wait_for`] a message to `recipient` whose subject contains `subject` (other mails to the
/// same person, a privacy notice say, are passed over).
pub async fn wait_for_subject(
    dir: &Path,
    recipient: &str,
    subject: &str,
    limit: Duration,
) -> anyhow::Result<Received> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Ok(raw) = std::fs::read(&path) else {
                    continue;
                };
                if let Ok((to, msg)) = parse(&raw)
                    && to.iter().any(|t| t.contains(recipient))
                    && msg.subject.contains(subject)
                {
                    return Ok(msg);
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "no mail to {recipient} under {} within {limit:?}",
                dir.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The first `https://` link in a text.
pub fn link(body: &str) -> anyhow::Result<String> {
    let start = body.find("https://").context("no link in the mail")?;
    Ok(body[start..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned())
}

/// Waits (up to `limit`) until at least `n` messages to `recipient` are under `dir`; returns
/// them all (in no particular order).
pub async fn wait_for_count(
    dir: &Path,
    recipient: &str,
    n: usize,
    limit: Duration,
) -> anyhow::Result<Vec<Received>> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(raw) = std::fs::read(&path)
                    && let Ok((to, msg)) = parse(&raw)
                    && to.iter().any(|t| t.contains(recipient))
                {
                    found.push(msg);
                }
            }
        }
        if found.len() >= n {
            return Ok(found);
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "{} of {n} mails to {recipient} within {limit:?}",
                found.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
