//! What authentication costs, in process, on a real SQLite database in a temporary directory:
//! verifying an access token on first sight and when seen before, refreshing a session
//! (a write transaction each), and signing in (argon2id-bound).
//!
//! `cargo bench -p extranet-identity --bench auth`. Prints figures; fails only on an error.
//! `AUTH_BENCH_SECONDS` (default 3) is the time given to each measurement.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use extranet_identity::auth::Auth;
use extranet_identity::model::{NewOrganisation, NewPerson, OrganisationKind, Role};
use extranet_identity::sessions::SessionSettings;
use extranet_identity::throttle::ThrottleSettings;
use extranet_identity::tokens::{self, TokenSettings};
use extranet_identity::{EmailAddress, Gender, Language, password, store};
use extranet_platform::db::DbTarget;
use extranet_platform::{Clock, Db, DbOptions, SystemClock};

const EMAIL: &str = "bench@example.org";
const PASSWORD: &str = "a-bench-password-Correct-Horse-Battery";

fn main() -> anyhow::Result<()> {
    // One worker, as the HTTP benchmark gives the server one core.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

fn budget() -> Duration {
    let secs = std::env::var("AUTH_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(3.0);
    Duration::from_secs_f64(secs)
}

async fn setup(dir: &std::path::Path) -> anyhow::Result<Auth> {
    let db = Db::connect(
        &DbTarget::Sqlite(dir.join("bench.db")),
        &DbOptions::default(),
    )
    .await?;
    db.migrate().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let org = store::create_organisation(
        &db,
        clock.as_ref(),
        &NewOrganisation {
            kind: OrganisationKind::CertificationBody,
            name: "Bench".into(),
            enterprise_number: None,
            vat_number: None,
            addresses: Vec::new(),
            phone: None,
            fax: None,
            sector: None,
        },
    )
    .await?;
    let email: EmailAddress = EMAIL.parse()?;
    let hash = password::hash(PASSWORD)?;
    store::create_person(
        &db,
        clock.as_ref(),
        &NewPerson {
            organisation_id: org.id,
            surname: "Load".into(),
            first_name: "Bench".into(),
            email,
            phone: None,
            mobile: None,
            fax: None,
            function: None,
            gender: Gender::Unspecified,
            language: Language::En,
            training_valid_until: None,
            birth_date: None,
            licence_plates: Vec::new(),
            roles: vec![Role::Staff],
        },
        Some(&hash),
    )
    .await?;
    Ok(Auth::new(
        db,
        clock,
        TokenSettings {
            issuer: "https://bench.example".into(),
            audience: "extranet".into(),
            access_lifetime: Duration::from_secs(300),
            leeway: Duration::from_secs(5),
            sealer: extranet_platform::sealed::Sealer::new(
                extranet_platform::sealed::Kek::generate()?.0,
                None,
            ),
        },
        SessionSettings {
            idle_lifetime: Duration::from_secs(7200),
            absolute_lifetime: Duration::from_secs(43200),
        },
        // Nobody fails here; the limits only have to stay out of the way.
        ThrottleSettings::default(),
    )
    .await?
    // What is measured is the password sign-in: no second step for the bench's staff account.
    .with_second_factor(extranet_identity::factor::FactorSettings {
        required_roles: Vec::new(),
        ..Default::default()
    }))
}

async fn run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let auth = setup(dir.path()).await?;
    let budget = budget();
    let issued = auth
        .login(EMAIL, PASSWORD, None)
        .await
        .map_err(|e| anyhow::anyhow!("sign-in for the bench: {e:?}"))?;

    // First sight: distinct tokens signed beforehand, each verified once.
    let settings = &auth.tokens;
    let ring = auth.keys.load();
    let now = SystemClock.now();
    let n_fresh = 20_000;
    let fresh: Vec<String> = (0..n_fresh)
        .map(|_| {
            let c = tokens::access_claims(
                settings,
                now,
                issued.claims.sub,
                issued.claims.org,
                issued.claims.roles.clone(),
                issued.claims.sid,
            );
            ring.sign(&c)
        })
        .collect::<Result<_, _>>()?;
    // The Ed25519 signature check alone (aws-lc, the library jsonwebtoken uses), on a message of
    // a token's size: what this machine's CPU costs before any JWT work.
    let signature_only = {
        use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
        let pair = Ed25519KeyPair::generate().map_err(|_| anyhow::anyhow!("ed25519 key"))?;
        let message = vec![b'x'; issued.access_token.len()];
        let signature = pair.sign(&message);
        let public = UnparsedPublicKey::new(&ED25519, pair.public_key().as_ref().to_vec());
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed() < budget {
            for _ in 0..100 {
                public
                    .verify(std::hint::black_box(&message), signature.as_ref())
                    .map_err(|_| anyhow::anyhow!("ed25519 verify"))?;
            }
            n += 100;
        }
        started.elapsed().as_secs_f64() / n as f64
    };

    // The same tokens through the key ring alone (signature, claims; no cache, no bookkeeping),
    // to tell what the machine's EdDSA costs from what the extranet adds on first sight.
    let started = Instant::now();
    let mut raw = 0usize;
    for token in &fresh {
        std::hint::black_box(ring.verify(token, settings)).context("fresh token refused")?;
        raw += 1;
        if started.elapsed() > budget {
            break;
        }
    }
    let ring_only = started.elapsed().as_secs_f64() / raw as f64;

    let started = Instant::now();
    let mut verified = 0usize;
    for token in &fresh {
        auth.verify(token).await.context("fresh token refused")?;
        verified += 1;
        if started.elapsed() > budget {
            break;
        }
    }
    let first_sight = started.elapsed().as_secs_f64() / verified as f64;

    // Seen before: the same token again and again.
    let token = &issued.access_token;
    auth.verify(token).await.context("token refused")?;
    let started = Instant::now();
    let mut seen = 0u64;
    while started.elapsed() < budget {
        for _ in 0..1000 {
            std::hint::black_box(auth.verify(std::hint::black_box(token)).await)
                .context("token refused")?;
        }
        seen += 1000;
    }
    let seen_before = started.elapsed().as_secs_f64() / seen as f64;

    // Refresh: each rotates the token in a write transaction (SQLite, one writer).
    let mut refresh = issued.refresh_token.clone();
    let started = Instant::now();
    let mut refreshes = 0u64;
    while started.elapsed() < budget {
        let next = auth
            .refresh(&refresh, None)
            .await?
            .map_err(|e| anyhow::anyhow!("refresh refused: {e:?}"))?;
        refresh = next.refresh_token;
        refreshes += 1;
    }
    let refresh_rate = refreshes as f64 / started.elapsed().as_secs_f64();

    // Sign-in: argon2id (OWASP parameters) dominates.
    let started = Instant::now();
    let mut logins = 0u64;
    while started.elapsed() < budget {
        auth.login(EMAIL, PASSWORD, None)
            .await
            .map_err(|e| anyhow::anyhow!("sign-in refused: {e:?}"))?;
        logins += 1;
    }
    let login_rate = logins as f64 / started.elapsed().as_secs_f64();

    println!();
    println!(
        "access token verification, first sight: {:>8.1} µs  (target ≤ 40 µs; {verified} tokens)",
        first_sight * 1e6
    );
    println!(
        "  of which the key ring's own check:   {:>8.1} µs  (jsonwebtoken EdDSA verification and claim checks)",
        ring_only * 1e6
    );
    println!(
        "  of which the Ed25519 signature alone: {:>8.1} µs  (aws-lc on this machine)",
        signature_only * 1e6
    );
    println!(
        "access token verification, seen before: {:>8.2} µs  ({seen} verifications)",
        seen_before * 1e6
    );
    println!(
        "refresh (SQLite, one core):            {refresh_rate:>8.0} /s  (target ≥ 1,000/s; {refreshes} refreshes)"
    );
    println!("sign-in (argon2id, one core):          {login_rate:>8.1} /s  ({logins} sign-ins)");
    println!(
        "(the cost of a whole authenticated request over HTTPS is in `cargo bench -p extranet-tests --bench http`)"
    );
    Ok(())
}
