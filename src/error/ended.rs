//! The errors of work ended on purpose: the client closed ([`ClosedError`]) or one stream
//! cancelled by its caller ([`CancelledError`]). Both say where the call had got to.

use std::fmt;

use super::CallInfo;

/// The client was closed: before the call ([`close`](crate::AsyncBookWyrmClient::close), no
/// request went out: no request id, 0 attempts), or by
/// [`close_now`](crate::AsyncBookWyrmClient::close_now) while the call or stream was in flight
/// (then with the request id of the response whose head had arrived, and the attempts made).
///
/// ```
/// use bookwyrm::{BookWyrmClientError, ClosedError};
/// let before = BookWyrmClientError::Closed(ClosedError::default());
/// assert_eq!((before.request_id(), before.attempts()), (None, 0));
/// assert_eq!(before.to_string(), "the client is closed");
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ClosedError {
    pub(crate) info: CallInfo,
    in_flight: bool,
}

impl ClosedError {
    /// Closed by `close_now` while the call or stream was in flight.
    pub(crate) fn in_flight() -> Self {
        Self {
            info: CallInfo::default(),
            in_flight: true,
        }
    }

    /// Whether the call was in flight (`close_now`) rather than refused before it started.
    ///
    /// ```
    /// assert!(!bookwyrm::ClosedError::default().was_in_flight());
    /// ```
    pub fn was_in_flight(&self) -> bool {
        self.in_flight
    }
}

impl fmt::Display for ClosedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.in_flight {
            f.write_str("the client was closed while the call was in flight")
        } else {
            f.write_str("the client is closed")
        }
    }
}

/// One stream was ended by its caller through its
/// [`StreamCanceller`](crate::StreamCanceller), with the caller's reason: the stream's last
/// item. Its connection is closed; other streams of the client go on.
///
/// ```
/// # async fn run(stream: bookwyrm::EventStream<bookwyrm::PhrasalStreamEvent>) {
/// # let mut stream = stream;
/// stream.canceller().cancel("the caller went away");
/// match stream.next().await {
///     Some(Err(bookwyrm::BookWyrmClientError::Cancelled(c))) => {
///         assert_eq!(c.reason(), "the caller went away");
///         eprintln!("{c} (request {:?}, {} events)", c.request_id(), c.delivered());
///     }
///     other => unreachable!("{other:?}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CancelledError {
    reason: String,
    delivered: u64,
    pub(crate) info: CallInfo,
}

impl CancelledError {
    pub(crate) fn new(reason: &str, delivered: u64) -> Self {
        Self {
            reason: reason.to_string(),
            delivered,
            info: CallInfo::default(),
        }
    }

    /// The reason the caller gave to [`StreamCanceller::cancel`](crate::StreamCanceller::cancel).
    ///
    /// ```
    /// # fn f(c: &bookwyrm::CancelledError) {
    /// tracing::info!(reason = c.reason(), "stream cancelled");
    /// # }
    /// ```
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The request id of the stream's response, when its head had arrived.
    ///
    /// ```
    /// # fn f(c: &bookwyrm::CancelledError) {
    /// eprintln!("cancelled request {:?}", c.request_id());
    /// # }
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        self.info.request_id.as_deref()
    }

    /// How many items the stream had handed out before it was cancelled.
    ///
    /// ```
    /// # fn f(c: &bookwyrm::CancelledError) {
    /// eprintln!("{} events arrived before the cancel", c.delivered());
    /// # }
    /// ```
    pub fn delivered(&self) -> u64 {
        self.delivered
    }
}

impl fmt::Display for CancelledError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let events = super::events(self.delivered);
        write!(
            f,
            "the stream was cancelled after {} {events}: {}",
            self.delivered, self.reason
        )
    }
}
