//! Retries that never duplicate: which failures are retried, how long to wait, and when a
//! server's `Retry-After` is too long to sleep through.
//!
//! A call is retried on connect failures, connection resets before any response byte reached
//! the caller, and statuses 408, 429, 500, 502, 503 and 504 (never on a TLS failure: an
//! untrusted certificate stays untrusted); with exponential backoff and
//! jitter, or the server's `retry-after-ms` / `Retry-After` when it gives one. A stream is
//! retried only while none of its events has been handed to the caller. Which failures are
//! retried here comes from the one classification in `error.rs` (`RetryClass`), the same that
//! answers [`BookWyrmClientError::is_retryable`].

use std::time::Duration;

use crate::error::{BookWyrmClientError, RetryClass};

/// How a client retries.
///
/// ```
/// use std::time::Duration;
/// use bookwyrm::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_retries(4)
///     .initial_backoff(Duration::from_millis(200));
/// assert_eq!((policy.max_retries, policy.initial_backoff), (4, Duration::from_millis(200)));
/// assert_eq!(RetryPolicy::none().max_retries, 0);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[must_use = "a policy does nothing until a client is built with it"]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2; 0 turns retries off).
    pub max_retries: u32,
    /// Wait before the first retry (default 0.5 s); doubles each retry.
    pub initial_backoff: Duration,
    /// Longest backoff (default 8 s).
    pub max_backoff: Duration,
    /// Longest server-requested wait (`Retry-After`) that is slept through (default 60 s); a
    /// longer one is returned at once as the error, with its `retry_after()`.
    pub max_retry_after: Duration,
    /// Randomise each backoff down by up to a quarter (default on), so that many clients do
    /// not retry in step.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries.
    ///
    /// ```
    /// let client = bookwyrm::AsyncBookWyrmClient::builder()
    ///     .retry_policy(bookwyrm::RetryPolicy::none())
    ///     .build()
    ///     .unwrap();
    /// # drop(client);
    /// ```
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Sets [`max_retries`](Self::max_retries): retries after the first attempt.
    ///
    /// ```
    /// assert_eq!(bookwyrm::RetryPolicy::default().max_retries(5).max_retries, 5);
    /// ```
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets [`initial_backoff`](Self::initial_backoff): the wait before the first retry.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = bookwyrm::RetryPolicy::default().initial_backoff(Duration::from_millis(100));
    /// assert_eq!(p.backoff(1), Duration::from_millis(200));
    /// ```
    pub fn initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = wait;
        self
    }

    /// Sets [`max_backoff`](Self::max_backoff): the longest backoff.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = bookwyrm::RetryPolicy::default().max_backoff(Duration::from_secs(1));
    /// assert_eq!(p.backoff(10), Duration::from_secs(1));
    /// ```
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// Sets [`max_retry_after`](Self::max_retry_after): the longest `Retry-After` slept
    /// through.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = bookwyrm::RetryPolicy::default().max_retry_after(Duration::from_secs(5));
    /// assert_eq!(p.max_retry_after, Duration::from_secs(5));
    /// ```
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Sets [`jitter`](Self::jitter): whether each backoff is randomised down by up to a
    /// quarter.
    ///
    /// ```
    /// assert!(!bookwyrm::RetryPolicy::default().jitter(false).jitter);
    /// ```
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// The wait before retry (or resume) number `retry` (0-based): the backoff, less up to a
    /// quarter of it at random when `jitter` is on.
    pub(crate) fn jittered(&self, retry: u32) -> Duration {
        let delay = self.backoff(retry);
        if self.jitter {
            delay.mul_f64(1.0 - unit_random() * 0.25)
        } else {
            delay
        }
    }

    /// The backoff before retry number `retry` (0-based), before jitter.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = bookwyrm::RetryPolicy::default();
    /// assert_eq!(p.backoff(0), Duration::from_millis(500));
    /// assert_eq!(p.backoff(1), Duration::from_secs(1));
    /// assert_eq!(p.backoff(10), Duration::from_secs(8));
    /// ```
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(30));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// A random number in `[0, 1)` for jitter (not for anything secret): std's per-hasher random
/// keys, so the SDK needs no random-number crate.
fn unit_random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether to retry after a failure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Wait this long, then try again.
    Retry { delay: Duration, reason: String },
    /// Give up: return the error.
    Stop,
}

