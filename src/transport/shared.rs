//! What every handle of one client shares: the connection pool, the direct stream transport,
//! the closed state, the fixed headers, the concurrency cap and the last deprecation notice.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};

use super::direct::Direct;
use super::response::deprecation_notice;
use super::stats::Counters;
use crate::error::{BookWyrmClientError, TimeoutKind};

/// What every handle of one client shares.
pub(crate) struct Shared {
    pub(crate) base_url: String,
    http: Mutex<Option<reqwest::Client>>,
    closed: AtomicBool,
    pub(crate) authorization: Option<HeaderValue>,
    pub(crate) user_agent: HeaderValue,
    deprecation: Mutex<Option<String>>,
    deprecation_warned: AtomicBool,
    /// The cap on requests in flight, when set.
    limiter: Option<Arc<tokio::sync::Semaphore>>,
    /// Fixed when the client is built (the connection pool's setting).
    pub(crate) connect_timeout: Option<Duration>,
    /// The transport that drives hyper's HTTP/1 connections in the reading task and keeps them
    /// between requests, when usable (see [`super::direct`]).
    direct: Option<Direct>,
    /// Which path carried each request.
    pub(crate) counters: Counters,
    /// Set by `close_now`: calls and streams in flight end with `Closed`.
    cancel: Halt,
}

/// The signal that ends a client's work in flight: a token to wait on, and a flag cheap enough
/// to read before every event of a stream (the token's own check takes a lock).
#[derive(Debug, Clone, Default)]
pub(crate) struct Halt {
    token: tokio_util::sync::CancellationToken,
    flag: Arc<AtomicBool>,
}

impl Halt {
    /// Whether it was set.
    pub(crate) fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// The token cancelled when it is set, to wait on.
    pub(crate) fn token(&self) -> &tokio_util::sync::CancellationToken {
        &self.token
    }

    fn set(&self) {
        self.flag.store(true, Ordering::Release);
        self.token.cancel();
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("base_url", &self.base_url)
            .field(
                "api_key",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The shared state of a new client.
    pub(crate) fn new(
        base_url: String,
        http: reqwest::Client,
        authorization: Option<HeaderValue>,
        user_agent: HeaderValue,
        max_concurrent: Option<usize>,
        connect_timeout: Option<Duration>,
        direct: Option<Direct>,
    ) -> Self {
        Self {
            base_url,
            http: Mutex::new(Some(http)),
            closed: AtomicBool::new(false),
            authorization,
            user_agent,
            deprecation: Mutex::new(None),
            deprecation_warned: AtomicBool::new(false),
            limiter: max_concurrent.map(|n| Arc::new(tokio::sync::Semaphore::new(n))),
            connect_timeout,
            direct,
            counters: Counters::default(),
            cancel: Halt::default(),
        }
    }

    /// Records a deprecation notice from response headers; warns once per client.
    pub(crate) fn note_deprecation(&self, headers: &HeaderMap) {
        let Some(message) = deprecation_notice(headers) else {
            return;
        };
        if !self.deprecation_warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(target: "bookwyrm", %message, "the BookWyrm API deprecates this client version");
        }
        *self.deprecation.lock().expect("deprecation lock") = Some(message);
    }

    /// The last deprecation notice the server sent.
    pub(crate) fn deprecation_notice(&self) -> Option<String> {
        self.deprecation.lock().expect("deprecation lock").clone()
    }

    /// How this client's requests were carried so far.
    pub(crate) fn transport_stats(&self) -> super::TransportStats {
        let idle = self.direct.as_ref().map_or(0, Direct::idle_connections);
        self.counters.snapshot(idle)
    }

    /// Whether the client was closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The direct stream transport, when this client uses it.
    pub(crate) fn direct(&self) -> Option<&Direct> {
        self.direct.as_ref()
    }

    pub(crate) fn http(&self) -> Result<reqwest::Client, BookWyrmClientError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(BookWyrmClientError::closed());
        }
        self.http
            .lock()
            .expect("http lock")
            .clone()
            .ok_or_else(BookWyrmClientError::closed)
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.http.lock().expect("http lock").take();
        if let Some(direct) = &self.direct {
            direct.close();
        }
        if let Some(limiter) = &self.limiter {
            limiter.close(); // calls waiting for a slot fail as closed
        }
    }

    /// A slot under the concurrency cap (none needed without a cap).
    pub(crate) async fn permit(
        &self,
        wait_at_most: Option<Duration>,
    ) -> Result<Option<Arc<tokio::sync::OwnedSemaphorePermit>>, BookWyrmClientError> {
        let Some(limiter) = &self.limiter else {
            return Ok(None);
        };
        if let Ok(p) = limiter.clone().try_acquire_owned() {
            return Ok(Some(Arc::new(p)));
        }
        let started = std::time::Instant::now();
        let acquire = limiter.clone().acquire_owned();
        let permit = match wait_at_most {
            Some(limit) => match tokio::time::timeout(limit, acquire).await {
                Ok(p) => p,
                Err(_) => {
                    tracing::warn!(
                        target: "bookwyrm",
                        waited_ms = limit.as_millis() as u64,
                        "no concurrency slot came free in time; the call was not sent"
                    );
                    return Err(BookWyrmClientError::timeout(TimeoutKind::Slot, Some(limit)));
                }
            },
            None => acquire.await,
        }
        .map_err(|_| BookWyrmClientError::closed())?;
        tracing::debug!(
            target: "bookwyrm",
            waited_ms = started.elapsed().as_millis() as u64,
            "waited for a concurrency slot"
        );
        crate::telemetry::slot_waited(started.elapsed());
        Ok(Some(Arc::new(permit)))
    }

    /// The signal that ends work in flight ([`Self::close_now`]).
    pub(crate) fn cancelled(&self) -> &Halt {
        &self.cancel
    }

    /// Closes the client and ends its work in flight.
    pub(crate) fn close_now(&self) {
        self.close();
        self.cancel.set();
    }
}
