//! Going on by starting again: a stream whose work has no point to resume from (classify, and
//! summarize when the policy allows it) is asked for again whole. Its progress is held back
//! until it passes what was delivered, so it never goes backwards; the final event is handed
//! out once.

use crate::error::ResumePoint;
use crate::reopen::Reopen;
use crate::resume::resumer::{Accept, Break, Plan, Resumer};
use crate::types::{ClassifyStreamEvent, SummarizeStreamEvent};

/// What a restartable stream's events are to a restart.
pub(crate) trait Restartable: Sized + Send + 'static {
    /// The operation's final event (its result).
    fn is_final(&self) -> bool;
    /// A progress event's position, compared in order (`None`: not progress).
    fn progress(&self) -> Option<[u64; 3]>;
}

impl Restartable for ClassifyStreamEvent {
    fn is_final(&self) -> bool {
        matches!(self, Self::Classification(_))
    }
    fn progress(&self) -> Option<[u64; 3]> {
        match self {
            Self::Progress(p) => Some([p.bytes_processed, p.chunks_processed, 0]),
            _ => None,
        }
    }
}

impl Restartable for SummarizeStreamEvent {
    fn is_final(&self) -> bool {
        matches!(self, Self::Summary(_))
    }
    fn progress(&self) -> Option<[u64; 3]> {
        match self {
            Self::Progress(p) => Some([p.current_level, p.chunks_processed, p.summaries_created]),
            _ => None,
        }
    }
}

/// Starts a stream again (see the module documentation).
pub(crate) struct Restart {
    request: Box<dyn Fn() -> Reopen + Send>,
    finished: bool,
    restarted: bool,
    delivered: bool,
    progress: Option<[u64; 3]>,
}

impl Restart {
    /// Restarts with `request`.
    pub(crate) fn with(request: Box<dyn Fn() -> Reopen + Send>) -> Self {
        Self {
            request,
            finished: false,
            restarted: false,
            delivered: false,
            progress: None,
        }
    }
}

impl<E: Restartable> Resumer<E> for Restart {
    fn accept(&mut self, event: E) -> Accept<E> {
        self.delivered = true;
        if event.is_final() {
            self.finished = true;
            return Accept::Deliver(event);
        }
        match event.progress() {
            // A restart's progress, until it passes what was delivered.
            Some(at) if self.restarted && self.progress.is_some_and(|last| at <= last) => {
                Accept::Hold
            }
            Some(at) => {
                self.progress = Some(at);
                Accept::Deliver(event)
            }
            None => Accept::Deliver(event),
        }
    }

    fn complete(&self) -> bool {
        self.finished
    }

    fn plan(&mut self, _: Break) -> Plan<E> {
        if self.finished {
            return Plan::Finish(None);
        }
        self.restarted = true;
        Plan::Reopen((self.request)())
    }

    fn reached(&self) -> u64 {
        0 // starting again is never progress
    }

    fn point(&self) -> ResumePoint {
        if self.delivered {
            ResumePoint::None
        } else {
            ResumePoint::Start
        }
    }
}
