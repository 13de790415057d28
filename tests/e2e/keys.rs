//! Keys kept like keys: the token-signing keys are sealed in the database under the operator's
//! key-encryption key (KEK), `serve` refuses to start without one, `keys rotate` seals them
//! again under a new KEK, and the data directory is the server's alone whatever the umask.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use extranet_tests::keys::{new_kek, open_sealed};
use extranet_tests::server::run_command;
use extranet_tests::{Backends, Db, Server, ServerBuilder, Store, databases};

use crate::access::login;
use crate::auth::sql_rows;

async fn me(server: &Server, token: &str) -> anyhow::Result<u16> {
    Ok(server
        .client()?
        .get(server.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await?
        .status()
        .as_u16())
}

/// `(kid, private_key)` of every signing key.
async fn signing_keys(server: &Server) -> anyhow::Result<Vec<(String, String)>> {
    Ok(sql_rows(
        server,
        "SELECT kid, private_key FROM signing_key ORDER BY kid",
    )
    .await?
    .into_iter()
    .filter_map(|r| Some((r.first()?.clone(), r.get(1)?.clone())))
    .collect())
}

/// The KEK id a sealed value names.
fn kek_of(sealed: &str) -> &str {
    sealed.split(':').nth(1).unwrap_or_default()
}

fn kid_of(token: &str) -> anyhow::Result<String> {
    use base64::Engine;
    let head = token.split('.').next().context("header")?;
    let v: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(head)?)?;
    Ok(v["kid"].as_str().context("kid")?.to_owned())
}

/// No private key in clear anywhere in a SQLite database's files.
fn no_plain_key_in_files(dir: &Path) -> anyhow::Result<()> {
    for name in ["extranet.db", "extranet.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("PRIVATE KEY"),
                "a private key in clear in {name}"
            );
        }
    }
    Ok(())
}

async fn stop_keeping_data(server: &mut Server) -> anyhow::Result<()> {
    server.signal("TERM")?;
    server.wait_exit(Duration::from_secs(20)).await?;
    Ok(())
}

databases!(
    /// Sealed at rest; tokens verify after a restart and after `keys rotate` moved the keys
    /// to a new KEK; a server given only the old KEK then refuses to start, naming the KEK.
    async fn signing_keys_are_sealed_and_move_to_a_new_key_encryption_key(b: Backends) {
        let dir = tempfile::tempdir()?;
        let (kek1, kek2) = (new_kek()?, new_kek()?);
        let builder = |kek: &str, pg: &Option<String>| {
            let mut s = ServerBuilder::new(b)
                .data_dir(dir.path())
                .env("EXTRANET_KEYS__ENCRYPTION_KEY", kek);
            if let Some(url) = pg {
                s = s.env("EXTRANET_DATABASE__URL", url.clone());
            }
            s
        };
        let mut first = builder(&kek1, &None).start().await?;
        let pg = first.pg_url().map(str::to_owned);
        first.create_user("keys@cb.example", "staff").await?;
        let token = login(&first, "keys@cb.example").await?;
        assert_eq!(me(&first, &token).await?, 200);
        let keys = signing_keys(&first).await?;
        assert!(!keys.is_empty());
        for (kid, private) in &keys {
            assert!(private.starts_with("sealed-v1:"), "{kid}: {private}");
            assert!(!private.contains("PRIVATE"), "{kid}");
        }
        let id1 = kek_of(&keys[0].1).to_owned();
        if b.db == Db::Sqlite {
            no_plain_key_in_files(dir.path())?;
        }
        stop_keeping_data(&mut first).await?;

        // A restart with the same KEK: the token signed before still verifies.
        let mut second = builder(&kek1, &pg).start().await?;
        assert_eq!(me(&second, &token).await?, 200);

        // A new KEK, the old one given as previous: `keys rotate` seals everything again.
        let data = dir.path().display().to_string();
        let mut env = vec![
            ("EXTRANET_DATA_DIR", data.as_str()),
            ("EXTRANET_KEYS__ENCRYPTION_KEY", kek2.as_str()),
            ("EXTRANET_KEYS__PREVIOUS_ENCRYPTION_KEY", kek1.as_str()),
        ];
        if let Some(url) = &pg {
            env.push(("EXTRANET_DATABASE__URL", url.as_str()));
        }
        let (status, out, err) = run_command(&["keys", "rotate"], &env).await?;
        assert!(status.success(), "{out}{err}");
        let keys = signing_keys(&second).await?;
        let id2 = kek_of(&keys[0].1).to_owned();
        assert_ne!(id1, id2);
        assert!(keys.iter().all(|(_, k)| kek_of(k) == id2), "{keys:?}");
        assert!(out.contains(&id2), "{out}");
        for (kid, sealed) in &keys {
            let pem = open_sealed(&kek2, sealed, &format!("signing_key:{kid}"))?;
            assert!(String::from_utf8_lossy(&pem).contains("PRIVATE KEY"));
            assert!(open_sealed(&kek1, sealed, &format!("signing_key:{kid}")).is_err());
        }
        assert_eq!(
            me(&second, &token).await?,
            200,
            "the running server is unaffected"
        );
        stop_keeping_data(&mut second).await?;

        // Only the old KEK: the keys cannot be opened, and start-up says which KEK they need.
        let refused = builder(&kek1, &pg)
            .start()
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            refused.contains(&format!("key-encryption key {id2}"))
                && refused.contains("keys.encryption_key"),
            "{refused}"
        );
        assert!(
            !refused.contains(&kek1) && !refused.contains(&kek2),
            "a KEK printed"
        );

        // Only the new KEK: tokens from before the rotation still verify, new ones too.
        let third = builder(&kek2, &pg).start().await?;
        assert_eq!(me(&third, &token).await?, 200);
        let fresh = login(&third, "keys@cb.example").await?;
        assert_eq!(me(&third, &fresh).await?, 200);
        assert_ne!(
            kid_of(&fresh)?,
            kid_of(&token)?,
            "signed with the rotated key"
        );
        third.stop().await?;
        second.stop().await?;
        first.stop().await
    }
);

