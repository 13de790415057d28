use std::process::ExitCode;

use clap::Parser;

// The system allocator, deliberately. mimalloc made small requests about a tenth cheaper, but
// kept some 30 MiB more resident (freed pages it holds on to): a document upload's peak RSS was
// 64 MiB with it and 33 MiB without (`cargo bench -p extranet-tests --bench documents`).
fn main() -> ExitCode {
    // Before any file or thread exists: whatever the server writes is its own (0600/0700).
    extranet::data_dir::restrict_umask();
    // One crypto provider for rustls, object_store, sqlx and reqwest alike.
    if rustls::crypto::aws_lc_rs::default_provider()
        .install_default()
        .is_err()
    {
        eprintln!("error: a TLS crypto provider was already installed");
        return ExitCode::FAILURE;
    }
    let cli = extranet::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(extranet::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, naming what and where; details are in the chain, never a backtrace.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
