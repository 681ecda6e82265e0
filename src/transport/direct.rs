//! The direct transport: requests over hyper's own HTTP/1 connection
//! (`hyper::client::conn::http1`), driven by the task that reads the response, and kept in the
//! client's [`Pool`] between requests.
//!
//! Why it exists: hyper's pooled client (inside reqwest) runs each connection as a task of its
//! own and hands the body over one chunk at a time. A server sends one chunk per event, so when
//! the stream is polled from another thread than the connection task (the body of every
//! `#[tokio::main]`: `block_on` of a multi-thread runtime), every event costs cross-thread
//! wake-ups. hyper's lower-level connection spawns nothing: whoever polls its `Connection`
//! future drives it. Here that is the response body's own poll, so reading a stream costs no
//! hand-off at all; the protocol (heads, chunked and length framing, trailers, 1xx answers) is
//! hyper's.
//!
//! The generated operation still builds the request and the hooks still set its headers; only
//! its execution is taken over ([`crate::transport::CallContext::send`]), for requests whose
//! body is in memory, on a client whose `reqwest::Client` the SDK built itself and with no proxy
//! configured in the environment. Everything else (multipart uploads, proxies, a caller's own
//! `reqwest::Client`) goes through reqwest.
//!
//! Reuse: a response read to its end gives its connection back to the pool; the next request to
//! the same scheme, host and port takes it. A pooled connection found closed is dropped, and a
//! request that hyper hands back unwritten (the connection closed as it was taken) is sent again
//! on a fresh connection: the server never sees it twice. A response dropped before its end
//! closes its connection.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use http_body_util::Full;
use hyper::body::Body as _;
use hyper::body::Incoming;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::conn::{Conn, Socket};
use super::pool::{Http1, Key, Pool};
#[cfg(unix)]
use super::stats::Counters;
use super::tls::LazyVerifier;

/// Largest response head hyper may buffer (status line and headers).
const MAX_HEAD: usize = 64 * 1024;

/// How a failed exchange failed, for the caller to turn into its error type.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The TCP connection (or TLS session) could not be set up.
    Connect(io::Error),
    /// Connecting took longer than the connect timeout.
    ConnectTimeout,
    /// The request could not be written or the response head not read.
    Exchange(io::Error),
    /// The call's deadline passed before the response head arrived.
    Timeout,
    /// A successful answer's `Content-Length` announces more than the body cap.
    TooLarge { cap: usize, announced: u64 },
}

/// What bounds one exchange.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Longest wait for a new connection.
    pub(crate) connect_timeout: Option<Duration>,
    /// The end of the whole exchange, body included (JSON calls; streams have none).
    pub(crate) deadline: Option<tokio::time::Instant>,
    /// The largest body a successful answer may have (JSON calls; streams have none).
    pub(crate) max_body: Option<usize>,
}

/// The direct transport of one client (shared by its handles), with its idle connections.
pub(crate) struct Direct {
    /// The client's certificate verifier (shared with its reqwest client).
    verifier: Arc<LazyVerifier>,
    tls: OnceLock<Result<tokio_rustls::TlsConnector, String>>,
    pool: Arc<Pool>,
    /// Which destinations a proxy intercepts.
    proxies: Matcher,
}

