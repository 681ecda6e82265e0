//! [`AsyncBookWyrmClient`]: configuration, environment, headers and lifecycle.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::error::BookWyrmClientError;
use crate::retry::RetryPolicy;
use crate::transport::direct::Direct;
use crate::transport::{CallContext, Shared, TransportStats};

/// The production API.
///
/// ```
/// let client = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
/// assert_eq!(client.base_url(), bookwyrm::DEFAULT_BASE_URL);
/// ```
pub const DEFAULT_BASE_URL: &str = "https://api.bookwyrm.ai:443";
/// Environment variable holding the API key.
///
/// ```
/// let has_key = std::env::var(bookwyrm::ENV_API_KEY).is_ok_and(|k| !k.trim().is_empty());
/// if !has_key {
///     eprintln!("set {} to call the API", bookwyrm::ENV_API_KEY);
/// }
/// ```
pub const ENV_API_KEY: &str = "BOOKWYRM_API_KEY";
/// Environment variable naming a PEM file of extra root certificates to trust (a private CA),
/// read by [`ClientBuilder::from_env`].
///
/// ```no_run
/// // Same as `.add_root_certificate_file(…)` when the variable is set.
/// // SAFETY: set before any other thread starts (as at the top of `main`).
/// unsafe { std::env::set_var(bookwyrm::ENV_CA_CERT, "/etc/ssl/private-ca.pem") };
/// let client = bookwyrm::AsyncBookWyrmClient::builder().from_env().build()?;
/// # Ok::<(), bookwyrm::BookWyrmClientError>(())
/// ```
pub const ENV_CA_CERT: &str = "BOOKWYRM_CA_CERT";
/// Environment variable holding the base URL.
///
/// ```no_run
/// // Point every client made from the environment at a local emulator.
/// // SAFETY: set before any other thread starts (as at the top of `main`).
/// unsafe { std::env::set_var(bookwyrm::ENV_API_URL, "http://127.0.0.1:8765") };
/// let client = bookwyrm::AsyncBookWyrmClient::new()?;
/// assert_eq!(client.base_url(), "http://127.0.0.1:8765");
/// # Ok::<(), bookwyrm::BookWyrmClientError>(())
/// ```
pub const ENV_API_URL: &str = "BOOKWYRM_API_URL";

/// Default connect timeout.
///
/// ```
/// // A slow network: give connecting twice the default.
/// let client = bookwyrm::AsyncBookWyrmClient::builder()
///     .connect_timeout(bookwyrm::DEFAULT_CONNECT_TIMEOUT * 2)
///     .build()
///     .unwrap();
/// # drop(client);
/// ```
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default total timeout of a non-streaming call.
///
/// ```
/// let client = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
/// assert_eq!(client.config().timeout, Some(bookwyrm::DEFAULT_TIMEOUT));
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// Default idle timeout of a stream (no byte for this long ends it).
///
/// ```
/// let client = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
/// assert_eq!(client.config().stream_idle_timeout, Some(bookwyrm::DEFAULT_STREAM_IDLE_TIMEOUT));
/// ```
pub const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Default cap on the body of a non-streaming answer (64 MiB), far above any real answer of
/// this API: a server that sends more (or announces more in `Content-Length`) gets a
/// [`TransportKind::TooLarge`](crate::TransportKind::TooLarge) error instead of the client's
/// memory.
///
/// ```
/// let client = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
/// assert_eq!(client.config().max_response_body, bookwyrm::DEFAULT_MAX_RESPONSE_BODY);
/// ```
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 64 << 20;

/// The asynchronous BookWyrm client (Python's `AsyncBookWyrmClient`).
///
/// Cheap to clone (two `Arc`s); clones share the connection pool and the closed state.
///
/// ```no_run
/// use bookwyrm::{AsyncBookWyrmClient, CitationRequest, TextSpan};
///
/// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
/// // Reads BOOKWYRM_API_KEY and BOOKWYRM_API_URL.
/// let client = AsyncBookWyrmClient::new()?;
/// let chunks = vec![TextSpan::new(0, "The sky is blue.")];
/// let answer = client
///     .get_citations(CitationRequest::from_chunks(chunks, "What colour is the sky?"))
///     .await?;
/// println!("{} citations", answer.total_citations);
/// client.close();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AsyncBookWyrmClient {
    pub(crate) shared: Arc<Shared>,
    pub(crate) config: Arc<Config>,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<AsyncBookWyrmClient>();
};

