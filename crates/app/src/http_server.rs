//! The HTTP/1 server every surface is served from. It is axum's router on hyper, with what
//! `axum::serve` leaves out and a server on an open network needs: a client that stops
//! sending its headers, stops in the middle of a body or keeps an idle connection open is
//! disconnected after a configurable time, and one client address may hold only so many
//! connections at once. Without these a single client could hold connections up to the
//! process's file-descriptor limit (found by outside testing: stalled requests were still
//! open after ten minutes).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

/// How long a connection may stall, and how many one client may hold.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// From a request's first byte to the end of its headers.
    pub header_read: Duration,
    /// Between two pieces of a request's body.
    pub body_read: Duration,
    /// A kept-alive connection waiting for its next request (or a new one for its first).
    pub idle: Duration,
    /// Connections open at once from one client address.
    pub per_client: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(30),
            body_read: Duration::from_secs(30),
            idle: Duration::from_secs(60),
            per_client: 512,
        }
    }
}

/// How often each connection checks its deadlines; a stalled connection is closed at most
/// this much later than its limit.
fn tick(limits: &ConnectionLimits) -> Duration {
    (limits.header_read.min(limits.idle) / 4)
        .clamp(Duration::from_millis(50), Duration::from_secs(1))
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets
/// every request in flight finish and returns once all connections have closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let clients = Clients::default();
    let (closing, closing_rx) = watch::channel(false);
    let open = Arc::new(AtomicUsize::new(0));
    let (all_closed, mut all_closed_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            },
        };
        let Some(slot) = clients.admit(peer.ip(), limits.per_client) else {
            metrics::counter!("parley_http_connections_refused_total").increment(1);
            tracing::debug!(client = %peer.ip(), "connection refused: too many from this client");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let closing = closing_rx.clone();
        let open = open.clone();
        let all_closed = all_closed.clone();
        open.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            serve_connection(stream, peer, router, limits, closing).await;
            drop(slot);
            if open.fetch_sub(1, Ordering::SeqCst) == 1 {
                all_closed.send_replace(());
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    while open.load(Ordering::SeqCst) > 0 {
        if all_closed_rx.changed().await.is_err() {
            break;
        }
    }
    Ok(())
}

/// One connection: requests answered by the router, closed when a deadline passes with
/// no request in flight, or gracefully (after the current request) when `closing` turns.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    mut closing: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = activity.request_started();
            let mut request =
                request.map(|body| Body::new(TimeoutBody::new(limits.body_read, body)));
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move {
                let response = router
                    .oneshot(request)
                    .await
                    .unwrap_or_else(|e: Infallible| match e {});
                // The request counts as in flight until its response body is done, so a
                // long event stream is never taken for an idle connection.
                Ok::<_, Infallible>(response.map(|body| {
                    Body::new(Finishing {
                        body,
                        _in_flight: in_flight,
                    })
                }))
            }
        })
    };
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        // The deadlines are this module's own (see `Activity`): hyper's header timer
        // would also run while a kept-alive connection waits, which is the idle limit.
        .header_read_timeout(None)
        .serve_connection(io, service);
    let mut connection = pin!(connection);
    let mut ticker = tokio::time::interval(tick(&limits));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut graceful = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!(client = %peer, error = %e, "connection ended with an error");
                }
                return;
            }
            changed = closing.changed(), if !graceful => {
                if changed.is_err() || *closing.borrow() {
                    graceful = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
            _ = ticker.tick() => {
                if let Some(reason) = activity.overdue(&limits, Instant::now()) {
                    metrics::counter!("parley_http_connections_timed_out_total", "reason" => reason).increment(1);
                    tracing::debug!(client = %peer, reason, "closing a stalled connection");
                    // Nothing is in flight: dropping the connection loses no answer.
                    return;
                }
            }
        }
    }
}

/// What a connection is doing, for its deadlines.
struct Activity {
    in_flight: AtomicUsize,
    /// Since when the connection has had no request in flight, and when the first byte of
    /// the next request's head arrived (if it has).
    between: Mutex<Between>,
}

#[derive(Clone, Copy)]
struct Between {
    idle_since: Instant,
    head_started: Option<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            between: Mutex::new(Between {
                idle_since: Instant::now(),
                head_started: None,
            }),
        }
    }

    fn between(&self) -> std::sync::MutexGuard<'_, Between> {
        self.between.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.between().head_started = None;
        InFlight(self.clone())
    }

    fn bytes_read(&self) {
        if self.in_flight.load(Ordering::SeqCst) == 0 {
            let mut between = self.between();
            if between.head_started.is_none() {
                between.head_started = Some(Instant::now());
            }
        }
    }

    /// Why the connection should be closed now, if it should.
    fn overdue(&self, limits: &ConnectionLimits, now: Instant) -> Option<&'static str> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let between = *self.between();
        match between.head_started {
            Some(started) if now.duration_since(started) > limits.header_read => Some("header"),
            Some(_) => None,
            None if now.duration_since(between.idle_since) > limits.idle => Some("idle"),
            None => None,
        }
    }
}

/// A request in flight, until its response body is finished or dropped.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut between = self.0.between();
        between.idle_since = Instant::now();
        between.head_started = None;
        drop(between);
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its request in flight while it is sent.
struct Finishing {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Finishing {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The TCP stream, noting when bytes of a new request arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Open connections per client address.
#[derive(Clone, Default)]
struct Clients(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One admitted connection; gives its place back when dropped.
struct Slot {
    clients: Clients,
    ip: IpAddr,
}

impl Clients {
    fn admit(&self, ip: IpAddr, limit: usize) -> Option<Slot> {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(ip).or_default();
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(Slot {
            clients: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.clients.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_holds_at_most_its_share_of_connections() {
        let clients = Clients::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let first = clients.admit(ip, 2).expect("first");
        let _second = clients.admit(ip, 2).expect("second");
        assert!(clients.admit(ip, 2).is_none(), "a third is refused");
        assert!(
            clients.admit("192.0.2.8".parse().unwrap(), 2).is_some(),
            "another client is not affected"
        );
        drop(first);
        assert!(
            clients.admit(ip, 2).is_some(),
            "a closed connection frees its place"
        );
    }

    #[test]
    fn deadlines_apply_only_with_nothing_in_flight() {
        let limits = ConnectionLimits {
            header_read: Duration::from_secs(5),
            body_read: Duration::from_secs(5),
            idle: Duration::from_secs(10),
            per_client: 1,
        };
        let activity = Arc::new(Activity::new());
        let start = activity.between().idle_since;
        assert_eq!(
            activity.overdue(&limits, start + Duration::from_secs(9)),
            None
        );
        assert_eq!(
            activity.overdue(&limits, start + Duration::from_secs(11)),
            Some("idle")
        );
        activity.bytes_read();
        let head = activity.between().head_started.expect("a head began");
        assert_eq!(
            activity.overdue(&limits, head + Duration::from_secs(4)),
            None
        );
        assert_eq!(
            activity.overdue(&limits, head + Duration::from_secs(6)),
            Some("header")
        );
        let request = activity.request_started();
        assert_eq!(
            activity.overdue(&limits, head + Duration::from_secs(600)),
            None,
            "a long request is not stalled"
        );
        drop(request);
        assert_eq!(activity.between().head_started, None);
    }
}
