//! Counters of how a client's requests were carried, for diagnostics and tests.

use std::sync::atomic::{AtomicU64, Ordering};

/// How a client's requests were carried: how many each path took — the direct transport
/// (hyper's HTTP/1 connection, driven by the task that reads the response, kept between
/// requests) or the general HTTP client (multipart uploads, and everything when a proxy
/// intercepts the destination, an HTTP client of your own is used, or
/// [`direct_streams(false)`](crate::ClientBuilder::direct_streams)) — and how many connections
/// and TLS sessions the direct transport set up and reused. Counts every attempt, retries
/// included. A snapshot: read it again to see later requests.
///
/// ```
/// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
/// use bookwyrm::{AsyncBookWyrmClient, PhrasalRequest};
/// let client = AsyncBookWyrmClient::new()?;
/// let spans = client
///     .stream_process_text(PhrasalRequest::from_text("One. Two."))
///     .await?
///     .collect_phrases()
///     .await?;
/// let stats = client.transport_stats();
/// println!("{} phrases; direct {}, general {}", spans.len(), stats.direct, stats.general);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportStats {
    /// Requests sent over the direct stream transport.
    pub direct: u64,
    /// Requests sent through the general HTTP client (today reqwest; which one is not part
    /// of the SDK's promise).
    pub general: u64,
    /// Connections the direct transport opened (TCP connects that succeeded).
    pub connections: u64,
    /// TLS sessions the direct transport set up (handshakes completed).
    pub tls_handshakes: u64,
    /// Requests the direct transport sent on a connection kept from an earlier request.
    pub reused: u64,
    /// Connections waiting in the pool now, for the next request.
    pub idle: u64,
}

/// The live counters behind [`TransportStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    direct: AtomicU64,
    reqwest: AtomicU64,
    connections: AtomicU64,
    tls_handshakes: AtomicU64,
    reused: AtomicU64,
}

impl Counters {
    pub(crate) fn sent_direct(&self) {
        self.direct.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn sent_via_reqwest(&self) {
        self.reqwest.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn connected(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn tls_handshake(&self) {
        self.tls_handshakes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn reused(&self) {
        self.reused.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters, with `idle` connections in the pool now.
    pub(crate) fn snapshot(&self, idle: usize) -> TransportStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TransportStats {
            direct: get(&self.direct),
            general: get(&self.reqwest),
            connections: get(&self.connections),
            tls_handshakes: get(&self.tls_handshakes),
            reused: get(&self.reused),
            idle: idle as u64,
        }
    }
}