/// Per-handle settings; [`AsyncBookWyrmClient::with_config`] derives a handle with others.
///
/// ```
/// let c = bookwyrm::Config::default();
/// assert_eq!(c.retry.max_retries, 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// Total deadline of a non-streaming call (`None`: none).
    pub timeout: Option<Duration>,
    /// Longest silence on a stream, and longest wait for response headers of a stream.
    pub stream_idle_timeout: Option<Duration>,
    /// Largest SSE line, in bytes; a longer line is a decode error.
    pub max_sse_line: usize,
    /// Largest SSE event (all its data), in bytes; a larger event is a decode error.
    pub max_sse_event: usize,
    /// Extra headers sent with every request of this handle (they cannot replace the
    /// authorization, date or user-agent headers).
    pub headers: HeaderMap,
    /// How failed calls are retried.
    pub retry: RetryPolicy,
    /// Largest body of a non-streaming answer, in bytes; a larger one is a
    /// [`TransportKind::TooLarge`](crate::TransportKind::TooLarge) error.
    pub max_response_body: usize,
    /// Total deadline of a stream, from its call to its last event (`None`: none, the
    /// default; the idle timeout still applies).
    pub stream_deadline: Option<Duration>,
    /// Longest wait for a slot under `max_concurrent_requests` (`None`: as long as it takes).
    pub slot_timeout: Option<Duration>,
    /// When a stream broken after its first event goes on where it stopped.
    pub resume: crate::resume::ResumePolicy,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            timeout: Some(DEFAULT_TIMEOUT),
            stream_idle_timeout: Some(DEFAULT_STREAM_IDLE_TIMEOUT),
            max_sse_line: crate::sse::DEFAULT_MAX_LINE,
            max_sse_event: crate::sse::DEFAULT_MAX_EVENT,
            headers: HeaderMap::new(),
            retry: RetryPolicy::default(),
            max_response_body: DEFAULT_MAX_RESPONSE_BODY,
            stream_deadline: None,
            slot_timeout: None,
            resume: crate::resume::ResumePolicy::default(),
        }
    }
}

impl AsyncBookWyrmClient {
    /// A client configured from the environment: `BOOKWYRM_API_KEY` (optional) and
    /// `BOOKWYRM_API_URL` (default [`DEFAULT_BASE_URL`]).
    ///
    /// ```
    /// let client = bookwyrm::AsyncBookWyrmClient::new().unwrap();
    /// # drop(client);
    /// ```
    pub fn new() -> Result<Self, BookWyrmClientError> {
        Self::builder().from_env().build()
    }

    /// A builder, starting from the defaults (not from the environment; see
    /// [`ClientBuilder::from_env`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// let client = bookwyrm::AsyncBookWyrmClient::builder()
    ///     .base_url("http://127.0.0.1:8000")
    ///     .api_key("sk-test")
    ///     .connect_timeout(Duration::from_secs(3))
    ///     .timeout(Duration::from_secs(30))
    ///     .user_agent_extra("my-service/1.2")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8000");
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL requests go to (without a trailing slash).
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().base_url("http://h:1/").build().unwrap();
    /// assert_eq!(c.base_url(), "http://h:1");
    /// ```
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// This handle's settings.
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
    /// assert!(c.config().stream_idle_timeout.is_some());
    /// ```
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A handle sharing this client's connections and lifecycle, with changed settings, e.g. a
    /// longer timeout for one call.
    ///
    /// ```
    /// use std::time::Duration;
    /// let client = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
    /// let patient = client.with_config(|c| c.timeout = Some(Duration::from_secs(1800)));
    /// assert_eq!(patient.config().timeout, Some(Duration::from_secs(1800)));
    /// ```
    pub fn with_config(&self, change: impl FnOnce(&mut Config)) -> Self {
        let mut config = (*self.config).clone();
        change(&mut config);
        Self {
            shared: self.shared.clone(),
            config: Arc::new(config),
        }
    }