/// Decides after `error` on attempt `attempt` (0-based).
pub(crate) fn decide(policy: &RetryPolicy, error: &BookWyrmClientError, attempt: u32) -> Decision {
    if attempt >= policy.max_retries {
        return Decision::Stop;
    }
    if error.retry_class() != RetryClass::Automatic {
        return Decision::Stop;
    }
    let reason = match error {
        BookWyrmClientError::Api(api) => {
            if let Some(wait) = api.retry_after() {
                if wait > policy.max_retry_after {
                    return Decision::Stop;
                }
                return Decision::Retry {
                    delay: wait,
                    reason: format!("status {} (Retry-After {wait:?})", api.status_code()),
                };
            }
            format!("status {}", api.status_code())
        }
        BookWyrmClientError::Transport(t) => format!("transport: {t}"),
        other => other.to_string(),
    };
    Decision::Retry {
        delay: policy.jittered(attempt),
        reason,
    }
}

/// Records how many attempts an error took.
pub(crate) fn with_attempts(error: BookWyrmClientError, attempts: u32) -> BookWyrmClientError {
    error.with_call(None, attempts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{BookWyrmApiError, ServerError, TimeoutKind, TransportKind};

    /// Jitter spreads: every backoff within its quarter, and spread over it (many clients do
    /// not retry in step).
    #[test]
    fn jitter_spreads_within_a_quarter() {
        let policy = RetryPolicy::default();
        let full = policy.backoff(0);
        let waits: Vec<Duration> = (0..400).map(|_| policy.jittered(0)).collect();
        assert!(waits.iter().all(|w| *w <= full && *w > full.mul_f64(0.75)));
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(distinct.len() > 300, "{} distinct waits", distinct.len());
        let low = waits.iter().filter(|w| **w < full.mul_f64(0.875)).count();
        assert!((120..=280).contains(&low), "{low} of 400 in the lower half");
        assert_eq!(policy.jitter(false).jittered(0), full);
    }

    fn api(status: u16) -> BookWyrmClientError {
        BookWyrmClientError::Api(Box::new(BookWyrmApiError {
            status,
            message: String::new(),
            body: String::new(),
            json: None,
            request_id: None,
            retry_after: None,
            attempts: 1,
        }))
    }

    fn samples() -> Vec<BookWyrmClientError> {
        let io = || std::io::Error::other("x");
        let mut all: Vec<BookWyrmClientError> = (400..=599).map(api).collect();
        for kind in [
            TransportKind::Connect,
            TransportKind::Tls,
            TransportKind::Other,
        ] {
            all.push(BookWyrmClientError::transport_of(kind, "c", io()));
        }
        for kind in [TimeoutKind::Connect, TimeoutKind::Idle, TimeoutKind::Total] {
            all.push(BookWyrmClientError::timeout(kind, None));
        }
        for recoverable in [true, false] {
            let e = ServerError::new("error", "m", None, recoverable);
            all.push(BookWyrmClientError::ServerEvent(Box::new(e)));
        }
        all.push(BookWyrmClientError::validation("f", "m"));
        all.push(BookWyrmClientError::closed());
        all.push(BookWyrmClientError::Cancelled(Box::new(
            crate::error::CancelledError::new("r", 1),
        )));
        #[cfg(feature = "blocking")]
        all.push(BookWyrmClientError::BlockingInAsyncContext);
        all
    }

    /// What the client retries by itself is always what `is_retryable` advises retrying, and
    /// the automatic set is exactly the documented one.
    #[test]
    fn automatic_retries_are_a_subset_of_is_retryable() {
        let policy = RetryPolicy::default().jitter(false);
        let mut retried = Vec::new();
        for e in samples() {
            if let Decision::Retry { .. } = decide(&policy, &e, 0) {
                assert!(e.is_retryable(), "retried but not retryable: {e}");
                retried.push(
                    e.status_code()
                        .map_or_else(|| format!("{e:?}"), |s| s.to_string()),
                );
            }
            if let BookWyrmClientError::Api(a) = &e {
                assert_eq!(a.is_retryable(), e.is_retryable(), "{e}");
            }
        }
        let statuses: Vec<&str> = retried.iter().take(6).map(String::as_str).collect();
        assert_eq!(statuses, ["408", "429", "500", "502", "503", "504"]);
        assert_eq!(retried.len(), 6 + 2 + 1, "{retried:?}"); // + connect, other transport; connect timeout
        assert!(retried[6].contains("Connect") && retried[7].contains("Other"));
        assert!(retried[8].contains("Timeout"));
        // Advised but left to the caller.
        for e in [api(409), api(501), api(599)] {
            assert!(e.is_retryable() && decide(&policy, &e, 0) == Decision::Stop);
        }
        assert!(!api(404).is_retryable() && !api(422).is_retryable());
        // Nothing after the policy's last attempt.
        assert_eq!(
            decide(&policy, &api(503), policy.max_retries),
            Decision::Stop
        );
    }
}
