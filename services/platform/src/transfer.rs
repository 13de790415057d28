//! Streaming objects in and out: multipart writes that can be abandoned and collected later by
//! another process, ranged reads in large chunks, and removal of every trace of an object.
//!
//! An upload is written with the store's multipart API: nothing is visible under the key until
//! [`ObjectWriter::finish`]. What an interrupted upload leaves behind differs per store — on the
//! local filesystem a staging file `<key>#<n>` beside the key, on S3 an incomplete multipart
//! upload — and [`Objects::discard`] removes either, given the key and the multipart id recorded
//! when the upload began.

use std::ops::Range;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;
use object_store::{
    GetOptions, GetRange, GetResultPayload, MultipartUpload, ObjectStoreExt, PutPayload,
};
use time::OffsetDateTime;
use tokio::task::JoinHandle;

use crate::error::{PlatformError, Result};
use crate::objects::{Kind, Objects};

/// Bytes per part. S3 wants at least 5 MiB for every part but the last; the local store writes
/// each part as it comes, so smaller parts keep memory low without costing throughput.
pub(crate) const S3_PART: usize = 8 * 1024 * 1024;
const LOCAL_PART: usize = 1024 * 1024;

/// Chunk size of local reads: object_store's own local stream reads 8 KiB at a time, which
/// costs a blocking-pool round trip per 8 KiB and loses a quarter of the throughput.
const READ_CHUNK: usize = 256 * 1024;

enum Sink {
    Local(Box<dyn MultipartUpload>),
    S3 {
        store: Arc<object_store::aws::AmazonS3>,
        /// The full key (with the configured prefix).
        path: ObjectPath,
        id: String,
        parts: Vec<PartId>,
    },
}

/// An object being written. At most one part is in flight while the next one is buffered, so
/// memory stays at about two parts whatever the object's size.
pub struct ObjectWriter {
    sink: Sink,
    part_size: usize,
    buffer: BytesMut,
    in_flight: Option<JoinHandle<Result<Option<PartId>>>>,
    describe: String,
}

impl Objects {
    /// Starts writing `key`. Returns the writer and, for S3, the multipart upload id to record
    /// so that [`Objects::discard`] can abort it if this process dies.
    pub async fn begin_upload(&self, key: &str) -> Result<(ObjectWriter, Option<String>)> {
        let path = ObjectPath::from(key);
        let (sink, id, part_size) = match self.kind() {
            Kind::Local { .. } => {
                let upload = self
                    .store()
                    .put_multipart(&path)
                    .await
                    .map_err(|e| self.error(&e))?;
                (Sink::Local(upload), None, LOCAL_PART)
            }
            Kind::S3 { s3, prefix, .. } => {
                let path = Kind::s3_path(prefix, &path);
                let id = s3
                    .create_multipart(&path)
                    .await
                    .map_err(|e| self.error(&e))?;
                (
                    Sink::S3 {
                        store: s3.clone(),
                        path,
                        id: id.clone(),
                        parts: Vec::new(),
                    },
                    Some(id),
                    S3_PART,
                )
            }
        };
        Ok((
            ObjectWriter {
                sink,
                part_size,
                buffer: BytesMut::with_capacity(part_size),
                in_flight: None,
                describe: self.describe().to_owned(),
            },
            id,
        ))
    }