    /// A handle that sends this header with every request, besides those of this one; it
    /// shares the connection pool and the closed state. An invalid name or value is a
    /// `Validation` error. The authorization, date and user-agent headers cannot be replaced.
    ///
    /// ```
    /// // With the emulator's fault injection: every call of `flaky` gets a 503 first.
    /// let client = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
    /// let flaky = client.with_header("x-bookwyrm-fault", "status=503;times=1").unwrap();
    /// assert_eq!(flaky.config().headers["x-bookwyrm-fault"], "status=503;times=1");
    /// assert!(client.with_header("bad name", "v").is_err());
    /// ```
    pub fn with_header(
        &self,
        name: impl AsRef<str>,
        value: impl AsRef<str>,
    ) -> Result<Self, BookWyrmClientError> {
        let name = reqwest::header::HeaderName::from_bytes(name.as_ref().trim().as_bytes())
            .map_err(|_| {
                BookWyrmClientError::validation("headers", "not a valid HTTP header name")
            })?;
        let value = HeaderValue::from_str(value.as_ref()).map_err(|_| {
            BookWyrmClientError::validation("headers", "not a valid HTTP header value")
        })?;
        Ok(self.with_config(|c| {
            c.headers.insert(name, value);
        }))
    }

    /// The last deprecation notice the server sent (`Deprecation` + `Warning: 299 bookwyrm "…"`),
    /// if any. The first one is also logged with `tracing::warn!`.
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
    /// assert_eq!(c.deprecation_notice(), None);
    /// ```
    pub fn deprecation_notice(&self) -> Option<String> {
        self.shared.deprecation_notice()
    }

    /// How many requests of this client (and its clones) went over each path so far: the direct
    /// stream transport or the general HTTP client. See [`TransportStats`].
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
    /// let stats = c.transport_stats();
    /// assert_eq!((stats.direct, stats.general), (0, 0));
    /// ```
    pub fn transport_stats(&self) -> TransportStats {
        self.shared.transport_stats()
    }

    /// Whether [`close`](Self::close) was called on this client or a clone.
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
    /// c.close();
    /// assert!(c.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// Closes the client: pooled connections are released once in-flight calls end, and every
    /// later call on any clone fails with [`BookWyrmClientError::Closed`]. Idempotent.
    /// Synchronous: closing waits for nothing, so it is safe anywhere (a `Drop`, a signal
    /// handler, the blocking client).
    ///
    /// ```
    /// let client = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
    /// client.close();
    /// assert!(client.is_closed());
    /// ```
    pub fn close(&self) {
        self.shared.close();
    }

    /// Closes the client and ends its work in flight now: every call and stream under way on
    /// any clone ends with [`BookWyrmClientError::Closed`] (a stream as its last item), their
    /// connections are closed, and calls waiting for a concurrency slot fail the same way.
    /// For a shutdown that must not wait behind a slow stream; [`close`](Self::close) lets
    /// work in flight finish instead. Idempotent and synchronous, like `close`.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) {
    /// // On SIGTERM: give in-flight work a moment, then end it.
    /// client.close();
    /// tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    /// client.close_now();
    /// # }
    /// ```
    pub fn close_now(&self) {
        self.shared.close_now();
    }

    /// Runs `body` with a clone of the client and closes the client afterwards, whatever the
    /// outcome: also when `body` returns an error, panics, or is cancelled (the Rust form of
    /// Python's `async with client:`).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
    /// use bookwyrm::{AsyncBookWyrmClient, SummarizeRequest};
    /// let summary = AsyncBookWyrmClient::new()?
    ///     .scoped(|client| async move {
    ///         client.summarize(SummarizeRequest::from_content("A long text.")).await
    ///     })
    ///     .await?;
    /// println!("{}", summary.summary);
    /// # Ok(()) }
    /// ```
    pub async fn scoped<F, Fut, T>(self, body: F) -> T
    where
        F: FnOnce(AsyncBookWyrmClient) -> Fut,
        Fut: Future<Output = T>,
    {
        struct CloseOnDrop(Arc<Shared>);
        impl Drop for CloseOnDrop {
            fn drop(&mut self) {
                self.0.close();
            }
        }
        let _guard = CloseOnDrop(self.shared.clone());
        body(self).await
    }

