//! The shipped register against the shipped schema, and broken registers each refused with the
//! file, line and word at fault.

use std::collections::BTreeSet;

use extranet_platform::Db;
use extranet_privacy::{Context, PrivacyError, Register, RegisterSource};

async fn shipped_context() -> anyhow::Result<Context> {
    Ok(Context {
        columns: Some(Db::shipped_columns().await?),
        subprocessors: None,
    })
}

#[tokio::test]
async fn the_shipped_register_classifies_every_column_of_the_schema() -> anyhow::Result<()> {
    let register = Register::load(&RegisterSource::embedded(), &shipped_context().await?)?;
    assert!(register.activities.len() >= 5);
    assert!(
        register
            .consent_purposes()
            .any(|(a, _)| a.id == "newsletter")
    );
    let personal: BTreeSet<_> = register
        .personal_columns()
        .map(|c| format!("{}.{}", c.table, c.column))
        .collect();
    for must in [
        "person.surname",
        "person.email",
        "audit_log.actor_ip",
        "person.birth_date",
    ] {
        assert!(personal.contains(must), "{must} must be personal data");
    }
    Ok(())
}

/// Loads the shipped register with `edit` applied to one file; returns the problems' texts.
async fn broken(file: &str, from: &str, to: &str) -> anyhow::Result<Vec<String>> {
    let mut src = RegisterSource::embedded();
    let text = match file {
        "activities.toml" => &mut src.activities,
        "retention.toml" => &mut src.retention,
        _ => &mut src.schema,
    };
    assert!(text.contains(from), "{file} has no {from:?}");
    *text = text.replacen(from, to, 1);
    match Register::load(&src, &shipped_context().await?) {
        Ok(_) => anyhow::bail!("{file} with {to:?} was accepted"),
        Err(PrivacyError::Register(problems)) => {
            Ok(problems.iter().map(|p| p.to_string()).collect())
        }
        Err(e) => Err(e.into()),
    }
}

fn line_of(file: &str, needle: &str) -> anyhow::Result<usize> {
    let src = RegisterSource::embedded();
    let text = match file {
        "activities.toml" => src.activities,
        "retention.toml" => src.retention,
        _ => src.schema,
    };
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .ok_or_else(|| anyhow::anyhow!("{file} has no {needle:?}"))
}

#[tokio::test]
async fn each_broken_register_names_file_line_and_word() -> anyhow::Result<()> {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        // (file, replace, with, line holding, expected word)
        (
            "activities.toml",
            "\"professional\", \"documents\"]",
            "\"professional\", \"shoe_size\"]",
            "\"professional\", \"documents\"]",
            "shoe_size",
        ),
        (
            "activities.toml",
            "basis = \"c\"",
            "basis = \"g\"",
            "basis = \"c\"",
            "g",
        ),
        (
            "activities.toml",
            "subprocessors = [\"0834.567.891\"]",
            "subprocessors = [\"0834.567.891\"]\nretention = [\"forever\"]",
            "",
            "",
        ),
        (
            "retention.toml",
            "after = \"90 days\"",
            "after = \"ninety days\"",
            "after = \"90 days\"",
            "ninety days",
        ),
        (
            "retention.toml",
            "erase = [\"actor_ip\"]",
            "erase = [\"actor_ip\"]\nreplace = { actor_ip = \"0.0.0.0\" }",
            "",
            "",
        ),
    ];
    for (file, from, to, holding, word) in cases {
        let problems = broken(file, from, to).await?;
        if holding.is_empty() {
            // A duplicated key / field outside the target: refused, file named.
            assert!(problems.iter().any(|p| p.contains(file)), "{problems:?}");
            continue;
        }
        let line = line_of(file, holding)?;
        let expected = format!("{file}:{line}: `{word}`");
        assert!(
            problems.iter().any(|p| p.contains(&expected)),
            "expected {expected} in {problems:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_rule_erasing_and_replacing_one_field_is_refused() -> anyhow::Result<()> {
    let problems = broken(
        "retention.toml",
        "replace = { surname = \"Anonymised\"",
        "replace = { phone = \"none\", surname = \"Anonymised\"",
    )
    .await?;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`phone`") && p.contains("both erased and replaced")),
        "{problems:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_unmapped_column_and_a_recipient_outside_the_subprocessor_register_are_refused()
-> anyhow::Result<()> {
    let mut ctx = shipped_context().await?;
    if let Some(cols) = ctx.columns.as_mut() {
        cols.push(("person".into(), "shoe_size".into()));
    }
    ctx.subprocessors = Some(BTreeSet::from(["0678.123.456".to_owned()]));
    let Err(PrivacyError::Register(problems)) = Register::load(&RegisterSource::embedded(), &ctx)
    else {
        anyhow::bail!("accepted");
    };
    let texts: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(
        texts
            .iter()
            .any(|p| p.contains("schema.csv") && p.contains("`person.shoe_size`")),
        "{texts:?}"
    );
    let line = line_of("activities.toml", "subprocessors = [\"0712.345.678\"]")?;
    assert!(
        texts
            .iter()
            .any(|p| p.contains(&format!("activities.toml:{line}: `0712.345.678`"))),
        "{texts:?}"
    );
    Ok(())
}