    /// Removes every trace of `key`: the object if it was completed, the local staging files or
    /// the S3 multipart upload if it was not. Removing what is not there is not an error, and a
    /// failed removal counts as done when the store's own listing shows nothing is left.
    pub async fn discard(&self, key: &str, multipart_id: Option<&str>) -> Result<()> {
        let path = ObjectPath::from(key);
        match self.kind() {
            Kind::Local { root } => {
                let target = root.join(key);
                let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
                    return Ok(());
                };
                let prefix = format!("{}#", name.to_string_lossy());
                let dir = dir.to_owned();
                // The staging files are the upload: once a listing of the directory shows none,
                // nothing of it is left, whatever the removal itself answered.
                tokio::task::spawn_blocking(move || {
                    remove_staged(&dir, &prefix).or_else(|e| match staged_left(&dir, &prefix) {
                        Ok(false) => Ok(()),
                        _ => Err(e),
                    })
                })
                .await
                .map_err(|e| PlatformError::Invalid(e.to_string()))?
                .map_err(|source| PlatformError::Io {
                    context: "cannot remove staged upload".into(),
                    source,
                })?;
            }
            Kind::S3 { s3, prefix, http } => {
                if let Some(id) = multipart_id {
                    let path = Kind::s3_path(prefix, &path);
                    match s3.abort_multipart(&path, &id.to_owned()).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => match crate::s3_uploads::upload_listed(s3, http, &path, id).await
                        {
                            Ok(false) => {
                                tracing::info!(
                                    error = %crate::error::concise(&e),
                                    "aborting a multipart upload failed, but the bucket lists no such upload: counted as done"
                                );
                            }
                            Ok(true) => return Err(self.error(&e)),
                            Err(why) => {
                                return Err(PlatformError::ObjectStore {
                                    target: self.describe().to_owned(),
                                    detail: format!(
                                        "{}; not confirmed gone: {why}",
                                        crate::error::concise(&e)
                                    ),
                                });
                            }
                        },
                    }
                }
            }
        }
        self.delete(key).await
    }

    /// Writes a small object whole, in one request (an existing one is replaced; under S3
    /// Object Lock with versioning, kept as an earlier version).
    pub async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        self.store()
            .put(&ObjectPath::from(key), data.into())
            .await
            .map(|_| ())
            .map_err(|e| self.error(&e))
    }

    /// Deletes an object; a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store().delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error(&e)),
        }
    }

    /// Deletes many objects, in as few requests as the store allows (S3 deletes up to 1000 per
    /// request); objects already gone are fine.
    pub async fn delete_many(&self, keys: Vec<String>) -> Result<()> {
        let paths =
            futures::stream::iter(keys.into_iter().map(|k| Ok(ObjectPath::from(k)))).boxed();
        let mut done = self.store().delete_stream(paths);
        while let Some(res) = done.next().await {
            match res {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.error(&e)),
            }
        }
        Ok(())
    }

    /// The keys under `prefix` last modified before `before`, a page of the store's listing at
    /// a time (for the collector's sweep of unreferenced objects).
    pub fn list_older(
        &self,
        prefix: &str,
        before: OffsetDateTime,
    ) -> BoxStream<'_, Result<String>> {
        let prefix = ObjectPath::from(prefix);
        self.store()
            .list(Some(&prefix))
            .map_err(|e| self.error(&e))
            .try_filter_map(move |meta| async move {
                let modified = meta.last_modified.timestamp();
                Ok((modified < before.unix_timestamp()).then(|| meta.location.to_string()))
            })
            .boxed()
    }

    /// Reads `key`, all of it or `range`, as a stream of chunks.
    pub async fn read(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes>>> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let got = self
            .store()
            .get_opts(&ObjectPath::from(key), options)
            .await
            .map_err(|e| self.error(&e))?;
        let span = got.range.clone();
        let describe = self.describe().to_owned();
        Ok(match got.payload {
            GetResultPayload::File(file, _) => local_stream(file, span, describe),
            GetResultPayload::Stream(stream) => stream
                .map_err(move |e| PlatformError::ObjectStore {
                    target: describe.clone(),
                    detail: crate::error::concise(&e),
                })
                .boxed(),
        })
    }
}