impl fmt::Debug for Direct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Direct")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl Direct {
    /// The direct transport. Requests that a proxy configured for this process intercepts
    /// (the environment's `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`, else the
    /// system's settings: hyper-util's matcher, the one reqwest uses) go through reqwest,
    /// which speaks to proxies; this transport does not.
    pub(crate) fn new(verifier: Arc<LazyVerifier>) -> Self {
        Self {
            verifier,
            tls: OnceLock::new(),
            pool: Arc::default(),
            proxies: Matcher::from_system(),
        }
    }

    /// Whether this transport can execute `request`: http(s), body in memory (or none), and no
    /// proxy for its destination.
    pub(crate) fn handles(&self, request: &reqwest::Request) -> bool {
        let url = request.url();
        let direct = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && request.body().is_none_or(|b| b.as_bytes().is_some());
        direct && !self.proxied(url.as_str())
    }

    /// Whether a proxy intercepts requests to `url`.
    fn proxied(&self, url: &str) -> bool {
        let intercepted = url
            .parse::<http::Uri>()
            .map_or(true, |uri| self.proxies.intercept(&uri).is_some());
        if intercepted {
            tracing::debug!(
                "a proxy is configured for this destination: the request goes through reqwest"
            );
        }
        intercepted
    }

    /// Closes the idle connections; connections of responses still being read close when
    /// those end.
    pub(crate) fn close(&self) {
        self.pool.close();
    }

    /// How many connections wait in the pool now.
    pub(crate) fn idle_connections(&self) -> usize {
        self.pool.idle_count()
    }

    fn tls(&self) -> Result<tokio_rustls::TlsConnector, Failure> {
        self.tls
            .get_or_init(|| {
                let config = self
                    .verifier
                    .config(&[b"http/1.1"])
                    .map_err(|e| e.to_string())?;
                Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
            })
            .clone()
            .map_err(|e| Failure::Connect(io::Error::other(e)))
    }

    /// A new connection to `key`: TCP, TLS for https, then hyper's HTTP/1 handshake (which
    /// only sets up state; it sends nothing).
    async fn connect(&self, key: &Key, counters: &Counters) -> Result<Http1, Failure> {
        let host = key.host.trim_matches(['[', ']']);
        let tcp = TcpStream::connect((host, key.port))
            .await
            .map_err(Failure::Connect)?;
        counters.connected();
        tcp.set_nodelay(true).map_err(Failure::Connect)?;
        #[cfg(unix)]
        let tcp = Socket::new(tcp).map_err(Failure::Connect)?;
        let conn = if key.https {
            let name = rustls::pki_types::ServerName::try_from(host)
                .map_err(|e| Failure::Connect(io::Error::new(io::ErrorKind::InvalidInput, e)))?
                .to_owned();
            let tls = self
                .tls()?
                .connect(name, tcp)
                .await
                .map_err(Failure::Connect)?;
            counters.tls_handshake();
            Conn::Tls(Box::new(tls))
        } else {
            Conn::Plain(tcp)
        };
        let (send, driver) = hyper::client::conn::http1::Builder::new()
            .max_header_size(MAX_HEAD)
            .handshake(TokioIo::new(conn))
            .await
            .map_err(|e| Failure::Connect(io::Error::other(e)))?;
        Ok(Http1 {
            send,
            driver: Box::pin(driver),
        })
    }

    /// Sends `request` on a pooled connection to its host, or a new one, and reads the
    /// response head; the body is read as the returned [`DrivenBody`] is polled (which drives
    /// the connection). A body read to its end gives the connection back to the pool.
    ///
    /// `body` is the request's body when the caller holds it as [`Bytes`] already (it is then
    /// not copied).
    pub(crate) async fn execute(
        &self,
        request: reqwest::Request,
        body: Option<Bytes>,
        limits: Limits,
        counters: &Counters,
    ) -> Result<(http::response::Parts, DrivenBody), Failure> {
        match limits.deadline {
            Some(at) => {
                tokio::time::timeout_at(at, self.execute_within(request, body, limits, counters))
                    .await
                    .map_err(|_| Failure::Timeout)?
            }
            None => self.execute_within(request, body, limits, counters).await,
        }
    }

    async fn execute_within(
        &self,
        request: reqwest::Request,
        body: Option<Bytes>,
        limits: Limits,
        counters: &Counters,
    ) -> Result<(http::response::Parts, DrivenBody), Failure> {
        let url = request.url();
        let key = Key {
            https: url.scheme() == "https",
            host: url.host_str().unwrap_or_default().to_string(),
            port: url.port_or_known_default().unwrap_or(80),
        };
        let mut request = Some(to_hyper(request, body));
        loop {
            let (mut conn, pooled) = match self.pool.take(&key) {
                Some(conn) => {
                    counters.reused();
                    (conn, true)
                }
                None => {
                    let connect = self.connect(&key, counters);
                    let conn = match limits.connect_timeout {
                        Some(limit) => tokio::time::timeout(limit, connect)
                            .await
                            .map_err(|_| Failure::ConnectTimeout)??,
                        None => connect.await?,
                    };
                    (conn, false)
                }
            };
            let req = request.take().expect("a request to send");
            match exchange(&mut conn, req).await {
                Ok((response, driver_done)) => {
                    let (head, body) = response.into_parts();
                    let max_body = limits.max_body.filter(|_| head.status.is_success());
                    if let Some(cap) = max_body
                        && let Some(announced) = super::response::announced_over(&head.headers, cap)
                    {
                        return Err(Failure::TooLarge { cap, announced });
                    }
                    let body = DrivenBody {
                        conn: Some(conn),
                        driver_done,
                        body,
                        pool: self.pool.clone(),
                        key,
                        deadline: limits
                            .deadline
                            .map(|at| Box::pin(tokio::time::sleep_until(at))),
                        cap: max_body.map(|cap| (cap, cap)),
                    };
                    return Ok((head, body));
                }
                // The request never left: the pooled connection had closed. Send it again on
                // another connection (the server has not seen it).
                Err(Unsent(Some(req), e)) if pooled => {
                    tracing::debug!(error = %e, "a pooled connection was closed: reconnecting");
                    request = Some(req);
                }
                Err(Unsent(_, e)) => return Err(Failure::Exchange(io::Error::other(e))),
            }
        }
    }
}