    /// The context of one attempt of a call; waits for a slot under the concurrency cap.
    pub(crate) async fn call(&self, streaming: bool) -> Result<CallContext, BookWyrmClientError> {
        self.shared.http()?;
        let permit = self.shared.permit(self.config.slot_timeout).await?;
        let http = self.shared.http()?;
        Ok(CallContext {
            shared: self.shared.clone(),
            http,
            streaming,
            total_timeout: if streaming { None } else { self.config.timeout },
            idle_timeout: if streaming {
                self.config.stream_idle_timeout
            } else {
                None
            },
            headers: self.config.headers.clone(),
            body: None,
            max_body: (!streaming).then_some(self.config.max_response_body),
            captured: Arc::default(),
            stream_body: Arc::default(),
            response_id: Arc::default(),
            #[cfg(feature = "otel")]
            otel: opentelemetry::Context::current(),
            _permit: permit,
        })
    }
}

impl fmt::Debug for AsyncBookWyrmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncBookWyrmClient")
            .field("base_url", &self.shared.base_url)
            .field(
                "api_key",
                &self.shared.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("closed", &self.is_closed())
            .field("config", &self.config)
            .finish()
    }
}

/// Builds an [`AsyncBookWyrmClient`].
///
/// ```
/// let client = bookwyrm::AsyncBookWyrmClient::builder()
///     .from_env()
///     .stream_idle_timeout(None)
///     .build()
///     .unwrap();
/// # drop(client);
/// ```
#[must_use = "a builder does nothing until `build()`"]
pub struct ClientBuilder {
    base_url: Option<String>,
    api_key: Option<SecretString>,
    connect_timeout: Option<Duration>,
    /// The first handle's settings, filled by the setters below.
    config: Config,
    user_agent_extra: Option<String>,
    http: Option<reqwest::Client>,
    /// `direct_streams(false)` was asked for.
    streams_through_reqwest: bool,
    header_error: Option<&'static str>,
    /// Extra trusted roots (DER), from [`ClientBuilder::add_root_certificate`].
    roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// Why a root certificate could not be added (reported by `build`).
    roots_error: Option<String>,
    max_concurrent: Option<usize>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: None,
            api_key: None,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            config: Config::default(),
            user_agent_extra: None,
            http: None,
            streams_through_reqwest: false,
            header_error: None,
            roots: Vec::new(),
            roots_error: None,
            max_concurrent: None,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("config", &self.config)
            .field("user_agent_extra", &self.user_agent_extra)
            .field("custom_http_client", &self.http.is_some())
            .field("max_concurrent_requests", &self.max_concurrent)
            .field("extra_root_certificates", &self.roots.len())
            .field("direct_streams", &!self.streams_through_reqwest)
            .finish()
    }
}

impl ClientBuilder {
    /// Fills the base URL and API key from `BOOKWYRM_API_URL` and `BOOKWYRM_API_KEY` where they
    /// were not set explicitly (empty variables count as unset).
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder().base_url("http://x:1").from_env();
    /// assert_eq!(b.build().unwrap().base_url(), "http://x:1");
    /// ```
    pub fn from_env(mut self) -> Self {
        let var = |name| {
            std::env::var(name)
                .ok()
                .filter(|v: &String| !v.trim().is_empty())
        };
        if self.base_url.is_none() {
            self.base_url = var(ENV_API_URL);
        }
        if self.api_key.is_none() {
            self.api_key = var(ENV_API_KEY).map(SecretString::from);
        }
        if let Some(path) = var(ENV_CA_CERT) {
            self = self.add_root_certificate_file(path);
        }
        self
    }

