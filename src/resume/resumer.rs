//! What every operation's resumer answers ([`Resumer`]): what becomes of each event
//! ([`Accept`]) and how an interrupted stream goes on ([`Plan`]).

use crate::error::ResumePoint;
use crate::reopen::Reopen;

/// What an operation's resumer makes of an event of the stream.
pub(crate) enum Accept<E> {
    /// Handed out (its offsets and counters moved to the whole run's).
    Deliver(E),
    /// Already delivered before a resume (a repeat, checked): not handed out again.
    Hold,
    /// Handed out, but the resumer cannot track the stream from here on (spans that go back,
    /// pages out of order, in an answer that was not resumed): the stream goes on, and is no
    /// longer resumable, for this reason.
    Untracked(E, String),
    /// A resumed request's answer is not an answer to what was asked (or not the same as
    /// what was delivered): going on would repeat or skip results.
    Diverged(String),
}

impl<E> Accept<E> {
    /// An event that does not fit what was asked for (`how`): in an answer to a resume
    /// (`resumed`) the end of the stream as diverged, else the end of its tracking.
    pub(crate) fn refused(resumed: bool, event: E, how: String) -> Self {
        if resumed {
            Self::Diverged(how)
        } else {
            Self::Untracked(event, how)
        }
    }
}

/// How an interrupted stream goes on.
pub(crate) enum Plan<E> {
    /// A new request for the rest.
    Reopen(Reopen),
    /// Nothing is missing but the final event: this one (if any) ends the stream.
    Finish(Option<E>),
    /// It cannot go on by itself, for this reason.
    Cannot(String),
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
    /// How far the work got, in the request's own unit (chunks, code points, pages): a resume
    /// is progress only when this grew since the last one (0 for work that starts over).
    fn reached(&self) -> u64;
}

/// A resumer for an operation that cannot resume: every interruption ends the stream with
/// [`Interrupted`](crate::Interrupted), `why`, and where it stopped.
pub(crate) struct NotResumable {
    why: String,
    point: ResumePoint,
}

impl NotResumable {
    /// Not resumable, for this reason.
    pub(crate) fn because(why: &str) -> Self {
        Self::at(why.to_string(), ResumePoint::None)
    }

    /// No longer resumable, for this reason, from this point on.
    pub(crate) fn at(why: String, point: ResumePoint) -> Self {
        Self { why, point }
    }
}

impl<E> Resumer<E> for NotResumable {
    fn accept(&mut self, event: E) -> Accept<E> {
        Accept::Deliver(event)
    }
    fn complete(&self) -> bool {
        true
    }
    fn plan(&mut self, _: Break) -> Plan<E> {
        Plan::Cannot(self.why.clone())
    }
    fn point(&self) -> ResumePoint {
        self.point.clone()
    }
    fn reached(&self) -> u64 {
        0
    }
}
