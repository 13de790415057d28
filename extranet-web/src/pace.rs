//! The pace an upload's body must keep: a body that stalls for `idle`, or that brings less
//! than `min_rate` bytes a second over a `window`, is cut off (slow-drip clients would
//! otherwise hold a connection, an upload intent and a multipart upload for as long as they
//! like). It wraps the request body itself, so the multipart headers and the form's text fields
//! are paced too, not only the file.
//!
//! Only the time spent waiting for the client counts: while the server is busy (writing a part
//! to the object store) the client's bytes wait in the socket, and that time is not the
//! client's. The timer is re-armed only when it fires, not for every chunk.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use bytes::Bytes;
use futures::Stream;
use tokio::time::{Instant, Sleep};

/// How an upload's body must keep coming.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Longest wait for the next bytes.
    pub idle: Duration,
    /// Fewest bytes a second, averaged over `window` of waiting; 0: no minimum.
    pub min_rate: u64,
    pub window: Duration,
}

/// Why a body was cut off, for the handler to answer with (the multipart parser only sees an
/// error from the body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Nothing arrived for `idle`.
    Stalled,
    /// Less than `min_rate` bytes a second over the window.
    TooSlow,
}

/// Shared between the body and the handler that reads it.
#[derive(Debug, Default)]
pub struct CutOff(Mutex<Option<Cut>>);

impl CutOff {
    pub fn get(&self) -> Option<Cut> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set(&self, cut: Cut) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cut);
    }
}

/// `body`, cut off when it does not keep `pace`; the reason lands in the returned [`CutOff`].
pub fn paced(body: Body, pace: Pace) -> (Body, Arc<CutOff>) {
    let cut = Arc::new(CutOff::default());
    let stream = Paced {
        inner: body.into_data_stream(),
        pace,
        clock: Clock::default(),
        timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
        armed: false,
        cut: cut.clone(),
        done: false,
    };
    (Body::from_stream(stream), cut)
}

/// Waiting time and bytes, counted for the current window. Separate from the stream so the
/// rules can be tested with made-up instants.
#[derive(Debug, Default)]
struct Clock {
    /// Since when the body has been waited for (`None`: not waiting now).
    waiting_since: Option<Instant>,
    /// Waiting time in the current window, up to `waiting_since`.
    waited: Duration,
    /// Bytes in the current window.
    bytes: u64,
}

impl Clock {
    /// The body asked for more and there was none yet.
    fn wait(&mut self, now: Instant) {
        self.waiting_since.get_or_insert(now);
    }

    /// Bytes arrived.
    fn data(&mut self, now: Instant, len: usize, pace: &Pace) -> Option<Cut> {
        if let Some(since) = self.waiting_since.take() {
            self.waited += now.saturating_duration_since(since);
        }
        self.bytes = self.bytes.saturating_add(len as u64);
        self.end_window(pace)
    }

    /// The timer fired: judge the wait so far.
    fn check(&mut self, now: Instant, pace: &Pace) -> Option<Cut> {
        let since = self.waiting_since?;
        let waiting = now.saturating_duration_since(since);
        if waiting >= pace.idle {
            return Some(Cut::Stalled);
        }
        if self.waited + waiting >= pace.window {
            self.waited += waiting;
            self.waiting_since = Some(now);
            return self.end_window(pace);
        }
        None
    }

    /// At the end of a window: too few bytes cut the body off; enough start the next window.
    fn end_window(&mut self, pace: &Pace) -> Option<Cut> {
        if self.waited < pace.window {
            return None;
        }
        let wanted = u128::from(pace.min_rate) * pace.window.as_millis() / 1000;
        if u128::from(self.bytes) < wanted {
            return Some(Cut::TooSlow);
        }
        self.waited = Duration::ZERO;
        self.bytes = 0;
        None
    }

    /// When the current wait must be judged next.
    fn deadline(&self, pace: &Pace) -> Option<Instant> {
        let since = self.waiting_since?;
        let window_left = pace.window.saturating_sub(self.waited);
        Some(since + pace.idle.min(window_left))
    }
}

struct Paced {
    inner: BodyDataStream,
    pace: Pace,
    clock: Clock,
    timer: Pin<Box<Sleep>>,
    armed: bool,
    cut: Arc<CutOff>,
    done: bool,
}

impl Paced {
    fn cut_off(&mut self, cut: Cut) -> Poll<Option<Result<Bytes, axum::Error>>> {
        self.cut.set(cut);
        self.done = true;
        let what = match cut {
            Cut::Stalled => "no data arrived for too long",
            Cut::TooSlow => "the body arrived too slowly",
        };
        Poll::Ready(Some(Err(axum::Error::new(what))))
    }
}

