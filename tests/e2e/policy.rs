//! The policy as files: `extranet policy check` and `policy matrix`, a policy directory read at
//! start-up and again on SIGHUP, and a policy that does not check out refused at start-up and on
//! reload (the one in force stays).

use std::path::{Path, PathBuf};
use std::time::Duration;

use extranet_tests::server::run_command;
use extranet_tests::{ServerBuilder, databases};
use serde_json::Value;

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// A copy of the shipped policy in a temporary directory, to edit.
fn copy() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    for f in ["model.conf", "policy.csv", "fields.csv", "roles.csv"] {
        std::fs::copy(shipped().join(f), dir.path().join(f))?;
    }
    Ok(dir)
}

fn without(dir: &Path, file: &str, needle: &str) -> anyhow::Result<()> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)?;
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains(needle)).collect();
    std::fs::write(path, kept.join("\n"))?;
    Ok(())
}

#[tokio::test]
async fn policy_check_refuses_unknown_words_and_lists_fields_without_grant() -> anyhow::Result<()> {
    let (status, _, err) = run_command(&["policy", "check"], &[]).await?;
    assert!(status.success(), "{err}");
    assert!(err.contains("is valid"), "{err}");

    let dir = copy()?;
    let env = [(
        "EXTRANET_ACCESS__POLICY_DIR",
        dir.path().to_str().unwrap_or_default(),
    )];
    without(dir.path(), "fields.csv", "person.licence_plates")?;
    let (status, out, err) = run_command(&["policy", "check"], &env).await?;
    assert!(status.success(), "{err}");
    assert!(out.contains("no grant: person.licence_plates"), "{out}");

    let mut policy = std::fs::read_to_string(dir.path().join("policy.csv"))?;
    policy.push_str("\np, auditor, all, person, read\np, staff, all, person, teleport\n");
    std::fs::write(dir.path().join("policy.csv"), policy)?;
    let (status, _, err) = run_command(&["policy", "check"], &env).await?;
    assert!(!status.success());
    assert!(
        err.contains("unknown role or subject `auditor`")
            && err.contains("unknown action `teleport`"),
        "{err}"
    );
    assert!(err.contains("policy.csv line"), "{err}");
    Ok(())
}

#[tokio::test]
async fn the_committed_matrix_is_the_one_the_policy_gives() -> anyhow::Result<()> {
    let (status, out, err) = run_command(&["policy", "matrix"], &[]).await?;
    assert!(status.success(), "{err}");
    let committed = std::fs::read_to_string(shipped().join("MATRIX.md"))?;
    assert_eq!(
        out, committed,
        "policies/MATRIX.md is stale: run `extranet policy matrix > policies/MATRIX.md`"
    );
    for format in ["csv", "json"] {
        let (status, out, err) =
            run_command(&["policy", "matrix", "--format", format], &[]).await?;
        assert!(status.success(), "{err}");
        assert!(out.contains("person.birth_date"), "{format}: {out}");
    }
    let (status, _, err) = run_command(&["policy", "matrix", "--format", "pdf"], &[]).await?;
    assert!(!status.success() && err.contains("--format"), "{err}");
    Ok(())
}

