//! Writing the archives: entries from memory, and documents streamed from the object store a
//! chunk at a time (memory per document stays at one chunk, whatever the file's size).

use std::io::{Seek, Write};

use futures::StreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use extranet_platform::Objects;

use crate::error::{PrivacyError, Result};

/// What an archive holds, for the caller and the audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveSummary {
    /// Every entry's name, in the order written.
    pub entries: Vec<String>,
    pub documents: usize,
    /// Bytes of documents copied in.
    pub document_bytes: u64,
}

fn zip_err(e: zip::result::ZipError) -> PrivacyError {
    PrivacyError::Internal(format!("archive: {e}"))
}

fn io_err(e: std::io::Error) -> PrivacyError {
    PrivacyError::Internal(format!("archive: {e}"))
}

pub(crate) struct Archive<W: Write + Seek> {
    zip: ZipWriter<W>,
    pub(crate) summary: ArchiveSummary,
}

impl<W: Write + Seek> Archive<W> {
    pub(crate) fn new(out: W) -> Archive<W> {
        Archive {
            zip: ZipWriter::new(out),
            summary: ArchiveSummary {
                entries: Vec::new(),
                documents: 0,
                document_bytes: 0,
            },
        }
    }

    fn options() -> SimpleFileOptions {
        SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o600)
    }

    pub(crate) fn bytes(&mut self, name: &str, body: &[u8]) -> Result<()> {
        self.zip
            .start_file(name, Self::options())
            .map_err(zip_err)?;
        self.zip.write_all(body).map_err(io_err)?;
        self.summary.entries.push(name.to_owned());
        Ok(())
    }

    /// Copies the object under `key` into `name`; its SHA-256 must be `sha256` (the stored
    /// version's), so a copy that differs from what was uploaded is an error, not an archive.
    pub(crate) async fn object(
        &mut self,
        objects: &Objects,
        key: &str,
        name: &str,
        sha256: &str,
    ) -> Result<()> {
        let got = objects.store().get(&ObjectPath::from(key)).await?;
        // Stored documents are compressed already (PDF, images): stored as they are.
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(got.meta.size > u64::from(u32::MAX))
            .unix_permissions(0o600);
        self.zip.start_file(name, opts).map_err(zip_err)?;
        let mut stream = got.into_stream();
        let mut hash = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            hash.update(&chunk);
            size += chunk.len() as u64;
            self.zip.write_all(&chunk).map_err(io_err)?;
        }
        if hex::encode(hash.finalize()) != sha256 {
            return Err(PrivacyError::Internal(format!(
                "archive: the stored object of {name} does not match its SHA-256"
            )));
        }
        self.summary.entries.push(name.to_owned());
        self.summary.documents += 1;
        self.summary.document_bytes += size;
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<(W, ArchiveSummary)> {
        let out = self.zip.finish().map_err(zip_err)?;
        Ok((out, self.summary))
    }
}

/// A file name safe as one archive path component: no separators, no `..`, no control
/// characters; never empty.
pub(crate) fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}