impl Stream for Paced {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    let pace = this.pace;
                    if let Some(cut) = this.clock.data(Instant::now(), bytes.len(), &pace) {
                        return this.cut_off(cut);
                    }
                    return Poll::Ready(Some(Ok(bytes)));
                }
                Poll::Ready(other) => return Poll::Ready(other),
                Poll::Pending => {}
            }
            this.clock.wait(Instant::now());
            if !this.armed {
                let Some(deadline) = this.clock.deadline(&this.pace) else {
                    return Poll::Pending;
                };
                this.timer.as_mut().reset(deadline);
                this.armed = true;
            }
            match this.timer.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => {
                    this.armed = false;
                    let pace = this.pace;
                    if let Some(cut) = this.clock.check(Instant::now(), &pace) {
                        return this.cut_off(cut);
                    }
                    // Not due yet (data came meanwhile) or a new window began: look again.
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACE: Pace = Pace {
        idle: Duration::from_secs(5),
        min_rate: 1024,
        window: Duration::from_secs(30),
    };

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn a_drip_that_beats_the_idle_timeout_is_cut_at_the_end_of_the_window() {
        let t0 = Instant::now();
        let mut c = Clock::default();
        let mut t = 0;
        let mut cut = None;
        // One byte every 2.5 s: never idle for 5 s, far below 1 KiB/s.
        while cut.is_none() && t < 60_000 {
            c.wait(at(t0, t));
            assert_eq!(c.check(at(t0, t + 2_000), &PACE), None);
            t += 2_500;
            cut = c.data(at(t0, t), 1, &PACE);
        }
        assert_eq!(cut, Some(Cut::TooSlow));
        assert!((30_000..=32_500).contains(&t), "cut at {t} ms");
    }

    #[test]
    fn a_silent_body_is_stalled_and_a_steady_one_goes_on() {
        let t0 = Instant::now();
        let mut c = Clock::default();
        c.wait(t0);
        assert_eq!(c.deadline(&PACE), Some(at(t0, 5_000)));
        assert_eq!(c.check(at(t0, 4_999), &PACE), None);
        assert_eq!(c.check(at(t0, 5_000), &PACE), Some(Cut::Stalled));

        // 64 KiB every 100 ms for two minutes, waiting all along: never cut.
        let mut c = Clock::default();
        for i in 0..1_200 {
            c.wait(at(t0, i * 100));
            assert_eq!(c.data(at(t0, i * 100 + 100), 64 * 1024, &PACE), None);
        }
    }

    #[test]
    fn time_the_server_is_busy_is_not_the_clients() {
        let t0 = Instant::now();
        let mut c = Clock::default();
        // The server writes to the store for a minute between reads; the client's bytes were
        // waiting in the socket, so each read finds data at once.
        for i in 0..10 {
            let read = at(t0, i * 60_000);
            c.wait(read);
            assert_eq!(c.data(read, 16 * 1024, &PACE), None);
        }
        assert_eq!(c.waited, Duration::ZERO);
    }

    #[test]
    fn a_quiet_window_with_enough_bytes_starts_the_next() {
        let t0 = Instant::now();
        let mut c = Clock::default();
        c.wait(t0);
        assert_eq!(c.data(at(t0, 1_000), 40 * 1024, &PACE), None);
        // Waiting, in several short waits, until the window's 30 s are used up: 40 KiB is
        // more than 30 × 1 KiB, so a new window begins instead of a cut.
        let mut t = 1_000;
        while t < 31_000 {
            c.wait(at(t0, t));
            t += 4_000;
            assert_eq!(c.check(at(t0, t), &PACE), None, "at {t}");
            assert_eq!(c.data(at(t0, t), 1, &PACE), None, "at {t}");
        }
        assert!(c.bytes < 40 * 1024, "a new window began");
    }

    #[tokio::test]
    async fn the_stream_cuts_a_dripping_body_off_and_says_why() {
        use futures::StreamExt;
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if tx.send(Ok(Bytes::from_static(b"x"))).await.is_err() {
                    return;
                }
            }
        });
        let pace = Pace {
            idle: Duration::from_millis(400),
            min_rate: 1024,
            window: Duration::from_secs(1),
        };
        let (body, cut) = paced(Body::from_stream(tokio_stream_from(rx)), pace);
        let mut stream = body.into_data_stream();
        let mut got = 0;
        // Without the pace this drip would never end; the bound only keeps a failure short.
        let end = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                match stream.next().await {
                    Some(Ok(b)) => got += b.len(),
                    other => break other,
                }
            }
        })
        .await
        .expect("the dripping body was never cut off");
        assert!(matches!(end, Some(Err(_))), "{end:?}");
        assert_eq!(cut.get(), Some(Cut::TooSlow));
        assert!(got >= 1, "{got}");
        assert!(stream.next().await.is_none(), "nothing after the cut");
    }

    fn tokio_stream_from(
        mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }
}