fn remove_staged(dir: &std::path::Path, prefix: &str) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Whether `dir` still holds an entry whose name starts with `prefix`.
fn staged_left(dir: &std::path::Path, prefix: &str) -> std::io::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                if entry?.file_name().to_string_lossy().starts_with(prefix) {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

fn local_stream(
    file: std::fs::File,
    range: Range<u64>,
    describe: String,
) -> BoxStream<'static, Result<Bytes>> {
    use std::io::{Read, Seek, SeekFrom};
    let state = (file, range.start, range.end, describe);
    futures::stream::try_unfold(state, |(mut file, pos, end, describe)| async move {
        if pos >= end {
            return Ok(None);
        }
        let want = usize::try_from((end - pos).min(READ_CHUNK as u64)).unwrap_or(READ_CHUNK);
        let (file, chunk) = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; want];
            let res = file
                .seek(SeekFrom::Start(pos))
                .and_then(|_| file.read_exact(&mut buf));
            (file, res.map(|()| Bytes::from(buf)))
        })
        .await
        .map_err(|e| PlatformError::Invalid(e.to_string()))?;
        let chunk = chunk.map_err(|source| PlatformError::Io {
            context: format!("{describe}: cannot read object"),
            source,
        })?;
        let next = pos + chunk.len() as u64;
        Ok(Some((chunk, (file, next, end, describe))))
    })
    .boxed()
}

impl ObjectWriter {
    /// Adds bytes; a part is sent once enough have gathered.
    pub async fn write(&mut self, mut data: Bytes) -> Result<()> {
        while !data.is_empty() {
            let room = self.part_size - self.buffer.len();
            let take = room.min(data.len());
            self.buffer.extend_from_slice(&data.split_to(take));
            if self.buffer.len() == self.part_size {
                self.send_part().await?;
            }
        }
        Ok(())
    }

    /// Waits for the part in flight (so at most one is), then starts the buffered one.
    async fn send_part(&mut self) -> Result<()> {
        self.settle().await?;
        let part = std::mem::replace(&mut self.buffer, BytesMut::with_capacity(self.part_size));
        let payload = PutPayload::from(part.freeze());
        let describe = self.describe.clone();
        let fail = move |e: object_store::Error| PlatformError::ObjectStore {
            target: describe.clone(),
            detail: crate::error::concise(&e),
        };
        self.in_flight = Some(match &mut self.sink {
            Sink::Local(upload) => {
                let fut = upload.put_part(payload);
                tokio::spawn(async move { fut.await.map(|()| None).map_err(fail) })
            }
            Sink::S3 {
                store,
                path,
                id,
                parts,
            } => {
                let (store, id, path, index) =
                    (store.clone(), id.clone(), path.clone(), parts.len());
                tokio::spawn(async move {
                    store
                        .put_part(&path, &id, index, payload)
                        .await
                        .map(Some)
                        .map_err(fail)
                })
            }
        });
        Ok(())
    }

    async fn settle(&mut self) -> Result<()> {
        if let Some(handle) = self.in_flight.take() {
            let part = handle
                .await
                .map_err(|e| PlatformError::Invalid(e.to_string()))??;
            if let (Some(part), Sink::S3 { parts, .. }) = (part, &mut self.sink) {
                parts.push(part);
            }
        }
        Ok(())
    }

    /// Sends what is left and makes the object visible under its key.
    pub async fn finish(mut self) -> Result<()> {
        if !self.buffer.is_empty() {
            self.send_part().await?;
        }
        self.settle().await?;
        let describe = self.describe.clone();
        let fail = |e: object_store::Error| PlatformError::ObjectStore {
            target: describe.clone(),
            detail: crate::error::concise(&e),
        };
        match &mut self.sink {
            Sink::Local(upload) => upload.complete().await.map(|_| ()).map_err(fail),
            Sink::S3 {
                store,
                path,
                id,
                parts,
            } => store
                .complete_multipart(path, id, std::mem::take(parts))
                .await
                .map(|_| ())
                .map_err(fail),
        }
    }

    /// Gives up: the part in flight is awaited, then the upload is aborted. Says whether the
    /// store confirmed it; what a failed abort leaves, the collector removes through the
    /// upload's intent record.
    pub async fn abort(mut self) -> bool {
        let _ = self.settle().await;
        let res = match &mut self.sink {
            Sink::Local(upload) => upload.abort().await,
            Sink::S3 {
                store, path, id, ..
            } => store.abort_multipart(path, id).await,
        };
        match res {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %crate::error::concise(&e), "aborting an upload failed; the collector will remove it");
                false
            }
        }
    }
}