    /// Trusts the root certificates of a PEM document (one or more `CERTIFICATE` blocks), in
    /// addition to the platform's roots: for a server behind a private CA. Applies to every
    /// call and stream; ignored with [`http_client`](Self::http_client) (configure that client
    /// instead). A document without a certificate makes [`build`](Self::build) fail.
    ///
    /// The platform's roots come from the operating system's store; on Linux `SSL_CERT_FILE`
    /// and `SSL_CERT_DIR`, when set, replace that store. Certificate verification cannot be
    /// turned off.
    ///
    /// ```no_run
    /// let pem = std::fs::read("my-ca.pem").unwrap();
    /// let client = bookwyrm::AsyncBookWyrmClient::builder()
    ///     .base_url("https://bookwyrm.internal:8443")
    ///     .add_root_certificate(pem)
    ///     .build()
    ///     .unwrap();
    /// # drop(client);
    /// ```
    pub fn add_root_certificate(mut self, pem: impl AsRef<[u8]>) -> Self {
        use rustls::pki_types::pem::PemObject;
        let mut found = 0;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_ref()) {
            match cert {
                Ok(cert) => {
                    self.roots.push(cert);
                    found += 1;
                }
                Err(e) => {
                    self.roots_error = Some(format!("not a valid PEM certificate: {e}"));
                    return self;
                }
            }
        }
        if found == 0 {
            self.roots_error = Some("no PEM `CERTIFICATE` block found".into());
        }
        self
    }

    /// [`add_root_certificate`](Self::add_root_certificate) with the contents of a file (also
    /// what `BOOKWYRM_CA_CERT` names, with [`from_env`](Self::from_env)).
    ///
    /// ```
    /// let err = bookwyrm::AsyncBookWyrmClient::builder()
    ///     .add_root_certificate_file("/no/such/ca.pem")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("/no/such/ca.pem"));
    /// ```
    pub fn add_root_certificate_file(self, path: impl AsRef<std::path::Path>) -> Self {
        let path = path.as_ref();
        match std::fs::read(path) {
            Ok(pem) => {
                let mut next = self.add_root_certificate(pem);
                if let Some(e) = next.roots_error.take() {
                    next.roots_error = Some(format!("{}: {e}", path.display()));
                }
                next
            }
            Err(e) => Self {
                roots_error: Some(format!("cannot read {}: {e}", path.display())),
                ..self
            },
        }
    }

    /// The base URL (default [`DEFAULT_BASE_URL`]); a trailing `/` is removed.
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder().base_url("http://127.0.0.1:8000");
    /// # drop(b);
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The API key, sent as `Authorization: Bearer <key>`; never shown in `Debug` or errors.
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder().api_key("sk-secret");
    /// assert!(!format!("{b:?}").contains("sk-secret"));
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Connect timeout (default 10 s). Ignored with [`http_client`](Self::http_client), whose
    /// own setting applies.
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder().connect_timeout(std::time::Duration::from_secs(2));
    /// # drop(b);
    /// ```
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// Total deadline of a non-streaming call (default 600 s; `None` for none). Never applied
    /// to streams, whose limit is [`stream_idle_timeout`](Self::stream_idle_timeout).
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder().timeout(std::time::Duration::from_secs(30));
    /// # drop(b);
    /// ```
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.timeout = timeout.into();
        self
    }

    /// Longest silence on a stream before it ends with a timeout error (default 120 s; `None`
    /// for none). Also bounds the wait for a stream's response headers.
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder().stream_idle_timeout(std::time::Duration::from_secs(30));
    /// # drop(b);
    /// ```
    pub fn stream_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.stream_idle_timeout = timeout.into();
        self
    }

    /// A total deadline for every stream, from the call to its last event (default: none).
    /// When it passes, the stream's last item is a [`TimeoutKind::StreamDeadline`] error and
    /// its connection is closed. Instead of wrapping a stream in `tokio::time::timeout`, which
    /// drops it without saying why.
    ///
    /// [`TimeoutKind::StreamDeadline`]: crate::TimeoutKind::StreamDeadline
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder()
    ///     .stream_deadline(std::time::Duration::from_secs(300));
    /// # drop(b);
    /// ```
    pub fn stream_deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.config.stream_deadline = deadline.into();
        self
    }

    /// The longest a call waits for a slot under
    /// [`max_concurrent_requests`](Self::max_concurrent_requests) (default: as long as it
    /// takes). Past it the call fails with [`TimeoutKind::Slot`] without sending anything: the
    /// hold-up was the client's own queue, not the server. Waits for a slot are traced
    /// (`bookwyrm` target, debug: how long; warn: when one gives up).
    ///
    /// [`TimeoutKind::Slot`]: crate::TimeoutKind::Slot
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder()
    ///     .max_concurrent_requests(4)
    ///     .slot_timeout(std::time::Duration::from_secs(2));
    /// # drop(b);
    /// ```
    pub fn slot_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.slot_timeout = timeout.into();
        self
    }

    /// Text appended to the User-Agent, e.g. `my-service/1.2`.
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder().user_agent_extra("my-service/1.2");
    /// # drop(b);
    /// ```
    pub fn user_agent_extra(mut self, extra: impl Into<String>) -> Self {
        self.user_agent_extra = Some(extra.into());
        self
    }

    /// An extra header for every request (e.g. a tracing or routing header). An invalid name
    /// or value makes [`build`](Self::build) fail with a validation error.
    ///
    /// ```
    /// let client = bookwyrm::AsyncBookWyrmClient::builder()
    ///     .header("x-team", "search")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(client.config().headers["x-team"], "search");
    /// ```
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (
            reqwest::header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                self.config.headers.append(n, v);
            }
            _ => self.header_error = Some("headers"),
        }
        self
    }

    /// How failed calls are retried (default: 2 retries, 0.5 s doubling to 8 s, with jitter;
    /// see [`RetryPolicy`](RetryPolicy)).
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder().retry_policy(bookwyrm::RetryPolicy::none());
    /// # drop(b);
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// When a stream that broke after its first event goes on where it stopped (default: up to
    /// 5 resumes in a row without progress and 10 new requests in all, for PDF extraction,
    /// phrasal chunking with offsets and classify; see [`ResumePolicy`](crate::ResumePolicy)).
    /// Resumes wait the retry policy's backoff.
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder()
    ///     .resume_policy(bookwyrm::ResumePolicy::default().max_resumes(10).cite(true));
    /// # drop(b);
    /// ```
    pub fn resume_policy(mut self, policy: crate::resume::ResumePolicy) -> Self {
        self.config.resume = policy;
        self
    }

    /// Retries after the first attempt (a shortcut for the policy's `max_retries`).
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().max_retries(5).build().unwrap();
    /// assert_eq!(c.config().retry.max_retries, 5);
    /// ```
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.config.retry.max_retries = retries;
        self
    }

    /// The largest body a non-streaming answer may have (default
    /// [`DEFAULT_MAX_RESPONSE_BODY`], 64 MiB). An answer announcing more in `Content-Length`
    /// is refused before its body is read; one that sends more is cut off at the cap. Either
    /// way the call fails with [`TransportKind::TooLarge`](crate::TransportKind::TooLarge),
    /// which names the cap. Streams are bounded by their line and event limits instead.
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder().max_response_body(8 << 20);
    /// # drop(b);
    /// ```
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.config.max_response_body = bytes;
        self
    }

    /// At most this many requests in flight at once across all clones of the client, streams
    /// included (a stream holds its slot until it ends or is dropped). Further calls wait for
    /// a slot instead of failing, so a burst of tasks does not become a burst of 429s.
    /// `0` is taken as 1.
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder().max_concurrent_requests(8);
    /// # drop(b);
    /// ```
    pub fn max_concurrent_requests(mut self, limit: usize) -> Self {
        self.max_concurrent = Some(limit.max(1));
        self
    }

    /// Whether requests go over the direct transport (default `true`): hyper's HTTP/1
    /// connection driven by the task that reads the response, kept in the client's pool between
    /// requests, with no hand-over between threads, which makes a stream several times cheaper
    /// in CPU when it is consumed in the body of `#[tokio::main]`. `false` sends every request
    /// through the `reqwest` client. Requests go through `reqwest` anyway when
    /// [`http_client`](Self::http_client) is given, when a proxy is set in the environment
    /// (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`), and for multipart uploads.
    ///
    /// ```
    /// let b = bookwyrm::AsyncBookWyrmClient::builder().direct_streams(false);
    /// # drop(b);
    /// ```
    pub fn direct_streams(mut self, direct: bool) -> Self {
        self.streams_through_reqwest = !direct;
        self
    }

    /// Use this `reqwest::Client` (its pool, proxy and TLS settings). Give it no total timeout:
    /// one would cut streams. Our headers and per-call deadlines are still applied.
    ///
    /// The one place reqwest's types appear in the API: behind the feature `reqwest-client`,
    /// whose semver follows the reqwest version the SDK uses (0.13 today), not the SDK's own.
    /// Your client's TLS is its own: with reqwest's default features it brings its provider;
    /// without them, install one first (as here).
    ///
    /// ```
    /// # #[allow(deprecated)]
    /// let _ = rustls::crypto::ring::default_provider().install_default();
    /// let http = reqwest::Client::builder().build().unwrap();
    /// let b = bookwyrm::AsyncBookWyrmClient::builder().http_client(http);
    /// # drop(b);
    /// ```
    #[cfg(feature = "reqwest-client")]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Builds the client. Fails with a validation error for a malformed base URL or API key.
    ///
    /// ```
    /// let err = bookwyrm::AsyncBookWyrmClient::builder().base_url("not a url").build().unwrap_err();
    /// assert_eq!(err.to_string(), "invalid `base_url`: not an http(s) URL: not a url");
    /// ```
    pub fn build(mut self) -> Result<AsyncBookWyrmClient, BookWyrmClientError> {
        if let Some(problem) = self.roots_error {
            return Err(BookWyrmClientError::validation("root_certificate", problem));
        }
        if let Some(field) = self.header_error {
            return Err(BookWyrmClientError::validation(
                field,
                "a header name or value is not valid in HTTP",
            ));
        }
        let base_url = checked_base_url(self.base_url.as_deref())?;
        let authorization = authorization(self.api_key.as_ref())?;
        let user_agent = user_agent(self.user_agent_extra.as_deref())?;
        let connect_timeout = self.connect_timeout;
        let (http, direct) = self.transports()?;
        Ok(AsyncBookWyrmClient {
            shared: Arc::new(Shared::new(
                base_url,
                http,
                authorization,
                user_agent,
                self.max_concurrent,
                connect_timeout,
                direct,
            )),
            config: Arc::new(self.config),
        })
    }

    /// The client's two transports. Requests go over the direct transport unless the caller
    /// brought a reqwest client (its own proxy and TLS settings then apply to everything).
    /// The SDK's own reqwest client and the direct transport share one certificate verifier,
    /// loaded at the first handshake.
    fn transports(&mut self) -> Result<(reqwest::Client, Option<Direct>), BookWyrmClientError> {
        if let Some(http) = self.http.take() {
            return Ok((http, None));
        }
        let usable = |e: rustls::Error| {
            BookWyrmClientError::validation(
                "root_certificate",
                format!("not a usable certificate: {e}"),
            )
        };
        let verifier =
            Arc::new(crate::transport::tls::LazyVerifier::new(self.roots.clone()).map_err(usable)?);
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(90))
            // HTTP/1.1, as the direct transport (reqwest carries one upload at a time;
            // leaving out HTTP/2 keeps h2 out of an adopter's build).
            .tls_backend_preconfigured(verifier.config(&[b"http/1.1"]).map_err(usable)?);
        if let Some(t) = self.connect_timeout {
            b = b.connect_timeout(t);
        }
        let http = b
            .build()
            .map_err(|e| BookWyrmClientError::transport("could not build the HTTP client", e))?;
        let direct = (!self.streams_through_reqwest).then(|| Direct::new(verifier));
        Ok((http, direct))
    }
}

