//! End-to-end tests: the real `extranet` binary, over real HTTPS, on SQLite and PostgreSQL, with
//! local and S3-compatible object storage. One test binary, so that linking happens once.

mod access;
mod access_browser;
mod admins;
mod audit;
mod audit_search;
mod auth;
mod backoffice;
mod backoffice_browser;
mod backoffice_pages;
mod browser;
mod cli;
mod confirmation;
mod contract;
mod crawl;
mod documents;
mod documents_browser;
mod errors;
mod home;
mod hostile;
mod https;
mod keys;
mod policy;
mod recovery;
mod revocation;
mod second_factor;
mod second_factor_browser;
mod session;
mod staff;
mod storage;
mod subprocessors_browser;
mod subprocessors_pages;
mod tasks_browser;
mod throttling;
mod uploads;
mod web;
