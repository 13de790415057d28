//! The command line: help, version, `config check`, and configuration errors.

use extranet_tests::server::run_command;

#[tokio::test]
async fn every_subcommand_explains_itself() -> anyhow::Result<()> {
    let (status, out, _) = run_command(&["--version"], &[]).await?;
    assert!(status.success());
    assert!(out.starts_with("extranet "), "{out}");
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["migrate", "--help"],
        vec!["config", "--help"],
        vec!["config", "check", "--help"],
    ] {
        let (status, out, err) = run_command(&args, &[]).await?;
        assert!(status.success(), "{args:?}: {err}");
        assert!(out.contains("Usage:"), "{args:?}: {out}");
        assert!(out.lines().count() > 4, "{args:?} says too little: {out}");
    }
    let (status, out, _) = run_command(&["demo", "--help"], &[]).await?;
    assert!(status.success());
    assert!(out.contains("--data-dir"), "{out}");
    Ok(())
}

#[tokio::test]
async fn config_check_prints_effective_values_with_secrets_redacted() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("extranet.toml");
    std::fs::write(
        &file,
        "[server]\nlisten = \"0.0.0.0:9443\"\n[site]\nname = \"Fichier\"\n\
         [storage]\nkind = \"s3\"\n[storage.s3]\nbucket = \"docs\"\nendpoint = \"https://s3.example\"\n\
         access_key_id = \"AKIA-visible-nowhere\"\n",
    )?;
    let (status, out, err) = run_command(
        &["--config", &file.display().to_string(), "config", "check"],
        &[
            ("EXTRANET_SITE__NAME", "From the environment"),
            ("EXTRANET_STORAGE__S3__SECRET_ACCESS_KEY", "s3-super-secret"),
            (
                "EXTRANET_DATABASE__URL",
                "postgres://app:db-super-secret@db.example/extranet",
            ),
        ],
    )
    .await?;
    assert!(status.success(), "{err}");
    assert!(
        out.contains("listen = \"0.0.0.0:9443\""),
        "file value: {out}"
    );
    assert!(
        out.contains("name = \"From the environment\""),
        "env wins: {out}"
    );
    assert!(out.contains("bucket = \"docs\""), "{out}");
    assert!(
        out.contains("postgres://app:REDACTED@db.example/extranet"),
        "{out}"
    );
    for secret in ["s3-super-secret", "db-super-secret", "AKIA-visible-nowhere"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} printed"
        );
    }
    Ok(())
}

/// Arguments before `config check`, environment, and what the error must name.
type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test]
async fn invalid_configuration_names_the_key() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let bad_toml = dir.path().join("bad.toml");
    std::fs::write(&bad_toml, "[server\nlisten = 1")?;
    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "[server]\nlisten_addr = \"127.0.0.1:1\"\n")?;
    let cases: Vec<Case> = vec![
        (
            vec![],
            vec![("EXTRANET_SERVER__LISTEN", "not-an-address")],
            "server.listen",
        ),
        (
            vec![],
            vec![("EXTRANET_SERVER__MAX_CONNECTIONS", "-3")],
            "max_connections",
        ),
        (
            vec![],
            vec![("EXTRANET_SERVER__PUBLIC_URL", "http://plain.example")],
            "server.public_url",
        ),
        (
            vec![],
            vec![("EXTRANET_DATABASE__URL", "mysql://x/y")],
            "database.url",
        ),
        (
            vec![],
            vec![("EXTRANET_STORAGE__KIND", "ftp")],
            "storage.kind",
        ),
        (
            vec![],
            vec![("EXTRANET_STORAGE__KIND", "s3")],
            "storage.s3.bucket",
        ),
        (
            vec![],
            vec![("EXTRANET_TLS__CERT_FILE", "/x.pem")],
            "tls.key_file",
        ),
        (
            vec![],
            vec![("EXTRANET_SITE__EMAIL", "nobody")],
            "site.email",
        ),
        (vec![], vec![("EXTRANET_LOG__FORMAT", "xml")], "log.format"),
        (
            vec![],
            vec![("EXTRANET_CONFIRMATION__INTERVAL_DAYS", "99999")],
            "confirmation.interval_days",
        ),
        (
            vec![],
            vec![("EXTRANET_CONFIRMATION__INTERVAL_DAYS", "-1")],
            "interval_days",
        ),
        (
            vec![],
            vec![("EXTRANET_CONFIRMATION__CHECK_EVERY_SECS", "0")],
            "confirmation.check_every_secs",
        ),
        (
            vec!["--config".into(), bad_toml.display().to_string()],
            vec![],
            "bad.toml",
        ),
        (
            vec!["--config".into(), typo.display().to_string()],
            vec![],
            "listen_addr",
        ),
        (
            vec!["--config".into(), "/no/such/file.toml".into()],
            vec![],
            "/no/such/file.toml",
        ),
    ];
    for (pre, env, needle) in cases {
        let mut args: Vec<&str> = pre.iter().map(String::as_str).collect();
        args.extend(["config", "check"]);
        let (status, out, err) = run_command(&args, &env).await?;
        assert!(!status.success(), "{env:?} {pre:?} accepted: {out}");
        assert!(err.starts_with("error: "), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(needle), "{needle} not named in: {err}");
    }
    Ok(())
}

#[tokio::test]
async fn unreadable_certificate_stops_start_up_before_anything_is_created() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let garbage = dir.path().join("cert.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )?;
    for (cert, key) in [
        (
            dir.path().join("missing.pem"),
            dir.path().join("missing-key.pem"),
        ),
        (garbage.clone(), garbage.clone()),
    ] {
        let (status, _, err) = run_command(
            &["serve"],
            &[
                ("EXTRANET_DATA_DIR", &data.display().to_string()),
                ("EXTRANET_SERVER__LISTEN", "127.0.0.1:0"),
                (
                    "EXTRANET_KEYS__ENCRYPTION_KEY",
                    &extranet_tests::keys::new_kek()?,
                ),
                ("EXTRANET_TLS__CERT_FILE", &cert.display().to_string()),
                ("EXTRANET_TLS__KEY_FILE", &key.display().to_string()),
            ],
        )
        .await?;
        assert!(!status.success());
        let last = err.lines().last().unwrap_or_default();
        assert!(last.starts_with("error: "), "{err}");
        assert!(last.contains(&cert.display().to_string()), "{err}");
        assert!(
            !data.exists(),
            "data directory created before the certificate was checked"
        );
    }
    Ok(())
}
