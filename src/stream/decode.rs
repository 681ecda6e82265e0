//! The decoding layer: a response body's bytes -> [`crate::sse`] events -> typed events.
//!
//! It knows nothing of time, retries or resumes: it says what the body gave ([`Step`]) and
//! whether bytes arrived since it was last asked (for the watchdog's idle timer).

use std::task::{Context, Poll};

use bytes::Bytes;

use crate::error::BookWyrmClientError;
use crate::event::{Decoded, StreamEvent};
use crate::reopen::Body;
use crate::sse;

/// What the body gave.
pub(super) enum Step<E> {
    /// A typed event, or one event's data that did not decode (the stream goes on).
    Item(Result<E, BookWyrmClientError>),
    /// The body broke: a transport failure (`retry`: a new attempt may be made before the
    /// first event), or a clean end in the middle of an event.
    Broke {
        error: BookWyrmClientError,
        retry: bool,
    },
    /// The body ended cleanly between events.
    Ended,
    /// The decoder refused the stream (a line or an event over its limit): the end.
    Refused(BookWyrmClientError),
}

/// A body and its SSE decoder.
pub(super) struct Decoding {
    body: Option<Body>,
    decoder: sse::Decoder,
    limits: (usize, usize),
    /// Bytes arrived since [`take_fresh`](Self::take_fresh) was last called.
    fresh: bool,
}

impl Decoding {
    /// Decodes `body` with a decoder of these line and event `limits`.
    pub(super) fn new(body: Body, limits: (usize, usize)) -> Self {
        Self {
            body: Some(body),
            decoder: sse::Decoder::with_limits(limits.0, limits.1),
            limits,
            fresh: false,
        }
    }

    /// Decodes a new body (a new attempt) from its start.
    pub(super) fn replace(&mut self, body: Body) {
        self.body = Some(body);
        self.decoder = sse::Decoder::with_limits(self.limits.0, self.limits.1);
    }

    /// Drops the body (which closes its connection).
    pub(super) fn close(&mut self) {
        self.body = None;
    }

    pub(super) fn is_open(&self) -> bool {
        self.body.is_some()
    }

    pub(super) fn last_event_id(&self) -> &str {
        self.decoder.last_event_id()
    }

    /// Whether bytes arrived since the last call.
    pub(super) fn take_fresh(&mut self) -> bool {
        std::mem::take(&mut self.fresh)
    }

    /// The next step; `Pending` when the body has nothing yet. Only called while open.
    pub(super) fn poll_step<E: StreamEvent>(&mut self, cx: &mut Context<'_>) -> Poll<Step<E>> {
        loop {
            match self.decoder.next_event_ref() {
                Ok(Some(event)) => match E::decode(event.event, event.data) {
                    Decoded::Event(item) => return Poll::Ready(Step::Item(item)),
                    Decoded::Ignored => continue,
                },
                Ok(None) => {}
                Err(e) => {
                    let error = BookWyrmClientError::decode(
                        "the event stream",
                        Bytes::new(),
                        Some(Box::new(e)),
                    );
                    return Poll::Ready(Step::Refused(error));
                }
            }
            let Some(body) = self.body.as_mut() else {
                return Poll::Ready(Step::Ended);
            };
            match body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    self.fresh = true;
                    self.decoder.feed(chunk);
                }
                Poll::Ready(Some(Err(error))) => {
                    return Poll::Ready(Step::Broke { error, retry: true })
                }
                Poll::Ready(None) => return Poll::Ready(self.ended()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The body ended. An event not ended by a blank line is not dispatched (WHATWG), but it
    /// is not dropped silently either: the stream broke in the middle of it.
    fn ended<E>(&mut self) -> Step<E> {
        match self.decoder.unfinished() {
            Some(raw) => Step::Broke {
                error: BookWyrmClientError::decode(
                    "the event stream: it ended in the middle of an event",
                    Bytes::from(raw),
                    None,
                ),
                retry: false,
            },
            None => Step::Ended,
        }
    }
}
