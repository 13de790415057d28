//! Soft deletion and its undoing, and legal holds. A deleted document disappears for everyone
//! but those who may restore it (staff); its versions and objects stay until retention removes
//! them. A legal hold on a dossier blocks deletion of its documents.

use extranet_access::{Action, DocumentView, Masked, Resource};
use extranet_audit::Outcome;
use extranet_directory::Caller;
use extranet_platform::write_tx;
use uuid::Uuid;

use crate::error::{DocumentsError, Result};
use crate::service::Documents;

impl Documents {
    /// Soft-deletes a document, with its audit record, unless the dossier is held.
    pub async fn delete(&self, caller: &Caller, id: Uuid) -> Result<()> {
        let (row, dossier) = self.document_for(caller, id, Action::Delete).await?;
        if row.deleted {
            return Ok(());
        }
        if dossier.legal_hold {
            let _ = caller
                .deny(
                    self.db(),
                    self.clock(),
                    (Resource::Document, Action::Delete),
                    ("document", Some(id)),
                    extranet_directory::DirectoryError::Conflict("legal hold".into()),
                )
                .await;
            return Err(DocumentsError::LegalHold);
        }
        let now = self.clock().now();
        let entry = caller
            .entry(self.clock(), "document.delete", Outcome::Success)
            .subject("document", id)
            .organisation(dossier.organisation)
            .detail(serde_json::json!({ "dossier": dossier.id, "title": row.title }));
        crate::tx::<_>(
            write_tx!(self.db(), |tx| async {
                // The hold is checked again inside the transaction: a hold placed a moment ago wins.
                let done = sqlx::query(
                    "UPDATE document SET deleted_at = $1, deleted_by = $2 WHERE id = $3 \
                 AND deleted_at IS NULL AND NOT EXISTS \
                 (SELECT 1 FROM dossier d WHERE d.id = document.dossier_id AND d.legal_hold)",
                )
                .bind(now)
                .bind(caller.person)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(DocumentsError::LegalHold);
                }
                extranet_audit::append_in(&mut *tx, &entry).await?;
                Ok::<(), DocumentsError>(())
            }
            .await)
            .await,
        )
    }

    /// Undoes a soft delete (staff).
    pub async fn restore(&self, caller: &Caller, id: Uuid) -> Result<Masked<DocumentView>> {
        let (row, dossier) = self.document_for(caller, id, Action::Restore).await?;
        if row.deleted {
            let entry = caller
                .entry(self.clock(), "document.restore", Outcome::Success)
                .subject("document", id)
                .organisation(dossier.organisation);
            crate::tx::<_>(
                write_tx!(self.db(), |tx| async {
                    sqlx::query(
                        "UPDATE document SET deleted_at = NULL, deleted_by = NULL WHERE id = $1",
                    )
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    extranet_audit::append_in(&mut *tx, &entry).await?;
                    Ok::<(), DocumentsError>(())
                }
                .await)
                .await,
            )?;
        }
        self.document_view(caller, id, &dossier).await
    }

    /// Whether the caller may place or lift a legal hold on the dossier (404 when they do not
    /// see it, 403 when they may not; refusals recorded): the dossier's organisation.
    pub async fn dossier_for_hold(&self, caller: &Caller, dossier: Uuid) -> Result<Uuid> {
        let what = (Resource::Dossier, Action::Hold);
        let found = self.visible_dossier(caller, dossier).await?;
        let (organisation, _, relation) = caller
            .found(self.db(), self.clock(), what, ("dossier", dossier), found)
            .await?;
        caller
            .permit(
                self.db(),
                self.clock(),
                what,
                ("dossier", dossier),
                relation,
            )
            .await?;
        Ok(organisation)
    }

    /// Places or lifts a legal hold on a dossier (staff).
    pub async fn set_hold(&self, caller: &Caller, dossier: Uuid, hold: bool) -> Result<()> {
        let organisation = self.dossier_for_hold(caller, dossier).await?;
        let action = if hold {
            "dossier.hold.place"
        } else {
            "dossier.hold.lift"
        };
        let entry = caller
            .entry(self.clock(), action, Outcome::Success)
            .subject("dossier", dossier)
            .organisation(organisation);
        crate::tx::<_>(
            write_tx!(self.db(), |tx| async {
                sqlx::query("UPDATE dossier SET legal_hold = $1 WHERE id = $2")
                    .bind(hold)
                    .bind(dossier)
                    .execute(&mut *tx)
                    .await?;
                extranet_audit::append_in(&mut *tx, &entry).await?;
                Ok::<(), DocumentsError>(())
            }
            .await)
            .await,
        )
    }
}
