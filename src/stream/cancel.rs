//! [`StreamCanceller`]: ends one stream, with a reason its caller chose.

use std::fmt;
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

/// Ends one stream from anywhere (another task, a handler whose HTTP client went away, a
/// deadline of the service's own), with a reason: the stream's next item is
/// [`BookWyrmClientError::Cancelled`](crate::BookWyrmClientError::Cancelled) with that reason,
/// its connection is closed at once, and its metrics record the outcome `cancelled`. Other
/// streams of the client go on. Cheap to clone; `Send` and `Sync`.
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
/// use std::time::Duration;
/// let mut stream = client
///     .stream_process_text(bookwyrm::PhrasalRequest::from_text("One. Two."))
///     .await?;
/// let canceller = stream.canceller();
/// tokio::spawn(async move {
///     tokio::time::sleep(Duration::from_secs(30)).await;
///     canceller.cancel("the service's own 30 s deadline");
/// });
/// while let Some(event) = stream.next().await {
///     println!("{:?}", event?);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct StreamCanceller {
    state: Arc<CancelState>,
}

struct CancelState {
    /// Cancelled with the stream (a child of the client's `close_now` token, when there is
    /// one, so one wait serves both).
    token: CancellationToken,
    /// Set before `token` is cancelled.
    reason: OnceLock<String>,
}

impl StreamCanceller {
    /// A canceller whose token is `token`.
    pub(super) fn new(token: CancellationToken) -> Self {
        Self {
            state: Arc::new(CancelState {
                token,
                reason: OnceLock::new(),
            }),
        }
    }

    /// Ends the stream with `reason`; `false` when it was cancelled already (the first reason
    /// stays). A stream that already ended is not changed.
    ///
    /// ```
    /// let mut stream = bookwyrm::EventStream::<bookwyrm::PhrasalStreamEvent>::from_byte_stream(
    ///     futures_util::stream::pending::<Result<bytes::Bytes, std::io::Error>>(),
    /// );
    /// let canceller = stream.canceller();
    /// assert!(canceller.cancel("not needed any more"));
    /// assert!(!canceller.cancel("twice"));
    /// assert!(canceller.is_cancelled());
    /// ```
    pub fn cancel(&self, reason: impl Into<String>) -> bool {
        let first = self.state.reason.set(reason.into()).is_ok();
        self.state.token.cancel();
        first
    }

    /// Whether [`cancel`](Self::cancel) was called.
    ///
    /// ```
    /// let mut stream = bookwyrm::EventStream::<bookwyrm::PhrasalStreamEvent>::from_byte_stream(
    ///     futures_util::stream::pending::<Result<bytes::Bytes, std::io::Error>>(),
    /// );
    /// assert!(!stream.canceller().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.state.reason.get().is_some()
    }

    /// The reason given, once cancelled.
    pub(super) fn reason(&self) -> Option<&str> {
        self.state.reason.get().map(String::as_str)
    }

    /// The token to wait on.
    pub(super) fn token(&self) -> &CancellationToken {
        &self.state.token
    }
}

impl fmt::Debug for StreamCanceller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamCanceller")
            .field("reason", &self.reason())
            .finish()
    }
}
