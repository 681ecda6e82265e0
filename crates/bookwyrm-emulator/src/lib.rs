//! A local, deterministic implementation of the BookWyrm API.
//!
//! It serves all nine operations of `openapi/bookwyrm.yaml` on loopback with real algorithms
//! (sentence segmentation, BM25 citations, TextRank summaries, magic-byte classification, PDF
//! text extraction with bounding boxes), so that the SDK, the CLI and the examples work offline,
//! and so that tests talk to a real HTTP server. With faults allowed, a request header chooses a
//! failure to inject (see [`faults`]).
//!
//! ```no_run
//! # async fn run() {
//! let emulator = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
//! let client = bookwyrm::AsyncBookWyrmClient::builder()
//!     .base_url(emulator.base_url())
//!     .build()
//!     .unwrap();
//! // ... use the client ...
//! emulator.stop().await;
//! # drop(client);
//! # }
//! ```
//!
//! Feature `pdf` (on by default): the two PDF operations and [`algo`]'s PDF reading, through
//! pdf-extract and lopdf. Without it (`default-features = false`, as the quickstart builds it,
//! about 40 crates fewer) those two routes answer 501 with a detail that names the feature.
#![deny(missing_docs)]

pub mod algo;
mod cut;
pub mod faults;
mod handlers;
#[cfg(feature = "pdf")]
mod pdf_cache;
mod server;
mod sse;
mod stats;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use stats::Stats;

/// Largest upload accepted (bytes); a larger one is answered with 413.
///
/// ```
/// assert_eq!(bookwyrm_emulator::MAX_UPLOAD, 64 << 20);
/// ```
pub const MAX_UPLOAD: usize = 64 << 20;

/// Configures an emulator.
///
/// ```
/// let b = bookwyrm_emulator::Emulator::builder().api_key("sk-test").allow_faults(true);
/// # drop(b);
/// ```
#[derive(Debug, Clone, Default)]
pub struct EmulatorBuilder {
    api_keys: Vec<String>,
    allow_faults: bool,
    default_fault: Option<String>,
    tls: Option<TlsPem>,
    addr: Option<SocketAddr>,
    keepalive: Option<std::time::Duration>,
    record: bool,
    max_upload: Option<usize>,
}

