//! The directory as the HTTP layers use it: the database, the clock, the mail flows and the
//! policy in force (swapped whole on a reload, so a request sees one policy from start to end).

use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use extranet_access::{Policy, PolicySource};
use extranet_identity::recovery::Recovery;
use extranet_platform::{Clock, Db};
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::Result;

pub struct Directory {
    pub recovery: Arc<Recovery>,
    policy: ArcSwap<Policy>,
    /// Where the policy is read from on reload; `None`: the built-in policy.
    pub policy_dir: Option<std::path::PathBuf>,
}

impl Directory {
    pub fn new(
        recovery: Arc<Recovery>,
        policy: Policy,
        policy_dir: Option<std::path::PathBuf>,
    ) -> Directory {
        Directory {
            recovery,
            policy: ArcSwap::from_pointee(policy),
            policy_dir,
        }
    }

    pub fn db(&self) -> &Db {
        &self.recovery.auth.db
    }

    pub fn clock(&self) -> &dyn Clock {
        self.recovery.auth.clock.as_ref()
    }

    /// Where ended sessions are learnt at once (see `extranet_identity::revocation`).
    pub fn revocations(&self) -> &extranet_identity::revocation::Revocations {
        &self.recovery.auth.revocations
    }

    pub fn policy(&self) -> Arc<Policy> {
        self.policy.load_full()
    }

    /// Reads the policy again (SIGHUP). A policy that does not check out is refused and the one
    /// in force stays.
    pub async fn reload(&self) -> extranet_access::Result<()> {
        let src = match &self.policy_dir {
            Some(dir) => PolicySource::from_dir(dir)?,
            None => PolicySource::embedded(),
        };
        let policy = Policy::load(&src).await?;
        self.policy.store(Arc::new(policy));
        Ok(())
    }

    /// The caller as their access token says: for reads.
    pub fn caller(
        &self,
        person: Uuid,
        organisation: Uuid,
        roles: &[String],
        ip: Option<IpAddr>,
    ) -> Caller {
        Caller::from_token(&self.policy(), person, organisation, roles, ip)
    }

    /// The caller as the database says now: for changes.
    pub async fn current(&self, person: Uuid, ip: Option<IpAddr>) -> Result<Caller> {
        Caller::current(self.db(), &self.policy(), person, ip).await
    }
}