databases!(
    /// Keys stored in clear by an older version are sealed at the next start (and audited),
    /// and tokens they signed keep verifying.
    async fn plain_signing_keys_are_sealed_at_start(b: Backends) {
        let dir = tempfile::tempdir()?;
        let mut first = ServerBuilder::new(b).data_dir(dir.path()).start().await?;
        let pg = first.pg_url().map(str::to_owned);
        first.create_user("plain@cb.example", "staff").await?;
        let token = login(&first, "plain@cb.example").await?;
        let kek = std::fs::read_to_string(
            first
                .env_value("EXTRANET_KEYS__ENCRYPTION_KEY_FILE")
                .context("the harness's KEK")?,
        )?;
        for (kid, sealed) in signing_keys(&first).await? {
            let pem =
                String::from_utf8(open_sealed(&kek, &sealed, &format!("signing_key:{kid}"))?)?;
            sql_rows(
                &first,
                &format!("UPDATE signing_key SET private_key = '{pem}' WHERE kid = '{kid}'"),
            )
            .await?;
        }
        assert!(
            signing_keys(&first)
                .await?
                .iter()
                .all(|(_, k)| k.contains("PRIVATE KEY"))
        );
        stop_keeping_data(&mut first).await?;

        let mut again = ServerBuilder::new(b).data_dir(dir.path());
        if let Some(url) = &pg {
            again = again.env("EXTRANET_DATABASE__URL", url.clone());
        }
        let again = again.start().await?;
        let keys = signing_keys(&again).await?;
        assert!(
            keys.iter()
                .all(|(_, k)| k.starts_with("sealed-v1:") && !k.contains("PRIVATE")),
            "{keys:?}"
        );
        let sealed = sql_rows(
            &again,
            "SELECT CAST(count(*) AS TEXT) FROM audit_log WHERE action = 'keys.seal'",
        )
        .await?;
        assert_eq!(sealed[0][0], "1");
        assert_eq!(me(&again, &token).await?, 200);
        again.stop().await?;
        first.stop().await
    }
);

/// Every directory under `dir` (and `dir`) is 0700 and every file 0600; returns the files.
fn private_tree(dir: &Path) -> anyhow::Result<Vec<String>> {
    use std::os::unix::fs::PermissionsExt;
    let mut files = Vec::new();
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{}: {mode:o}", dir.display());
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            files.extend(private_tree(&path)?);
        } else {
            let mode = meta.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}: {mode:o}", path.display());
            files.push(path.display().to_string());
        }
    }
    Ok(files)
}