impl EmulatorBuilder {
    /// Accept this bearer key; once any key is given, other keys (and none) get 401.
    ///
    /// ```
    /// let b = bookwyrm_emulator::Emulator::builder().api_key("a").api_key("b");
    /// # drop(b);
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_keys.push(key.into());
        self
    }

    /// Honour the `x-bookwyrm-fault` request header (off by default).
    ///
    /// ```
    /// let b = bookwyrm_emulator::Emulator::builder().allow_faults(true);
    /// # drop(b);
    /// ```
    pub fn allow_faults(mut self, allow: bool) -> Self {
        self.allow_faults = allow;
        self
    }

    /// Apply this fault (same syntax as the `x-bookwyrm-fault` header, see [`faults`]) to every
    /// request that carries no fault header; implies [`allow_faults`](Self::allow_faults). An
    /// invalid spec makes [`start`](Self::start) fail.
    ///
    /// ```
    /// let b = bookwyrm_emulator::Emulator::builder().default_fault("synthetic-events=200000");
    /// # drop(b);
    /// ```
    pub fn default_fault(mut self, spec: impl Into<String>) -> Self {
        self.default_fault = Some(spec.into());
        self.allow_faults = true;
        self
    }

    /// Serve HTTPS with this certificate chain and private key (PEM), e.g. to try a client
    /// against a server behind a private CA. An unusable certificate or key makes
    /// [`start`](Self::start) fail.
    ///
    /// ```no_run
    /// # async fn run() {
    /// let cert = std::fs::read_to_string("server.pem").unwrap();
    /// let key = std::fs::read_to_string("server.key").unwrap();
    /// let e = bookwyrm_emulator::Emulator::builder().tls(cert, key).start().await.unwrap();
    /// assert!(e.base_url().starts_with("https://"));
    /// # }
    /// ```
    pub fn tls(mut self, cert_chain_pem: impl Into<String>, key_pem: impl Into<String>) -> Self {
        self.tls = Some(TlsPem {
            chain: cert_chain_pem.into(),
            key: key_pem.into(),
        });
        self
    }

    /// Listen on this address (default `127.0.0.1:0`, an ephemeral port).
    ///
    /// ```
    /// let b = bookwyrm_emulator::Emulator::builder().addr("127.0.0.1:8765".parse().unwrap());
    /// # drop(b);
    /// ```
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = Some(addr);
        self
    }

    /// Interval of keepalive comments on a stream that has nothing to send (default 5 s).
    ///
    /// ```
    /// let b = bookwyrm_emulator::Emulator::builder().keepalive(std::time::Duration::from_millis(200));
    /// # drop(b);
    /// ```
    pub fn keepalive(mut self, every: std::time::Duration) -> Self {
        self.keepalive = Some(every);
        self
    }

    /// Largest request body accepted, in bytes (default [`MAX_UPLOAD`]); larger ones get 413.
    ///
    /// ```
    /// let b = bookwyrm_emulator::Emulator::builder().max_upload(1 << 20);
    /// # drop(b);
    /// ```
    pub fn max_upload(mut self, bytes: usize) -> Self {
        self.max_upload = Some(bytes);
        self
    }

    /// Keep every request (method, path, headers, body) for [`Emulator::recorded`].
    ///
    /// ```
    /// let b = bookwyrm_emulator::Emulator::builder().record_requests(true);
    /// # drop(b);
    /// ```
    pub fn record_requests(mut self, record: bool) -> Self {
        self.record = record;
        self
    }

    /// Binds and starts serving in the background of the current Tokio runtime.
    ///
    /// ```no_run
    /// # async fn run() {
    /// let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// println!("{}", e.base_url());
    /// # }
    /// ```
    pub async fn start(self) -> std::io::Result<Emulator> {
        let addr = self
            .addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        if let Some(spec) = &self.default_fault {
            faults::Fault::parse(spec).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("default fault: {e}"),
                )
            })?;
        }
        let tls = match &self.tls {
            Some(pem) => Some(server::tls_acceptor(&pem.chain, &pem.key)?),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let state = Arc::new(AppState {
            api_keys: self.api_keys,
            allow_faults: self.allow_faults,
            default_fault: self.default_fault,
            keepalive: self.keepalive.unwrap_or(std::time::Duration::from_secs(5)),
            stats: Stats::default(),
            #[cfg(feature = "pdf")]
            pdfs: pdf_cache::PdfCache::default(),
            record: self.record,
            max_upload: self.max_upload.unwrap_or(MAX_UPLOAD),
            recorded: std::sync::Mutex::new(Vec::new()),
            fault_counters: std::sync::Mutex::new(std::collections::HashMap::new()),
            first_requests: std::sync::Mutex::new(std::collections::HashMap::new()),
            fetch: {
                // reqwest takes the process's crypto provider: ring, unless one is installed.
                #[allow(deprecated)] // ring: see the SDK's transport/tls.rs
                let _ = rustls::crypto::ring::default_provider().install_default();
                reqwest::Client::builder()
            }
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .map_err(std::io::Error::other)?,
        });
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let scheme = if tls.is_some() { "https" } else { "http" };
        let task = tokio::spawn(server::serve(listener, tls, state.clone(), stop_rx));
        Ok(Emulator {
            scheme,
            addr: local,
            state,
            stop: stop_tx,
            task: Some(task),
        })
    }
}

/// A certificate chain and its private key, in PEM (the key never shows in `Debug`).
#[derive(Clone)]
struct TlsPem {
    chain: String,
    key: String,
}

impl std::fmt::Debug for TlsPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsPem { chain, key: <redacted> }")
    }
}

