//! The `extranet` binary's library: configuration, TLS, the HTTPS server and router assembly.
//! Domain logic lives in the other crates; this one wires them together.

pub mod admin;
pub mod api;
pub mod app;
mod audit_cli;
pub mod backup;
mod backup_cli;
mod checkpoints;
pub mod cli;
pub mod config;
pub mod data_dir;
pub mod demo;
mod demo_rights;
pub mod erasure_cli;
pub mod health;
pub mod http;
pub mod register_cli;
pub mod retention_cli;
pub mod server;
pub mod startup;
pub mod subject_cli;
pub mod telemetry;
pub mod tls;