databases!(
    /// Started under umask 022, the server still keeps its data directory 0700 and every file
    /// in it 0600: the database and its -wal/-shm, the development TLS key, objects, mail. A
    /// directory an older version left open is closed at start.
    async fn the_data_directory_is_private_whatever_the_umask(b: Backends) {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        let kek = new_kek()?;
        let start = |pg: &Option<String>| {
            let mut s = ServerBuilder::new(b)
                .data_dir(&data)
                .umask(0o022)
                .env("EXTRANET_KEYS__ENCRYPTION_KEY", kek.clone());
            if let Some(url) = pg {
                s = s.env("EXTRANET_DATABASE__URL", url.clone());
            }
            s
        };
        let mut first = start(&None).start().await?;
        let pg = first.pg_url().map(str::to_owned);
        // Something of everything: an account, a session, a document, an invitation mail.
        let f = crate::documents::fixture(&first).await?;
        let (status, body) = crate::access::upload(
            &first,
            &f.admin_a,
            &format!("/api/v1/dossiers/{}/documents", f.dossier_a),
            "test_report",
            "r.pdf",
            crate::access::pdf_bytes("r"),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
        let (status, out, err) = first
            .command(
                &[
                    "user",
                    "create",
                    "--email",
                    "new@cb.example",
                    "--first-name",
                    "N",
                    "--surname",
                    "P",
                    "--role",
                    "staff",
                ],
                "",
            )
            .await?;
        assert!(status.success(), "{out}{err}");
        let mailed = crate::documents::wait_until(Duration::from_secs(30), || async {
            Ok(std::fs::read_dir(data.join("mail")).is_ok_and(|mut d| d.next().is_some()))
        })
        .await?;
        assert!(mailed, "no mail written");

        let files = private_tree(&data)?;
        let has = |suffix: &str| files.iter().any(|f| f.ends_with(suffix));
        assert!(
            has("tls/dev-key.pem") && has("tls/dev-cert.pem"),
            "{files:?}"
        );
        assert!(files.iter().any(|f| f.contains("/mail/")), "{files:?}");
        assert!(
            files.iter().any(|f| f.contains("/objects/documents/")),
            "{files:?}"
        );
        if b.db == Db::Sqlite {
            assert!(
                has("extranet.db") && has("extranet.db-wal") && has("extranet.db-shm"),
                "{files:?}"
            );
        }
        stop_keeping_data(&mut first).await?;

        // As an older version left it: the directory and its files open to others.
        for entry in std::fs::read_dir(&data)? {
            let path = entry?.path();
            let mode = if path.is_dir() { 0o755 } else { 0o644 };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
        }
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755))?;
        let again = start(&pg).start().await?;
        private_tree(&data)?;
        assert!(
            again
                .stderr_contains("now 0700, its files 0600", Duration::from_secs(5))
                .await
        );
        again.stop().await?;
        first.stop().await
    }
);

/// `extranet demo`: its generated KEK and its data are private, under umask 022 too.
#[tokio::test]
async fn the_demo_generates_its_key_encryption_key_privately() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("demo");
    let server = ServerBuilder::new(Backends::new(Db::Sqlite, Store::Local))
        .data_dir(&data)
        .umask(0o022)
        .args([
            "demo",
            "--data-dir",
            &data.display().to_string(),
            "--listen",
            "127.0.0.1:0",
        ])
        .start()
        .await?;
    let files = private_tree(&data)?;
    assert!(
        files.iter().any(|f| f.ends_with("/encryption.key")),
        "{files:?}"
    );
    let kek = std::fs::read_to_string(data.join("encryption.key"))?;
    let keys = signing_keys(&server).await?;
    assert!(!keys.is_empty());
    for (kid, sealed) in &keys {
        open_sealed(&kek, sealed, &format!("signing_key:{kid}"))?;
    }
    no_plain_key_in_files(&data)?;
    server.stop().await
}

#[tokio::test]
async fn serve_refuses_to_start_without_a_key_encryption_key() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let data_s = data.display().to_string();
    let missing = dir.path().join("no-such.key").display().to_string();
    let short = dir.path().join("short.key");
    std::fs::write(&short, "c2hvcnQ=\n")?;
    let short = short.display().to_string();
    for (extra, needle) in [
        (vec![], "keys.encryption_key"),
        (
            vec![("EXTRANET_KEYS__ENCRYPTION_KEY", "not base64!")],
            "keys.encryption_key",
        ),
        (
            vec![("EXTRANET_KEYS__ENCRYPTION_KEY_FILE", missing.as_str())],
            "keys.encryption_key_file",
        ),
        (
            vec![("EXTRANET_KEYS__ENCRYPTION_KEY_FILE", short.as_str())],
            "keys.encryption_key_file",
        ),
    ] {
        let mut env = vec![
            ("EXTRANET_DATA_DIR", data_s.as_str()),
            ("EXTRANET_SERVER__LISTEN", "127.0.0.1:0"),
        ];
        env.extend(extra.iter().copied());
        let (status, out, err) = run_command(&["serve"], &env).await?;
        assert!(!status.success(), "{extra:?} started: {out}");
        let last = err.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ") && last.contains(needle),
            "{extra:?}: {err}"
        );
        assert!(
            !data.exists(),
            "{extra:?}: something was created before refusing"
        );
    }
    // The message says how to make one, and that command prints a usable key.
    let (_, _, err) = run_command(&["serve"], &[("EXTRANET_DATA_DIR", &data_s)]).await?;
    assert!(
        err.contains("EXTRANET_KEYS__ENCRYPTION_KEY") && err.contains("new-encryption-key"),
        "{err}"
    );
    let (status, out, _) = run_command(&["keys", "new-encryption-key"], &[]).await?;
    assert!(status.success());
    let (status, check, err) = run_command(
        &["config", "check"],
        &[("EXTRANET_KEYS__ENCRYPTION_KEY", out.trim())],
    )
    .await?;
    assert!(status.success(), "{err}");
    assert!(
        !check.contains(out.trim()),
        "the KEK printed by config check"
    );
    Ok(())
}
