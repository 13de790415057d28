//! TLS probes: a real rustls client for versions, ALPN and certificates, and a hand-built
//! ClientHello for the protocol versions rustls itself refuses to speak (TLS 1.0 and 1.1).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use rustls_pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// What a completed handshake agreed on.
#[derive(Debug)]
pub struct Handshake {
    pub alpn: Option<Vec<u8>>,
    pub version: Option<rustls::ProtocolVersion>,
    pub peer_cert: Vec<u8>,
    pub stream: TlsStream<TcpStream>,
}

pub fn roots(cert_pem: &[u8]) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cert_pem) {
        roots.add(cert?)?;
    }
    Ok(roots)
}

/// Connects with exactly these protocol versions and ALPN offers, trusting `trust` only.
pub async fn handshake(
    addr: SocketAddr,
    trust: &[u8],
    versions: &[&'static SupportedProtocolVersion],
    alpn: &[&[u8]],
) -> anyhow::Result<Handshake> {
    crate::init_crypto();
    let mut cfg = ClientConfig::builder_with_protocol_versions(versions)
        .with_root_certificates(roots(trust)?)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(addr).await?;
    let stream = tokio::time::timeout(
        Duration::from_secs(10),
        TlsConnector::from(Arc::new(cfg)).connect(ServerName::try_from("localhost")?, tcp),
    )
    .await
    .context("handshake timed out")??;
    let (_, conn) = stream.get_ref();
    let peer_cert = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec())
        .context("no peer certificate")?;
    Ok(Handshake {
        alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
        version: conn.protocol_version(),
        peer_cert,
        stream,
    })
}

/// The first certificate of a PEM file, DER-encoded (to compare with `Handshake::peer_cert`).
pub fn first_cert_der(pem: &[u8]) -> anyhow::Result<Vec<u8>> {
    let cert = CertificateDer::pem_slice_iter(pem)
        .next()
        .context("no certificate in PEM")??;
    Ok(cert.as_ref().to_vec())
}

/// What the server answered to a hand-built ClientHello.
#[derive(Debug, PartialEq, Eq)]
pub enum HelloReply {
    /// A handshake record whose first message is a ServerHello with this version.
    ServerHello {
        version: u16,
    },
    /// A TLS alert with this description code (70 = protocol_version).
    Alert {
        description: u8,
    },
    /// The server closed the connection without a record.
    Closed,
    Other(Vec<u8>),
}

/// Sends a ClientHello whose highest version is `version` (0x0301 TLS 1.0, 0x0302 TLS 1.1,
/// 0x0303 TLS 1.2) and no `supported_versions` extension, the way an old client does.
pub async fn legacy_hello(addr: SocketAddr, version: u16) -> anyhow::Result<HelloReply> {
    let mut tcp = TcpStream::connect(addr).await?;
    tcp.write_all(&client_hello(version)).await?;
    let mut head = [0u8; 5];
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_exact(&mut head)).await;
    let Ok(Ok(_)) = read else {
        return Ok(HelloReply::Closed);
    };
    let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
    let mut body = vec![0u8; len.min(16 * 1024)];
    tokio::time::timeout(Duration::from_secs(10), tcp.read_exact(&mut body)).await??;
    Ok(match head[0] {
        0x15 if body.len() >= 2 => HelloReply::Alert {
            description: body[1],
        },
        0x16 if body.len() >= 6 && body[0] == 0x02 => HelloReply::ServerHello {
            version: u16::from_be_bytes([body[4], body[5]]),
        },
        _ => HelloReply::Other(head.iter().chain(&body).copied().collect()),
    })
}

fn with_len16(body: &[u8]) -> Vec<u8> {
    let mut v = u16::try_from(body.len())
        .unwrap_or(0)
        .to_be_bytes()
        .to_vec();
    v.extend_from_slice(body);
    v
}

fn extension(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut v = kind.to_be_bytes().to_vec();
    v.extend(with_len16(data));
    v
}

fn client_hello(version: u16) -> Vec<u8> {
    let host = b"localhost";
    let mut sni = vec![0u8];
    sni.extend(with_len16(host));
    let mut exts = Vec::new();
    exts.extend(extension(0x0000, &with_len16(&sni)));
    // supported groups: x25519, secp256r1, secp384r1
    exts.extend(extension(
        0x000a,
        &with_len16(&[0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]),
    ));
    // EC point formats: uncompressed
    exts.extend(extension(0x000b, &[0x01, 0x00]));
    // signature algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256, ed25519
    exts.extend(extension(
        0x000d,
        &with_len16(&[0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x08, 0x07]),
    ));
    exts.extend(extension(0x0017, &[])); // extended master secret
    exts.extend(extension(0xff01, &[0x00])); // renegotiation info
    // Modern AEAD suites first, then the CBC suites TLS 1.0/1.1 clients offered.
    let suites: [u16; 10] = [
        0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc009, 0xc013, 0x002f, 0x0035,
    ];
    let suite_bytes: Vec<u8> = suites.iter().flat_map(|s| s.to_be_bytes()).collect();

    let mut hello = version.to_be_bytes().to_vec();
    hello.extend((0u8..32).map(|i| i.wrapping_mul(37))); // client random
    hello.push(0); // no session id
    hello.extend(with_len16(&suite_bytes));
    hello.extend([0x01, 0x00]); // null compression only
    hello.extend(with_len16(&exts));

    let len = u32::try_from(hello.len()).unwrap_or(0).to_be_bytes();
    let mut handshake = vec![0x01, len[1], len[2], len[3]];
    handshake.extend(hello);

    let mut record = vec![0x16];
    record.extend(0x0301u16.to_be_bytes()); // record layer version, as clients send it
    record.extend(with_len16(&handshake));
    record
}

/// A self-signed certificate and key for `localhost` (PEM), for reload tests.
pub fn generate_cert() -> anyhow::Result<(String, String)> {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    Ok((c.cert.pem(), c.signing_key.serialize_pem()))
}
