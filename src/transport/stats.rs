//! Counters of how a client's requests were carried, for diagnostics and tests.

use std::sync::atomic::{AtomicU64, Ordering};

/// How many requests of one client each path carried: the direct stream transport (the socket
/// read in the task that polls the stream) or reqwest (JSON calls, uploads, and streams when a
/// proxy is configured or [`direct_streams(false)`](crate::ClientBuilder::direct_streams)).
/// Counts every attempt, retries included. A snapshot: read it again to see later requests.
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
/// println!("{} phrases; direct {}, reqwest {}", spans.len(), stats.direct, stats.reqwest);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportStats {
    /// Requests sent over the direct stream transport.
    pub direct: u64,
    /// Requests sent through reqwest.
    pub reqwest: u64,
}

/// The live counters behind [`TransportStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    direct: AtomicU64,
    reqwest: AtomicU64,
}

impl Counters {
    pub(crate) fn sent_direct(&self) {
        self.direct.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn sent_via_reqwest(&self) {
        self.reqwest.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> TransportStats {
        TransportStats {
            direct: self.direct.load(Ordering::Relaxed),
            reqwest: self.reqwest.load(Ordering::Relaxed),
        }
    }
}
