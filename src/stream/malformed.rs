//! [`MalformedEvents`]: where a stream puts the malformed events it skips.

use std::sync::{Arc, Mutex};

use crate::error::BookWyrmClientError;

/// Where a stream put the malformed events it skipped (see
/// [`EventStream::skip_malformed`](crate::EventStream::skip_malformed)): a cheap handle to
/// share with the stream and read afterwards.
///
/// ```
/// let skipped = bookwyrm::MalformedEvents::default();
/// assert!(skipped.is_empty());
/// assert!(skipped.take().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MalformedEvents(Arc<Mutex<Vec<BookWyrmClientError>>>);

impl MalformedEvents {
    /// The problems recorded so far (each a `Decode` error with the raw data), emptied.
    ///
    /// ```
    /// let skipped = bookwyrm::MalformedEvents::default();
    /// for problem in skipped.take() {
    ///     eprintln!("skipped: {problem}");
    /// }
    /// ```
    pub fn take(&self) -> Vec<BookWyrmClientError> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// How many are recorded.
    ///
    /// ```
    /// assert_eq!(bookwyrm::MalformedEvents::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether none is recorded.
    ///
    /// ```
    /// assert!(bookwyrm::MalformedEvents::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn push(&self, error: BookWyrmClientError) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(error);
    }
}
