//! The records a caller may see: organisations, people, dossiers and assignments. Every query
//! takes the caller's [`Scope`] (from the policy) as parameters of its WHERE clause, so a list
//! never holds a row the caller may not see; every record leaves as an
//! [`extranet_access::Masked`] value; reads of other people's records, denials and every change
//! of roles, rights or assignments are written to the audit log. No HTTP here.

/// Runs the statements of `$body` (using `$tx`, a `&mut` connection) and appends `$entry` to the
/// audit log, in one write transaction: a change and its audit record commit together or not at
/// all. Evaluates to `Result<()>`.
macro_rules! with_audit {
    ($db:expr, $entry:expr, |$tx:ident| $body:block) => {{
        let res: $crate::error::Result<()> = extranet_platform::write_tx!($db, |$tx| async {
            $body
            extranet_audit::append_in(&mut *$tx, &$entry).await?;
            Ok::<(), $crate::error::DirectoryError>(())
        }
        .await)
        .await;
        res
    }};
}

pub mod assignments;
pub mod caller;
pub mod delegation;
pub mod dossiers;
pub mod error;
pub mod invitations;
pub mod organisations;
pub mod people;
pub mod restriction;
pub mod second_factor;
pub mod seed;
pub mod service;
pub mod status;

pub use caller::{Caller, Scope};
pub use error::{DirectoryError, Result};
pub use service::Directory;
