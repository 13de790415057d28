//! Whether a caller may act on a dossier's documents: the dossier must be visible to them (else
//! 404, like a dossier that does not exist) and the policy must allow the action in the
//! dossier's relation to them (else 403). Every refusal is recorded by `Caller`.

use extranet_access::{Action, DomainSet, Resource};
use extranet_directory::Caller;
use extranet_directory::caller::unix_now;
use extranet_platform::on_pool;
use uuid::Uuid;

use crate::error::Result;
use crate::service::Documents;

/// A dossier as far as document decisions need it.
#[derive(Debug, Clone, Copy)]
pub struct DossierAccess {
    pub id: Uuid,
    pub organisation: Uuid,
    pub legal_hold: bool,
    /// How the dossier relates to the caller (the policy domains that apply).
    pub relation: DomainSet,
}

/// $1 all, $2 own organisation, $3 inspector, $4 now (the caller's dossier scope), $5 the id.
const DOSSIER_SQL: &str = "SELECT d.organisation_id, d.legal_hold, \
     EXISTS (SELECT 1 FROM assignment a WHERE a.dossier_id = d.id AND a.inspector_id = $3 \
       AND a.starts_at <= $4 AND $4 < a.ends_at) AS via_assignment \
     FROM dossier d WHERE d.id = $5 AND ($1 OR d.organisation_id = $2 OR EXISTS (SELECT 1 \
       FROM assignment a WHERE a.dossier_id = d.id AND a.inspector_id = $3 \
       AND a.starts_at <= $4 AND $4 < a.ends_at))";

/// A document row as decisions need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentRow {
    pub id: Uuid,
    pub dossier_id: Uuid,
    pub title: String,
    pub doc_type: String,
    pub versions: i64,
    pub deleted: bool,
}

impl Documents {
    /// The dossier's organisation, legal hold and relation to the caller, if the caller sees it.
    pub(crate) async fn visible_dossier(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<Option<(Uuid, bool, DomainSet)>> {
        let scope = caller.scope(Resource::Dossier, Action::Read);
        if scope.is_empty() {
            return Ok(None);
        }
        let row: Option<(Uuid, bool, bool)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(DOSSIER_SQL)
                .bind(scope.all)
                .bind(scope.organisation)
                .bind(scope.inspector)
                .bind(unix_now(self.clock()))
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(|(organisation, hold, via_assignment)| {
            let relation = caller
                .relation()
                .of(Some(organisation), None, via_assignment);
            (organisation, hold, relation)
        }))
    }

    /// The dossier, if the caller sees it and may do `action` to its documents.
    pub async fn dossier_for(
        &self,
        caller: &Caller,
        id: Uuid,
        action: Action,
    ) -> Result<DossierAccess> {
        let what = (Resource::Document, action);
        let found = self.visible_dossier(caller, id).await?;
        let (organisation, legal_hold, relation) = caller
            .found(self.db(), self.clock(), what, ("dossier", id), found)
            .await?;
        caller
            .permit(self.db(), self.clock(), what, ("dossier", id), relation)
            .await?;
        Ok(DossierAccess {
            id,
            organisation,
            legal_hold,
            relation,
        })
    }

    /// A document and its dossier, if the caller may do `action` to it. A document is found
    /// (else 404) when its dossier is visible and the caller may read its documents — a deleted
    /// one only by those who may restore it; then the action must be allowed (else 403).
    pub async fn document_for(
        &self,
        caller: &Caller,
        id: Uuid,
        action: Action,
    ) -> Result<(DocumentRow, DossierAccess)> {
        let what = (Resource::Document, action);
        let row: Option<DocumentRow> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT id, dossier_id, title, doc_type, versions, \
                 deleted_at IS NOT NULL AS deleted FROM document WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
        })?;
        let mut found = None;
        if let Some(row) = row
            && let Some((organisation, legal_hold, relation)) =
                self.visible_dossier(caller, row.dossier_id).await?
            && caller
                .grants
                .allows(Resource::Document, Action::Read, relation)
            && (!row.deleted
                || caller
                    .grants
                    .allows(Resource::Document, Action::Restore, relation))
        {
            let dossier = DossierAccess {
                id: row.dossier_id,
                organisation,
                legal_hold,
                relation,
            };
            found = Some((row, dossier));
        }
        let (row, dossier) = caller
            .found(self.db(), self.clock(), what, ("document", id), found)
            .await?;
        caller
            .permit(
                self.db(),
                self.clock(),
                what,
                ("document", id),
                dossier.relation,
            )
            .await?;
        Ok((row, dossier))
    }

    /// Whether the caller sees the dossier and may do `action` to its documents, without
    /// recording anything (for deciding which forms a page offers).
    pub async fn dossier_for_quiet(&self, caller: &Caller, id: Uuid, action: Action) -> bool {
        matches!(
            self.visible_dossier(caller, id).await,
            Ok(Some((_, _, relation))) if caller.grants.allows(Resource::Document, action, relation)
        )
    }

    /// How the dossier relates to the caller, if they see it at all; nothing is recorded (for
    /// what a page says, not for access).
    pub async fn dossier_relation(&self, caller: &Caller, id: Uuid) -> Result<Option<DomainSet>> {
        Ok(self
            .visible_dossier(caller, id)
            .await?
            .map(|(_, _, relation)| relation))
    }

    /// The relation of a document's dossier to the caller and whether it is held, if the
    /// caller finds the document (see [`Documents::document_for`]); nothing is recorded. A
    /// failure to read is an error, not "not found".
    pub async fn document_relation(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<Option<(DomainSet, bool)>> {
        let row: Option<(Uuid, bool)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as("SELECT dossier_id, deleted_at IS NOT NULL FROM document WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        let Some((dossier, deleted)) = row else {
            return Ok(None);
        };
        let Some((_, hold, relation)) = self.visible_dossier(caller, dossier).await? else {
            return Ok(None);
        };
        let g = &caller.grants;
        Ok((g.allows(Resource::Document, Action::Read, relation)
            && (!deleted || g.allows(Resource::Document, Action::Restore, relation)))
        .then_some((relation, hold)))
    }
}