/// A failed exchange, with the request when it was never written.
struct Unsent(Option<http::Request<Full<Bytes>>>, crate::error::Source);

/// The error of a connection whose driver finished (the server closed it) while a request
/// waited for it or for its answer.
fn closed_connection() -> crate::error::Source {
    Box::new(io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the connection closed before a response",
    ))
}

/// Waits until `conn` takes a request, sends `req` and reads the response head, driving the
/// connection all along. With the head, whether the connection's driver has finished.
async fn exchange(
    conn: &mut Http1,
    req: http::Request<Full<Bytes>>,
) -> Result<(http::Response<Incoming>, bool), Unsent> {
    let Http1 { send, driver } = conn;
    let mut driver_done = false;
    // Drive the connection until it is ready for a request (a pooled one may still be
    // finishing the previous exchange), or until it turns out closed: a finished driver takes
    // no request (hyper would wait for it forever), and the request was not written.
    let ready = std::future::poll_fn(|cx| {
        quiet_first(cx, |cx| {
            if driver.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(closed_connection()));
            }
            send.poll_ready(cx).map_err(Into::into)
        })
    })
    .await;
    if let Err(e) = ready {
        return Err(Unsent(Some(req), e));
    }
    let mut response = std::pin::pin!(send.try_send_request(req));
    // Driven without a waker first here too: an answer read in that step leaves no waker of
    // this task with hyper (its body channel would wake it when the body is first read). The
    // answer itself comes only from the driver, driven just before, so it never needs one.
    let response = std::future::poll_fn(|cx| {
        quiet_first(cx, |cx| {
            let finished = !driver_done && driver.as_mut().poll(cx).is_ready();
            driver_done |= finished;
            match response
                .as_mut()
                .poll(&mut Context::from_waker(std::task::Waker::noop()))
            {
                // The driver is gone and left no answer: none will come.
                Poll::Pending if driver_done => Poll::Ready(Err(Unsent(None, closed_connection()))),
                Poll::Pending => Poll::Pending,
                Poll::Ready(r) => {
                    Poll::Ready(r.map_err(|mut e| Unsent(e.take_message(), e.into_error().into())))
                }
            }
        })
    })
    .await?;
    Ok((response, driver_done))
}

/// Runs `step` without a waker, and again with `cx` only when that is `Pending`.
///
/// hyper hands things over between the driver and the caller's side (a request, a response
/// head, a body chunk) through channels that wake the other side's last waker. The caller
/// drives both sides in one task, so with its real waker each hand-over would wake the task
/// while it runs: a wasted poll, and on a multi-thread runtime a woken running task is queued
/// again and wakes another worker to take it. Stepped without a waker first, the hand-overs
/// wake nothing; the real waker is registered everywhere before the task returns `Pending`.
fn quiet_first<T>(
    cx: &mut Context<'_>,
    mut step: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    match step(&mut Context::from_waker(std::task::Waker::noop())) {
        Poll::Pending => step(cx),
        ready => ready,
    }
}

