//! The watchdog layer: what ends or breaks a stream from outside its bytes. The idle timeout
//! (the longest silence), the stream's deadline, the client's `close_now`, and the stream's
//! own [`StreamCanceller`].

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;

use crate::error::{BookWyrmClientError, CancelledError, TimeoutKind};
use crate::transport::Halt;

use super::cancel::StreamCanceller;

/// The timers and the cancellation of one stream.
pub(super) struct Watchdog {
    idle_timeout: Option<Duration>,
    idle: Option<Pin<Box<Sleep>>>,
    /// Whether `idle` counts from the last byte received (re-armed lazily, so a busy stream
    /// does not touch the timer for every chunk).
    armed: bool,
    /// Cancelled by the client's `close_now`: the stream ends with `Closed`.
    cancel: Option<Halt>,
    /// This stream's own canceller, once asked for: the stream ends with `Cancelled`.
    own: Option<StreamCanceller>,
    /// Waits for `own`'s token (a child of `cancel`'s) or else `cancel`, armed when the
    /// stream waits.
    cancelled: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    /// The stream's total deadline and its length.
    deadline: Option<(Pin<Box<Sleep>>, Duration)>,
}

impl Watchdog {
    /// A watchdog with this idle timeout (none: a silence may last for ever).
    pub(super) fn new(idle_timeout: Option<Duration>) -> Self {
        Self {
            idle_timeout,
            idle: None,
            armed: false,
            cancel: None,
            own: None,
            cancelled: None,
            deadline: None,
        }
    }

    /// The stream's canceller (made on the first call; its token a child of the client's, so
    /// that one wait serves both).
    pub(super) fn canceller(&mut self) -> StreamCanceller {
        if let Some(own) = &self.own {
            return own.clone();
        }
        let token = self
            .cancel
            .as_ref()
            .map_or_else(Default::default, |c| c.token().child_token());
        let own = StreamCanceller::new(token);
        self.own = Some(own.clone());
        self.cancelled = None; // the next wait is on the new token
        own
    }

    /// Ends the stream with `Closed` when `cancel` is set, and at `deadline` (an instant and
    /// the configured length).
    pub(super) fn ending_with(&mut self, cancel: Halt, deadline: Option<(Instant, Duration)>) {
        self.cancel = Some(cancel);
        self.deadline = deadline.map(|(at, d)| (Box::pin(tokio::time::sleep_until(at)), d));
    }

    /// Whether the stream must end now, checked without registering for a wake-up.
    pub(super) fn due(&self) -> bool {
        self.own.as_ref().is_some_and(StreamCanceller::is_cancelled)
            || self.cancel.as_ref().is_some_and(Halt::is_set)
            || self.deadline.as_ref().is_some_and(|(s, _)| s.is_elapsed())
    }

    /// The error of a stream cancelled (its own reason first) or closed, after `delivered`
    /// items.
    fn stopped(&self, delivered: u64) -> Option<BookWyrmClientError> {
        if let Some(reason) = self.own.as_ref().and_then(StreamCanceller::reason) {
            let cancelled = CancelledError::new(reason, delivered);
            return Some(BookWyrmClientError::Cancelled(Box::new(cancelled)));
        }
        let closed = self.cancel.as_ref().is_some_and(Halt::is_set);
        closed.then(BookWyrmClientError::closed_in_flight)
    }

    /// The error that ends the stream now, after `delivered` items, if it was cancelled, its
    /// client was closed with `close_now`, or its deadline passed; registers `cx` for all.
    pub(super) fn ending(
        &mut self,
        cx: &mut Context<'_>,
        delivered: u64,
    ) -> Option<BookWyrmClientError> {
        if let Some(stopped) = self.stopped(delivered) {
            return Some(stopped);
        }
        let token = (self.own.as_ref().map(StreamCanceller::token))
            .or_else(|| self.cancel.as_ref().map(Halt::token));
        if let Some(token) = token {
            let waiting = self
                .cancelled
                .get_or_insert_with(|| Box::pin(token.clone().cancelled_owned()));
            if waiting.as_mut().poll(cx).is_ready() {
                let stopped = self.stopped(delivered);
                return Some(stopped.unwrap_or_else(BookWyrmClientError::closed_in_flight));
            }
        }
        let (sleep, d) = self.deadline.as_mut()?;
        if sleep.as_mut().poll(cx).is_pending() {
            return None;
        }
        tracing::warn!(target: "bookwyrm", deadline_ms = d.as_millis() as u64, "the stream's deadline passed");
        Some(BookWyrmClientError::timeout(
            TimeoutKind::StreamDeadline,
            Some(*d),
        ))
    }

    /// The body is waiting: `Ready` with the idle timeout's error when the silence has lasted
    /// too long (`fresh`: bytes arrived since the last wait, so the silence starts now).
    pub(super) fn poll_idle(
        &mut self,
        cx: &mut Context<'_>,
        fresh: bool,
    ) -> Poll<BookWyrmClientError> {
        let Some(limit) = self.idle_timeout else {
            return Poll::Pending;
        };
        let sleep = self
            .idle
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if fresh || !self.armed {
            sleep.as_mut().reset(Instant::now() + limit);
            self.armed = true;
        }
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.armed = false;
                Poll::Ready(BookWyrmClientError::timeout(TimeoutKind::Idle, Some(limit)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// A new body: its silence is counted from its own start.
    pub(super) fn restart_idle(&mut self) {
        self.armed = false;
    }

    /// The stream ended: nothing more to watch.
    pub(super) fn stop(&mut self) {
        self.idle = None;
        self.cancel = None;
        self.own = None;
        self.cancelled = None;
        self.deadline = None;
    }
}
