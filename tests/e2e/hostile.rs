//! Slow and hostile clients cannot starve others; malformed requests get small answers; secrets
//! never reach the logs; SIGTERM drains and exits cleanly.

use std::time::{Duration, Instant};

use extranet_tests::tls::handshake;
use extranet_tests::{ServerBuilder, matrix};
use rustls::version::TLS13;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the peer closes; returns how long that took (None if it stayed open).
async fn closed_within(
    stream: &mut (impl AsyncReadExt + Unpin),
    limit: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), stream.read(&mut buf))
            .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

matrix!(
    async fn slow_clients_are_cut_off_and_connections_are_bounded(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_SERVER__HANDSHAKE_TIMEOUT_SECS", "1")
            .env("EXTRANET_SERVER__HEADER_READ_TIMEOUT_SECS", "1")
            .env("EXTRANET_SERVER__IDLE_TIMEOUT_SECS", "4")
            .env("EXTRANET_SERVER__MAX_CONNECTIONS", "3")
            .start()
            .await?;
        let cert = server.dev_cert_pem()?;

        // A client that connects and never says hello is dropped after the handshake timeout.
        let mut silent = TcpStream::connect(server.https).await?;
        let took = closed_within(&mut silent, Duration::from_secs(5)).await;
        assert!(
            took.is_some_and(|t| t < Duration::from_secs(3)),
            "silent client kept: {took:?}"
        );

        // A client that completes TLS but trickles its headers is dropped after the header
        // timeout (1 s), well before the idle timeout (4 s) would drop it.
        let mut hs = handshake(server.https, &cert, &[&TLS13], &[b"http/1.1"]).await?;
        hs.stream
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
            .await?;
        let trickle = async {
            for _ in 0..6 {
                tokio::time::sleep(Duration::from_millis(400)).await;
                if hs.stream.write_all(b"X-Slow: 1\r\n").await.is_err() {
                    break;
                }
            }
        };
        let started = Instant::now();
        trickle.await;
        let took = closed_within(&mut hs.stream, Duration::from_secs(5)).await;
        let took = took.map(|_| started.elapsed());
        assert!(
            took.is_some_and(|t| t < Duration::from_millis(3500)),
            "slowloris connection kept past the header timeout: {took:?}"
        );

        // An idle keep-alive connection stays open within the idle timeout, then is closed.
        let mut idle = handshake(server.https, &cert, &[&TLS13], &[b"http/1.1"]).await?;
        idle.stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut buf = vec![0u8; 4096];
        let n = idle.stream.read(&mut buf).await?;
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        let answered = Instant::now();
        let took = closed_within(&mut idle.stream, Duration::from_secs(10)).await;
        assert!(took.is_some(), "idle keep-alive connection never closed");
        let open_for = answered.elapsed();
        assert!(
            open_for >= Duration::from_millis(2500),
            "idle connection closed after {open_for:?}, before the idle timeout"
        );

        // At the connection limit, a further client waits; it is served once a slot frees up.
        let mut stalled = Vec::new();
        for _ in 0..3 {
            stalled.push(TcpStream::connect(server.https).await?);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let client = server.client()?;
        let start = Instant::now();
        let res = client.get(server.url("/healthz")).send().await?;
        assert_eq!(res.status(), 200);
        assert!(
            start.elapsed() >= Duration::from_millis(500),
            "served while all slots were taken ({:?})",
            start.elapsed()
        );
        drop(stalled);
        server.stop().await
    }
);

matrix!(
    async fn malformed_requests_get_small_answers(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let cert = server.dev_cert_pem()?;
        for raw in [
            &b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n"[..],
            &b"GET / HTTP/1.1\r\nHost: localhost\r\nX: \x01\x02\r\n\r\n"[..],
            &b"NOT-HTTP\r\n\r\n"[..],
        ] {
            let mut hs = handshake(server.https, &cert, &[&TLS13], &[b"http/1.1"]).await?;
            hs.stream.write_all(raw).await?;
            let mut buf = Vec::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(5), hs.stream.read_to_end(&mut buf)).await;
            let text = String::from_utf8_lossy(&buf);
            assert!(text.starts_with("HTTP/1.1 400"), "{raw:?} → {text}");
            assert!(buf.len() < 2048, "large answer to a malformed request");
        }
        // The server is still fine.
        let res = server.client()?.get(server.url("/healthz")).send().await?;
        assert_eq!(res.status(), 200);
        server.stop().await
    }
);

matrix!(
    async fn tokens_and_cookies_never_reach_the_logs(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_LOG__FILTER", "trace,hyper=info,h2=info,rustls=info,sqlx=info,aws_config=info,reqwest=info,object_store=info")
            .env("EXTRANET_LOG__FORMAT", "json")
            .start()
            .await?;
        let client = server.client()?;
        for path in [
            "/",
            "/missing",
            "/api/v1/x",
            "/password/reset?token=link-SECRET-789",
        ] {
            client
                .get(server.url(path))
                .header("authorization", "Bearer tok-SECRET-123")
                .header("cookie", "session=cookie-SECRET-456; lang=nl")
                .send()
                .await?;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let logs = server.stderr();
        assert!(logs.contains("/missing"), "requests are traced: {logs}");
        assert!(
            logs.lines()
                .any(|l| l.contains("finished processing request") && l.contains("request_id")),
            "a request's log lines carry its id: {logs}"
        );
        assert!(
            logs.lines().any(|l| l.starts_with('{')),
            "JSON log lines expected"
        );
        assert!(!logs.contains("SECRET"), "secret in logs:\n{logs}");
        server.stop().await
    }
);

matrix!(
    async fn sigterm_stops_accepting_and_exits_cleanly(b: Backends) {
        let mut server = ServerBuilder::new(b).start().await?;
        let cert = server.dev_cert_pem()?;
        // A keep-alive connection that is open when the signal arrives.
        let mut open = handshake(server.https, &cert, &[&TLS13], &[b"http/1.1"]).await?;
        open.stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut buf = vec![0u8; 4096];
        let n = open.stream.read(&mut buf).await?;
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

        server.signal("TERM")?;
        let status = server.wait_exit(Duration::from_secs(15)).await?;
        assert!(status.success(), "exit status {status}");
        assert!(
            server
                .stderr_contains("stopped", Duration::from_secs(2))
                .await
        );
        assert!(
            TcpStream::connect(server.https).await.is_err(),
            "still accepting"
        );
        let took = closed_within(&mut open.stream, Duration::from_secs(1)).await;
        assert!(took.is_some(), "open connection not closed at shutdown");
        server.stop().await
    }
);