/// The reqwest request as hyper's: origin-form target, a `Host` header, the body in memory.
fn to_hyper(request: reqwest::Request, body: Option<Bytes>) -> http::Request<Full<Bytes>> {
    let url = request.url();
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let body = body.or_else(|| {
        request
            .body()
            .and_then(reqwest::Body::as_bytes)
            .map(Bytes::copy_from_slice)
    });
    let mut out = http::Request::new(Full::new(body.unwrap_or_default()));
    *out.method_mut() = request.method().clone();
    *out.uri_mut() = target
        .parse()
        .unwrap_or_else(|_| http::Uri::from_static("/"));
    let headers = out.headers_mut();
    if let Ok(host) = http::HeaderValue::from_str(&host) {
        headers.insert(http::header::HOST, host);
    }
    for (name, value) in request.headers() {
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "transfer-encoding" | "connection"
        ) {
            headers.append(name, value.clone());
        }
    }
    out
}

/// A response body read by whoever polls it: each poll first drives the connection (reads the
/// socket, de-frames), then takes what hyper decoded. At its end the connection goes back to
/// the pool; dropped before that, the connection closes with it.
///
/// A stream reads it as it is (no `reqwest::Body` around it: each layer would cost a poll per
/// event); JSON answers get it wrapped in a `reqwest::Response`.
pub(crate) struct DrivenBody {
    conn: Option<Http1>,
    /// The connection's driver finished (closed or failed): it is not polled again, nor pooled.
    driver_done: bool,
    body: Incoming,
    pool: Arc<Pool>,
    key: Key,
    /// The call's deadline (JSON calls; streams have none).
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The body cap and the bytes still allowed under it (JSON calls; streams have none).
    cap: Option<(usize, usize)>,
}

impl fmt::Debug for DrivenBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DrivenBody")
            .field("key", &self.key)
            .field("driver_done", &self.driver_done)
            .finish_non_exhaustive()
    }
}

impl Stream for DrivenBody {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        // The body is only ever fed by the driver, which each step drives just before: the
        // body needs no waker of its own. The driver is first driven without one either: hyper
        // hands a chunk over through a channel of one, and each chunk taken would otherwise
        // wake this task (the driver parked on the full channel). Only when no chunk is there
        // does the driver get the real waker (the socket, the body's demand for more), before
        // this returns `Pending`.
        quiet_first(cx, |cx| this.step(cx))
    }
}

impl DrivenBody {
    /// Drives the connection with `cx` and takes what the body has.
    fn step(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        let this = self;
        let mut body_cx = Context::from_waker(std::task::Waker::noop());
        loop {
            if let Some(conn) = this.conn.as_mut()
                && !this.driver_done
                && conn.driver.as_mut().poll(cx).is_ready()
            {
                this.driver_done = true;
            }
            return match Pin::new(&mut this.body).poll_frame(&mut body_cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) if !data.is_empty() => match &mut this.cap {
                        Some((cap, left)) if data.len() > *left => {
                            this.conn = None;
                            Poll::Ready(Some(Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                super::TooLarge(*cap),
                            ))))
                        }
                        Some((_, left)) => {
                            *left -= data.len();
                            Poll::Ready(Some(Ok(data)))
                        }
                        None => Poll::Ready(Some(Ok(data))),
                    },
                    _ => continue, // trailers, or an empty frame
                },
                Poll::Ready(Some(Err(e))) => {
                    this.conn = None;
                    Poll::Ready(Some(Err(io::Error::other(e))))
                }
                Poll::Ready(None) => {
                    if let Some(conn) = this.conn.take()
                        && !this.driver_done
                    {
                        this.pool.put(this.key.clone(), conn);
                    }
                    Poll::Ready(None)
                }
                // The driver is gone and the body has not ended: nothing more will come.
                Poll::Pending if this.driver_done => {
                    this.conn = None;
                    Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the connection closed before the body ended",
                    ))))
                }
                Poll::Pending => match this.deadline.as_mut().map(|d| d.as_mut().poll(cx)) {
                    Some(Poll::Ready(())) => {
                        this.conn = None;
                        this.deadline = None;
                        Poll::Ready(Some(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the call's deadline passed while reading the response",
                        ))))
                    }
                    _ => Poll::Pending,
                },
            };
        }
    }
}
