//! The telemetry layer: an observer of what the stream hands out and how it recovers. It
//! changes nothing it sees.

use std::task::Poll;

use crate::error::BookWyrmClientError;
use crate::telemetry::StreamMeter;

/// Reports one stream's metrics (feature `metrics`) when set.
#[derive(Default)]
pub(super) struct Telemetry {
    meter: Option<StreamMeter>,
}

impl Telemetry {
    pub(super) fn measured(meter: StreamMeter) -> Self {
        Self { meter: Some(meter) }
    }

    /// An item was handed out (or the end).
    pub(super) fn item<E>(&mut self, item: &Poll<Option<Result<E, BookWyrmClientError>>>) {
        let (Poll::Ready(item), Some(meter)) = (item, &mut self.meter) else {
            return;
        };
        match item {
            Some(Ok(_)) => meter.event(),
            Some(Err(e)) if e.ends_stream() => meter.end(Some(e)),
            Some(Err(_)) => {}
            None => meter.end(None),
        }
    }

    /// The stream is retried (before its first event).
    pub(super) fn retried(&self) {
        if let Some(meter) = &self.meter {
            crate::telemetry::retried(meter.operation());
        }
    }

    /// The stream resumes (after events).
    pub(super) fn resumed(&self) {
        if let Some(meter) = &self.meter {
            crate::telemetry::resumed(meter.operation());
        }
    }
}
