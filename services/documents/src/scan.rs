//! The optional malware-scanning hook. The bytes are fed to the scanner while they stream in,
//! and a version is published only if the scanner's verdict is "clean". Two kinds:
//! - a command that reads the file on standard input and exits 0 when it is clean, 1 when it is
//!   not (the convention of `clamdscan -`), anything else meaning "could not scan";
//! - a clamd socket, spoken to with its `INSTREAM` protocol.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::process::{Child, ChildStdin, Command};

use crate::error::{DocumentsError, Result};

/// How a deployment scans uploads.
#[derive(Debug, Clone)]
pub enum ScanHook {
    Command(Vec<String>),
    Clamd(PathBuf),
}

/// The scanner's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    Infected,
}

/// One file being scanned.
pub(crate) enum Scan {
    Command {
        child: Child,
        stdin: Option<ChildStdin>,
    },
    Clamd(Option<UnixStream>),
}

const VERDICT_TIMEOUT: Duration = Duration::from_secs(120);

impl ScanHook {
    pub(crate) async fn start(&self) -> Result<Scan> {
        match self {
            ScanHook::Command(argv) => {
                let (program, args) = argv.split_first().ok_or(DocumentsError::ScanUnavailable)?;
                let mut command = Command::new(program);
                // The scanner needs none of our configuration, and the environment may hold
                // secrets (the key-encryption key, database and storage credentials).
                for (name, _) in std::env::vars_os() {
                    if name.to_string_lossy().starts_with("EXTRANET_") {
                        command.env_remove(name);
                    }
                }
                let mut child = command
                    .args(args)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .kill_on_drop(true)
                    .spawn()
                    .map_err(|e| {
                        tracing::error!(error = %e, "the scan command cannot be started");
                        DocumentsError::ScanUnavailable
                    })?;
                let stdin = child.stdin.take();
                Ok(Scan::Command { child, stdin })
            }
            ScanHook::Clamd(socket) => {
                let mut stream = UnixStream::connect(socket).await.map_err(|e| {
                    tracing::error!(error = %e, "clamd cannot be reached");
                    DocumentsError::ScanUnavailable
                })?;
                stream
                    .write_all(b"zINSTREAM\0")
                    .await
                    .map_err(|_| DocumentsError::ScanUnavailable)?;
                Ok(Scan::Clamd(Some(stream)))
            }
        }
    }
}

impl Scan {
    /// Feeds bytes to the scanner. A scanner that stopped reading (it may have decided already)
    /// is not an error here: its verdict tells.
    pub(crate) async fn feed(&mut self, chunk: &Bytes) {
        match self {
            Scan::Command { stdin, .. } => {
                if let Some(pipe) = stdin
                    && pipe.write_all(chunk).await.is_err()
                {
                    *stdin = None;
                }
            }
            Scan::Clamd(stream) => {
                if let Some(s) = stream {
                    let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX).to_be_bytes();
                    if s.write_all(&len).await.is_err() || s.write_all(chunk).await.is_err() {
                        *stream = None;
                    }
                }
            }
        }
    }

    /// Ends the input and waits for the verdict.
    pub(crate) async fn verdict(self) -> Result<Verdict> {
        let fut = async move {
            match self {
                Scan::Command { mut child, stdin } => {
                    drop(stdin);
                    let status = child
                        .wait()
                        .await
                        .map_err(|_| DocumentsError::ScanUnavailable)?;
                    match status.code() {
                        Some(0) => Ok(Verdict::Clean),
                        Some(1) => Ok(Verdict::Infected),
                        _ => Err(DocumentsError::ScanUnavailable),
                    }
                }
                Scan::Clamd(stream) => {
                    let mut s = stream.ok_or(DocumentsError::ScanUnavailable)?;
                    s.write_all(&[0, 0, 0, 0])
                        .await
                        .map_err(|_| DocumentsError::ScanUnavailable)?;
                    let mut reply = Vec::new();
                    let mut buf = [0u8; 256];
                    loop {
                        let n = s
                            .read(&mut buf)
                            .await
                            .map_err(|_| DocumentsError::ScanUnavailable)?;
                        if n == 0 {
                            break;
                        }
                        reply.extend_from_slice(&buf[..n]);
                        if reply.contains(&0) || reply.len() > 4096 {
                            break;
                        }
                    }
                    clamd_verdict(&reply)
                }
            }
        };
        tokio::time::timeout(VERDICT_TIMEOUT, fut)
            .await
            .map_err(|_| DocumentsError::ScanUnavailable)?
    }
}

fn clamd_verdict(reply: &[u8]) -> Result<Verdict> {
    let text = String::from_utf8_lossy(reply);
    let text = text.trim_end_matches(['\0', '\n']);
    if text.ends_with(": OK") {
        Ok(Verdict::Clean)
    } else if text.ends_with(" FOUND") {
        Ok(Verdict::Infected)
    } else {
        tracing::error!(reply = %text, "clamd could not scan a file");
        Err(DocumentsError::ScanUnavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamd_replies() {
        assert_eq!(clamd_verdict(b"stream: OK\0").unwrap(), Verdict::Clean);
        assert_eq!(
            clamd_verdict(b"stream: Eicar-Test-Signature FOUND\0").unwrap(),
            Verdict::Infected
        );
        assert!(clamd_verdict(b"INSTREAM size limit exceeded. ERROR\0").is_err());
    }

    /// A clamd stand-in on a Unix socket: the protocol as clamd speaks it, end to end.
    #[tokio::test]
    async fn clamd_protocol() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clamd.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        tokio::spawn(async move {
            for _ in 0..2 {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut cmd = [0u8; 10];
                s.read_exact(&mut cmd).await.unwrap();
                assert_eq!(&cmd, b"zINSTREAM\0");
                let mut body = Vec::new();
                loop {
                    let mut len = [0u8; 4];
                    s.read_exact(&mut len).await.unwrap();
                    let n = u32::from_be_bytes(len) as usize;
                    if n == 0 {
                        break;
                    }
                    let mut chunk = vec![0u8; n];
                    s.read_exact(&mut chunk).await.unwrap();
                    body.extend(chunk);
                }
                let infected = body.windows(5).any(|w| w == b"EICAR");
                let reply: &[u8] = if infected {
                    b"stream: Eicar-Test-Signature FOUND\0"
                } else {
                    b"stream: OK\0"
                };
                s.write_all(reply).await.unwrap();
            }
        });
        let hook = ScanHook::Clamd(path);
        for (body, want) in [
            (&b"hello world"[..], Verdict::Clean),
            (&b"xxEICARxx"[..], Verdict::Infected),
        ] {
            let mut scan = hook.start().await.unwrap();
            scan.feed(&Bytes::from_static(body)).await;
            assert_eq!(scan.verdict().await.unwrap(), want);
        }
    }
}
