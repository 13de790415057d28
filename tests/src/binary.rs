//! Finds the `extranet` binary of this build, building it first if needed, so that `cargo test`
//! alone always tests the current code.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};
use tokio::sync::OnceCell;

static BINARY: OnceCell<PathBuf> = OnceCell::const_new();

pub async fn extranet() -> anyhow::Result<PathBuf> {
    BINARY
        .get_or_try_init(|| async { tokio::task::spawn_blocking(build).await? })
        .await
        .cloned()
}

fn build() -> anyhow::Result<PathBuf> {
    // target/<profile>/deps/e2e-HASH → target/<profile>/extranet
    let exe = std::env::current_exe().context("locate the test executable")?;
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .context("test executable is not under target/<profile>/deps")?
        .to_path_buf();
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&workspace)
        .args(["build", "--quiet", "-p", "extranet", "--bin", "extranet"]);
    if release {
        cmd.arg("--release");
    }
    let status = cmd
        .status()
        .context("run cargo build for the extranet binary")?;
    if !status.success() {
        bail!("cargo build of the extranet binary failed");
    }
    let bin = profile_dir.join("extranet");
    if !bin.is_file() {
        bail!("{} was not built", bin.display());
    }
    Ok(bin)
}
