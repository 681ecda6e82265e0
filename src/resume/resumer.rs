//! What every operation's resumer answers ([`Resumer`]): what becomes of each event
//! ([`Accept`]) and how an interrupted stream goes on ([`Plan`]).

use crate::error::ResumePoint;
use crate::reopen::Reopen;

/// What an operation's resumer makes of an event of the stream.
pub(crate) enum Accept<E> {
    /// A new result (a page, a span): handed out, and the resumes in a row start again.
    New(E),
    /// Handed out, but not new work (progress, metadata, unknown events).
    Pass(E),
    /// Already delivered before a resume (a repeat, checked): not handed out again.
    Hold,
    /// The resumed request answered differently from what was delivered.
    Diverged(String),
}

/// How an interrupted stream goes on.
pub(crate) enum Plan<E> {
    /// A new request for the rest.
    Reopen(Reopen),
    /// Nothing is missing but the final event: this one (if any) ends the stream.
    Finish(Option<E>),
    /// It cannot go on by itself.
    Cannot(&'static str),
}

/// How a stream interruption came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Break {
    /// The connection failed or went silent.
    Failed,
    /// The response ended cleanly before the operation's end.
    EndedEarly,
}

/// One operation's resume logic (see the module documentation).
pub(crate) trait Resumer<E>: Send {
    /// An event from the server, before the caller sees it.
    fn accept(&mut self, event: E) -> Accept<E>;
    /// Whether the operation's work is all delivered (its final event, or all of its text):
    /// a clean end of the response is then the end of the stream.
    fn complete(&self) -> bool;
    /// The stream was interrupted: what to do.
    fn plan(&mut self, how: Break) -> Plan<E>;
    /// Where the stream stopped.
    fn point(&self) -> ResumePoint;
}

/// A resumer for an operation that cannot resume: every interruption ends the stream with
/// [`Interrupted`](crate::Interrupted) and `why`.
pub(crate) struct NotResumable(pub(crate) &'static str);

impl<E> Resumer<E> for NotResumable {
    fn accept(&mut self, event: E) -> Accept<E> {
        Accept::New(event)
    }
    fn complete(&self) -> bool {
        true
    }
    fn plan(&mut self, _: Break) -> Plan<E> {
        Plan::Cannot(self.0)
    }
    fn point(&self) -> ResumePoint {
        ResumePoint::None
    }
}
