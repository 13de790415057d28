//! The processing register as files (`policies/register/`, or `privacy.register_dir`): `extranet
//! policy check` names file, line and word of each mistake; the server refuses to start on a
//! broken register, and on SIGHUP refuses it and keeps the one in force.

use std::path::{Path, PathBuf};
use std::time::Duration;

use extranet_tests::server::run_command;
use extranet_tests::{Db, ServerBuilder, databases};

use crate::auth::sql_rows;

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/register")
}

fn copy() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    for f in ["activities.toml", "retention.toml", "schema.csv"] {
        std::fs::copy(shipped().join(f), dir.path().join(f))?;
    }
    Ok(dir)
}

/// Replaces the first `from` in `file` by `to`; returns the 1-based line of `holding` in the
/// shipped file.
fn edit(dir: &Path, file: &str, from: &str, to: &str, holding: &str) -> anyhow::Result<usize> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)?;
    anyhow::ensure!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1))?;
    Ok(text
        .lines()
        .position(|l| l.contains(holding))
        .map_or(0, |i| i + 1))
}

#[tokio::test]
async fn policy_check_names_file_line_and_word_of_each_mistake() -> anyhow::Result<()> {
    let (status, _, err) = run_command(&["policy", "check"], &[]).await?;
    assert!(status.success(), "{err}");
    assert!(
        err.contains("register the built-in register is valid"),
        "{err}"
    );

    let last_person_line = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/register/schema.csv"),
    )?
    .lines()
    .rfind(|l| l.starts_with("person,"))
    .unwrap_or_default()
    .to_owned();
    // (file, from, to, the line holding it, the word named)
    let cases = [
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
            "retention.toml",
            "after = \"90 days\"",
            "after = \"ninety days\"",
            "after = \"90 days\"",
            "ninety days",
        ),
        (
            "retention.toml",
            "replace = { surname",
            "replace = { phone = \"none\", surname",
            "replace = { surname",
            "phone",
        ),
        (
            "schema.csv",
            "person,birth_date,identification",
            "person,birth_date,shoe_sizes",
            "person,birth_date,identification",
            "shoe_sizes",
        ),
        (
            "schema.csv",
            "person,fax,contact\n",
            "",
            // A column the map lost: named where the table's lines end.
            last_person_line.as_str(),
            "person.fax",
        ),
    ];
    for (file, from, to, holding, word) in cases {
        let dir = copy()?;
        let line = edit(dir.path(), file, from, to, holding)?;
        let env = [(
            "EXTRANET_PRIVACY__REGISTER_DIR",
            dir.path().to_str().unwrap_or_default(),
        )];
        let (status, _, err) = run_command(&["policy", "check"], &env).await?;
        assert!(!status.success(), "{file} {to:?} accepted");
        let named = format!("{}:{line}: `{word}`", dir.path().join(file).display());
        assert!(err.contains(&named), "expected {named} in {err}");
    }
    Ok(())
}

databases!(
    async fn a_broken_register_stops_start_up_and_a_reload_keeps_the_one_in_force(b: Backends) {
        let dir = copy()?;
        let register_dir = dir.path().to_str().unwrap_or_default().to_owned();
        let server = ServerBuilder::new(b)
            .env("EXTRANET_PRIVACY__REGISTER_DIR", &register_dir)
            .start()
            .await?;
        // The subprocessor register holds one of the register's recipients, not the others.
        let id = match b.db {
            Db::Sqlite => "X'0190000000007000800000000000aaaa'".to_owned(),
            Db::Postgres => "'01900000-0000-7000-8000-00000000aaaa'".to_owned(),
        };
        sql_rows(
            &server,
            &format!(
                "INSERT INTO subprocessor (id, legal_name, registration_number, website, service, \
                 data_categories, subject_categories, locations, agreement_date, state, \
                 created_at, updated_at) VALUES ({id}, 'DataCenter Gent NV', '0678.123.456', \
                 'https://dc.example', 'Hosting', '[]', '[]', '[]', NULL, 'active', 0, 0)"
            ),
        )
        .await?;
        let (status, _, err) = server.command(&["policy", "check"], "").await?;
        assert!(!status.success());
        let line = std::fs::read_to_string(dir.path().join("activities.toml"))?
            .lines()
            .position(|l| l.contains("subprocessors = [\"0712.345.678\"]"))
            .map_or(0, |i| i + 1);
        assert!(
            err.contains(&format!("activities.toml:{line}: `0712.345.678`"))
                && err.contains("subprocessor register"),
            "{err}"
        );

        // The register in force stays when a reload finds it broken.
        edit(
            dir.path(),
            "activities.toml",
            "basis = \"c\"",
            "basis = \"art-6\"",
            "basis",
        )?;
        server.signal("HUP")?;
        assert!(
            server
                .stderr_contains("processing register not reloaded", Duration::from_secs(30))
                .await,
            "{}",
            server.stderr()
        );
        let (status, _) = crate::access::api(
            &server,
            &crate::access::login(&server, &{
                server.create_user("staff@cb.example", "staff").await?;
                "staff@cb.example".to_owned()
            })
            .await?,
            reqwest::Method::GET,
            "/api/v1/me",
            None,
        )
        .await?;
        assert_eq!(status, 200);
        let kek = server.data_dir.join(extranet_tests::server::TEST_KEK_FILE);
        let db_url = match b.db {
            Db::Postgres => server.pg_url().unwrap_or_default().to_owned(),
            Db::Sqlite => format!("sqlite://{}", server.data_dir.join("extranet.db").display()),
        };
        // …and a server does not start on it, naming the word.
        let (status, _, err) = run_command(
            &["serve"],
            &[
                ("EXTRANET_PRIVACY__REGISTER_DIR", register_dir.as_str()),
                ("EXTRANET_DATABASE__URL", db_url.as_str()),
                (
                    "EXTRANET_KEYS__ENCRYPTION_KEY_FILE",
                    kek.to_str().unwrap_or_default(),
                ),
                ("EXTRANET_SERVER__LISTEN", "127.0.0.1:0"),
            ],
        )
        .await?;
        assert!(!status.success());
        assert!(err.contains("`art-6`"), "{err}");
        server.stop().await
    }
);