/// A running emulator. Dropping it stops it too.
///
/// ```no_run
/// # async fn run() {
/// let emulator = bookwyrm_emulator::Emulator::builder().api_key("k").start().await.unwrap();
/// println!("serving on {}", emulator.base_url());
/// emulator.stop().await;
/// # }
/// ```
#[derive(Debug)]
pub struct Emulator {
    scheme: &'static str,
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    /// A builder.
    ///
    /// ```
    /// let b = bookwyrm_emulator::Emulator::builder();
    /// # drop(b);
    /// ```
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// `http://127.0.0.1:<port>`.
    ///
    /// ```no_run
    /// # async fn run() {
    /// let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// assert!(e.base_url().starts_with("http://127.0.0.1:"));
    /// # }
    /// ```
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The bound address.
    ///
    /// ```no_run
    /// # async fn run() {
    /// let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// assert!(e.addr().ip().is_loopback());
    /// # }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Counters of what the emulator saw.
    ///
    /// ```no_run
    /// # async fn run() {
    /// let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// assert_eq!(e.stats().requests(), 0);
    /// # }
    /// ```
    pub fn stats(&self) -> &Stats {
        &self.state.stats
    }

    /// The requests received so far, when recording (see
    /// [`EmulatorBuilder::record_requests`]); `take` empties the log.
    ///
    /// ```no_run
    /// # async fn r() { let e = bookwyrm_emulator::Emulator::builder().record_requests(true).start().await.unwrap();
    /// assert!(e.recorded(true).is_empty());
    /// # }
    /// ```
    pub fn recorded(&self, take: bool) -> Vec<RecordedRequest> {
        let mut log = self.state.recorded.lock().expect("record lock");
        if take {
            std::mem::take(&mut *log)
        } else {
            log.clone()
        }
    }

    /// Stops accepting connections and ends open ones.
    ///
    /// ```no_run
    /// # async fn run() {
    /// let e = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
    /// e.stop().await;
    /// # }
    /// ```
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// One request as received.
///
/// ```no_run
/// # async fn run() {
/// let e = bookwyrm_emulator::Emulator::builder().record_requests(true).start().await.unwrap();
/// for r in e.recorded(false) {
///     println!("{} {} {} bytes", r.method, r.path, r.body.len());
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method.
    pub method: String,
    /// The path (and query).
    pub path: String,
    /// Headers in the order received, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: bytes::Bytes,
}

impl RecordedRequest {
    /// The first value of a header.
    ///
    /// ```
    /// let r = bookwyrm_emulator::RecordedRequest { method: "POST".into(), path: "/cite".into(),
    ///     headers: vec![("accept".into(), "*/*".into())], body: Default::default() };
    /// assert_eq!(r.header("accept"), Some("*/*"));
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) api_keys: Vec<String>,
    pub(crate) allow_faults: bool,
    pub(crate) default_fault: Option<String>,
    pub(crate) keepalive: std::time::Duration,
    pub(crate) stats: Stats,
    /// The PDFs read lately, each parsed once.
    #[cfg(feature = "pdf")]
    pub(crate) pdfs: pdf_cache::PdfCache,
    pub(crate) record: bool,
    pub(crate) max_upload: usize,
    pub(crate) recorded: std::sync::Mutex<Vec<RecordedRequest>>,
    pub(crate) fault_counters: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    /// Fault `replay-first`: the first request seen with each spec (its Content-Type and body).
    pub(crate) first_requests: std::sync::Mutex<std::collections::HashMap<String, FirstRequest>>,
    pub(crate) fetch: reqwest::Client,
}

/// A request's Content-Type and body, as fault `replay-first` keeps them.
pub(crate) type FirstRequest = (Option<axum::http::HeaderValue>, bytes::Bytes);

impl AppState {
    /// How many times a fault spec was seen before (and counts this one).
    pub(crate) fn fault_seen(&self, spec: &str) -> u64 {
        let mut map = self.fault_counters.lock().expect("fault lock");
        let n = map.entry(spec.to_string()).or_insert(0);
        *n += 1;
        *n - 1
    }

    /// The first request seen with fault `spec`: this one when it is the first.
    pub(crate) fn first_request(&self, spec: &str, this: FirstRequest) -> FirstRequest {
        let mut map = self.first_requests.lock().expect("fault lock");
        map.entry(spec.to_string()).or_insert(this).clone()
    }
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