/// The base URL without surrounding blanks or trailing slashes, when it is an http(s) URL with
/// a host.
fn checked_base_url(url: Option<&str>) -> Result<String, BookWyrmClientError> {
    let base_url = url
        .unwrap_or(DEFAULT_BASE_URL)
        .trim()
        .trim_end_matches('/')
        .to_string();
    match reqwest::Url::parse(&base_url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(base_url),
        _ => Err(BookWyrmClientError::validation(
            "base_url",
            format!("not an http(s) URL: {base_url}"),
        )),
    }
}

/// The `Authorization` header of an API key (none for a missing or blank key), marked
/// sensitive.
fn authorization(
    api_key: Option<&SecretString>,
) -> Result<Option<HeaderValue>, BookWyrmClientError> {
    let Some(key) = api_key
        .map(|k| k.expose_secret().trim())
        .filter(|k| !k.is_empty())
    else {
        return Ok(None);
    };
    let mut v = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
        BookWyrmClientError::validation(
            "api_key",
            "contains characters not allowed in an HTTP header",
        )
    })?;
    v.set_sensitive(true);
    Ok(Some(v))
}

/// The `User-Agent` header: the SDK, its version and the OS, then `extra` when given.
fn user_agent(extra: Option<&str>) -> Result<HeaderValue, BookWyrmClientError> {
    let mut ua = format!(
        "bookwyrm-rust/{} (rust; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    );
    if let Some(extra) = extra.map(str::trim).filter(|e| !e.is_empty()) {
        ua.push(' ');
        ua.push_str(extra);
    }
    HeaderValue::from_str(&ua).map_err(|_| {
        BookWyrmClientError::validation(
            "user_agent_extra",
            "contains characters not allowed in an HTTP header",
        )
    })
}
