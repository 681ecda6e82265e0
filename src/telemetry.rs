//! Metrics of calls and streams for the user's own telemetry, through the `metrics` facade
//! (feature `metrics`; the application installs the recorder and exporter it likes). Without
//! the feature every function here is empty.
//!
//! | name | kind | unit | labels |
//! |---|---|---|---|
//! | `bookwyrm.client.request.duration` | histogram | s | `operation`, `streaming`, `outcome` |
//! | `bookwyrm.client.stream.time_to_first_event` | histogram | s | `operation` |
//! | `bookwyrm.client.stream.events` | counter | events | `operation` |
//! | `bookwyrm.client.retries` | counter | retries | `operation` |
//! | `bookwyrm.client.stream.resumes` | counter | resumes | `operation` |
//! | `bookwyrm.client.slot.wait.duration` | histogram | s | |
//!
//! `outcome` is `ok`, or the kind of error: `api_<status>`, `transport`, `timeout`, `decode`,
//! `server_event`, `interrupted`, `closed`, `cancelled` (a stream ended through its
//! [`StreamCanceller`](crate::StreamCanceller)), `validation`; for a stream dropped before its end, `dropped`. A
//! stream's duration runs from its call to its end
//! (or its drop); its events are counted once, when it ends.

use std::time::{Duration, Instant};

use crate::error::BookWyrmClientError;

/// The `outcome` label of a result.
fn outcome(error: Option<&BookWyrmClientError>) -> String {
    match error {
        None => "ok".into(),
        Some(BookWyrmClientError::Api(a)) => format!("api_{}", a.status_code()),
        Some(BookWyrmClientError::Transport(_)) => "transport".into(),
        Some(BookWyrmClientError::Timeout(_)) => "timeout".into(),
        Some(BookWyrmClientError::Decode(_)) => "decode".into(),
        Some(BookWyrmClientError::ServerEvent(_)) => "server_event".into(),
        Some(BookWyrmClientError::Interrupted(_)) => "interrupted".into(),
        Some(BookWyrmClientError::Closed(_)) => "closed".into(),
        Some(BookWyrmClientError::Cancelled(_)) => "cancelled".into(),
        Some(_) => "validation".into(),
    }
}

/// A call of `operation` took `elapsed` and ended with `error` (none: it succeeded).
pub(crate) fn call_done(
    operation: &'static str,
    streaming: bool,
    elapsed: Duration,
    error: Option<&BookWyrmClientError>,
) {
    record_call(operation, streaming, elapsed, outcome(error));
}

fn record_call(operation: &'static str, streaming: bool, elapsed: Duration, outcome: String) {
    #[cfg(feature = "metrics")]
    metrics::histogram!(
        "bookwyrm.client.request.duration",
        "operation" => operation,
        "streaming" => if streaming { "true" } else { "false" },
        "outcome" => outcome,
    )
    .record(elapsed.as_secs_f64());
    #[cfg(not(feature = "metrics"))]
    let _ = (operation, streaming, elapsed, outcome);
}

/// A call of `operation` is tried again.
pub(crate) fn retried(operation: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("bookwyrm.client.retries", "operation" => operation).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = operation;
}

/// A stream of `operation` resumed after a break.
pub(crate) fn resumed(operation: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("bookwyrm.client.stream.resumes", "operation" => operation).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = operation;
}

/// A call waited `waited` for a concurrency slot.
pub(crate) fn slot_waited(waited: Duration) {
    #[cfg(feature = "metrics")]
    metrics::histogram!("bookwyrm.client.slot.wait.duration").record(waited.as_secs_f64());
    #[cfg(not(feature = "metrics"))]
    let _ = waited;
}

/// What one stream measures as it is read; reported once, when it ends or is dropped.
#[derive(Debug)]
pub(crate) struct StreamMeter {
    operation: &'static str,
    started: Instant,
    events: u64,
    first_seen: bool,
    ended: bool,
}

impl StreamMeter {
    /// A stream of `operation` called at `started`.
    pub(crate) fn new(operation: &'static str, started: Instant) -> Self {
        Self {
            operation,
            started,
            events: 0,
            first_seen: false,
            ended: false,
        }
    }

    /// The operation measured.
    pub(crate) fn operation(&self) -> &'static str {
        self.operation
    }

    /// An event was handed to the caller.
    pub(crate) fn event(&mut self) {
        self.events += 1;
        if !self.first_seen {
            self.first_seen = true;
            #[cfg(feature = "metrics")]
            metrics::histogram!(
                "bookwyrm.client.stream.time_to_first_event",
                "operation" => self.operation,
            )
            .record(self.started.elapsed().as_secs_f64());
        }
    }

    /// The stream ended, with `error` as its last item (none: a clean end).
    pub(crate) fn end(&mut self, error: Option<&BookWyrmClientError>) {
        self.end_with(outcome(error));
    }

    fn end_with(&mut self, outcome: String) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        record_call(self.operation, true, self.started.elapsed(), outcome);
        #[cfg(feature = "metrics")]
        metrics::counter!("bookwyrm.client.stream.events", "operation" => self.operation)
            .increment(self.events);
    }
}

impl Drop for StreamMeter {
    /// A stream dropped before its end: outcome `dropped`.
    fn drop(&mut self) {
        self.end_with("dropped".into());
    }
}