databases!(
    async fn the_policy_reloads_on_sighup_and_a_broken_one_is_refused(b: Backends) {
        let dir = copy()?;
        let policy_dir = dir.path().to_str().unwrap_or_default().to_owned();
        let server = ServerBuilder::new(b)
            .env("EXTRANET_ACCESS__POLICY_DIR", &policy_dir)
            .start()
            .await?;
        let org = server.create_client_org("Herlaad NV").await?;
        server
            .create_user_in("cu@herlaad.example", "client_user", &org)
            .await?;
        let token = crate::access::login(&server, "cu@herlaad.example").await?;
        let count = |body: String| -> anyhow::Result<usize> {
            let v: Value = serde_json::from_str(&body)?;
            Ok(v["items"].as_array().map(Vec::len).unwrap_or(0))
        };
        let (_, body) = crate::access::api(
            &server,
            &token,
            reqwest::Method::GET,
            "/api/v1/organisations",
            None,
        )
        .await?;
        assert_eq!(count(body)?, 1);

        // Take the contact person's organisation rights away and reload: the list is empty.
        without(
            dir.path(),
            "policy.csv",
            "p, client_user, organisation, organisation,",
        )?;
        // A reload re-checks the whole policy (seconds in a debug build on a busy machine).
        server.signal("HUP")?;
        let mut n = 1;
        for _ in 0..200 {
            let (_, body) = crate::access::api(
                &server,
                &token,
                reqwest::Method::GET,
                "/api/v1/organisations",
                None,
            )
            .await?;
            n = count(body)?;
            if n == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(n, 0, "the reloaded policy is not in force");

        // A broken policy is refused on reload; the server keeps the one in force.
        std::fs::write(
            dir.path().join("policy.csv"),
            "p, nobody, all, person, read\n",
        )?;
        server.signal("HUP")?;
        assert!(
            server
                .stderr_contains("policy not reloaded", Duration::from_secs(5))
                .await,
            "{}",
            server.stderr()
        );
        let (status, _) = crate::access::api(
            &server,
            &token,
            reqwest::Method::GET,
            "/api/v1/organisations",
            None,
        )
        .await?;
        assert_eq!(status, 200);
        server.stop().await?;

        // …and at start-up, with one line naming it.
        let (status, _, err) = run_command(
            &["serve"],
            &[
                ("EXTRANET_ACCESS__POLICY_DIR", policy_dir.as_str()),
                ("EXTRANET_DATA_DIR", dir.path().to_str().unwrap_or_default()),
                (
                    "EXTRANET_KEYS__ENCRYPTION_KEY",
                    &extranet_tests::keys::new_kek()?,
                ),
            ],
        )
        .await?;
        assert!(!status.success());
        assert!(err.contains("unknown role or subject `nobody`"), "{err}");
        Ok(())
    }
);

/// The shipped matcher, and three ways of breaking it: (name, replacement, the invariant that
/// must fail, a question it must fail with).
const MATCHER: &str = "r.dom == p.dom && r.obj == p.obj && r.act == p.act";
const BROKEN_MODELS: [(&str, &str, &str, &str); 4] = [
    (
        "the domain ignored",
        "r.obj == p.obj && r.act == p.act",
        "domain isolation",
        "(client_admin, all, organisation, list)",
    ),
    (
        "a subject granted by name",
        "r.dom == p.dom && r.obj == p.obj && r.act == p.act || r.sub == \"client_user\"",
        "no subject granted by name",
        "(client_user, organisation, person, list)",
    ),
    (
        "the object ignored",
        "r.dom == p.dom && r.act == p.act",
        "objects match exactly",
        "(client_admin, organisation, invariant-probe, list)",
    ),
    (
        "anything allowed",
        "r.dom == p.dom && r.obj == p.obj && r.act == p.act || true",
        "unknown subjects get nothing",
        // The probe asks for the first grant of domain `all`, whichever it is.
        "(invariant-probe, all, ",
    ),
];

fn break_model(dir: &Path, replacement: &str) -> anyhow::Result<()> {
    let path = dir.join("model.conf");
    let text = std::fs::read_to_string(&path)?;
    anyhow::ensure!(text.contains(MATCHER), "the shipped matcher changed");
    std::fs::write(path, text.replace(MATCHER, replacement))?;
    Ok(())
}

databases!(
    async fn a_model_that_breaks_an_invariant_is_refused_by_check_start_and_reload(b: Backends) {
        for (name, replacement, invariant, question) in BROKEN_MODELS {
            let dir = copy()?;
            break_model(dir.path(), replacement)?;
            let policy_dir = dir.path().to_str().unwrap_or_default();
            let env = [("EXTRANET_ACCESS__POLICY_DIR", policy_dir)];
            let (status, _, err) = run_command(&["policy", "check"], &env).await?;
            assert!(!status.success(), "{name}: policy check accepted it");
            let line =
                format!("error: invariant \"{invariant}\" broken: the model allows {question}");
            assert!(err.contains(&line), "{name}: no line `{line}` in\n{err}");

            // `serve` refuses to start with it, naming the first invariant broken and its question.
            let started = ServerBuilder::new(b)
                .env("EXTRANET_ACCESS__POLICY_DIR", policy_dir)
                .start()
                .await;
            let Err(e) = started else {
                anyhow::bail!("{name}: the server started with a broken model");
            };
            let e = e.to_string();
            assert!(
                e.contains("model.conf is refused: invariant \"")
                    && e.contains("broken: the model allows ("),
                "{name}: {e}"
            );
        }

        // On SIGHUP the broken model is refused and the policy in force stays.
        let dir = copy()?;
        let server = ServerBuilder::new(b)
            .env(
                "EXTRANET_ACCESS__POLICY_DIR",
                dir.path().to_str().unwrap_or_default(),
            )
            .start()
            .await?;
        let org = server.create_client_org("Model NV").await?;
        server
            .create_user_in("cu@model.example", "client_user", &org)
            .await?;
        let token = crate::access::login(&server, "cu@model.example").await?;
        break_model(dir.path(), BROKEN_MODELS[1].1)?;
        server.signal("HUP")?;
        assert!(
            server
                .stderr_contains("policy not reloaded", Duration::from_secs(10))
                .await,
            "{}",
            server.stderr()
        );
        assert!(
            server.stderr().contains("model.conf is refused: invariant"),
            "{}",
            server.stderr()
        );
        // The policy in force still answers.
        let (status, _) = crate::access::api(
            &server,
            &token,
            reqwest::Method::GET,
            "/api/v1/organisations",
            None,
        )
        .await?;
        assert_eq!(status, 200);
        server.stop().await?;
        Ok(())
    }
);
