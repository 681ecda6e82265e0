//! The recovery layer: what a stream does when it breaks. Before its first event it is
//! retried (the retry policy); after, its operation's [`Resumer`] asks for the rest (the
//! resume policy). Every new request a stream makes, retry or resume, is paid from one budget
//! ([`ResumePolicy::max_recoveries`]); a resume counts as progress only when the resumer's
//! resume point moved forward inside the request, and [`ResumePolicy::max_resumes`] resumes
//! in a row without progress end the stream. Events pass through the resumer, which checks
//! that a resumed answer answers what was asked and holds back what was already delivered.

use std::task::{ready, Context, Poll};

use crate::error::{BookWyrmClientError, InterruptReason, Interrupted};
use crate::event::StreamEvent;
use crate::reopen::{Body, Reopen, Reopening};
use crate::resume::{Accept, Break, NotResumable, Plan, ResumePolicy, Resumer};
use crate::retry::{Decision, RetryPolicy};

/// What kind of new request a stream makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Recovering {
    /// Before the first event: the same request again.
    Retry,
    /// After events were delivered: the rest of the work.
    Resume,
}

/// What follows a break.
pub(super) enum Next<E> {
    /// A new request is under way ([`Recovery::poll_reopened`]).
    Reopening(Recovering),
    /// The stream ends with this item (`None`: cleanly).
    End(Option<Result<E, BookWyrmClientError>>),
}

/// What a new request gave.
pub(super) enum Reopened<E> {
    /// A body to decode, its request id and the attempts its request took.
    Opened {
        body: Body,
        request_id: Option<String>,
        attempts: u32,
    },
    /// It failed: what follows.
    Then(Next<E>),
}

/// What becomes of an event from the server.
pub(super) enum Verdict<E> {
    /// Hand it out.
    Deliver(E),
    /// Already delivered before a resume (a checked repeat): not again.
    Hold,
    /// The resumed answer is not an answer to what was asked: the stream ends with this.
    End(BookWyrmClientError),
}

/// How many new requests a stream may still make.
struct Budget {
    limit: u32,
    spent: u32,
}

impl Budget {
    fn left(&self) -> u32 {
        self.limit.saturating_sub(self.spent)
    }

    fn spend(&mut self, n: u32) {
        self.spent = self.spent.saturating_add(n);
    }
}

/// A retry before the first event: how, and the attempts made so far.
struct Retry {
    reopen: Reopen,
    attempts: u32,
    policy: RetryPolicy,
}

/// A resume after events: the operation's resumer and the count of resumes.
struct Resume<E> {
    resumer: Box<dyn Resumer<E>>,
    max_in_a_row: u32,
    in_a_row: u32,
    total: u32,
    backoff: RetryPolicy,
    /// How far the work had got at the last resume ([`Resumer::reached`]).
    reached: u64,
    /// An `error` event was delivered, or the stream ended: nothing more is resumed.
    stopped: bool,
    /// The break that led to the last resume.
    cause: Option<BookWyrmClientError>,
}

/// A new request under way.
struct Underway {
    future: Reopening,
    how: Recovering,
    /// The attempt number its retries count from.
    first_attempt: u32,
}

/// Retries and resumes of one stream (see the module documentation).
pub(super) struct Recovery<E> {
    retry: Option<Retry>,
    resume: Option<Resume<E>>,
    underway: Option<Underway>,
    budget: Budget,
    /// The call's span: recoveries are logged in it, and resume requests open under it.
    call: tracing::Span,
}

impl<E> Recovery<E> {
    pub(super) fn is_reopening(&self) -> bool {
        self.underway.is_some()
    }

    pub(super) fn resumes(&self) -> u32 {
        self.resume.as_ref().map_or(0, |r| r.total)
    }
}

impl<E: StreamEvent> Recovery<E> {
    /// Retried with `reopen` and `policy` before the first event; `attempts` (the last
    /// attempt's number, 0-based) is also how many retries opening it took.
    pub(super) fn new(retry: Option<(Reopen, u32, RetryPolicy)>) -> Self {
        let retried = retry.as_ref().map_or(0, |(_, attempts, _)| *attempts);
        Self {
            retry: retry.map(|(reopen, attempts, policy)| Retry {
                reopen,
                attempts,
                policy,
            }),
            resume: None,
            underway: None,
            budget: Budget {
                limit: ResumePolicy::default().max_recoveries,
                spent: retried,
            },
            call: tracing::Span::none(),
        }
    }

    /// Logs recoveries in `span` (the call's) and opens resume requests under it.
    pub(super) fn in_call(&mut self, span: tracing::Span) {
        self.call = span;
    }

    /// Resumes with `resumer` after a break, as `policy` allows, waiting `backoff`'s delays.
    pub(super) fn resuming(
        &mut self,
        resumer: Box<dyn Resumer<E>>,
        policy: &ResumePolicy,
        backoff: &RetryPolicy,
    ) {
        self.budget.limit = policy.max_recoveries;
        if policy.enabled() {
            self.resume = Some(Resume {
                resumer,
                max_in_a_row: policy.max_resumes,
                in_a_row: 0,
                total: 0,
                backoff: backoff.clone(),
                reached: 0,
                stopped: false,
                cause: None,
            });
        }
    }

    /// An item was handed out: the stream is never retried from now on, and what a retry
    /// needed (the request body, held by `reopen`) is let go.
    pub(super) fn delivered_one(&mut self) {
        self.retry = None;
    }

    /// The stream ended: nothing more is retried or resumed.
    pub(super) fn stop(&mut self) {
        self.retry = None;
        self.underway = None;
        if let Some(r) = &mut self.resume {
            r.stopped = true;
            r.resumer = Box::new(NotResumable::because("the stream has ended"));
        }
    }

    /// Whether a clean end of the body now is a break (the operation's work is not all in).
    pub(super) fn expects_more(&self) -> bool {
        self.resume
            .as_ref()
            .is_some_and(|r| !r.stopped && !r.resumer.complete())
    }

    /// An event from the server, before the caller sees it.
    pub(super) fn accept(&mut self, event: E, delivered: u64) -> Verdict<E> {
        let Some(r) = self.resume.as_mut().filter(|r| !r.stopped) else {
            return Verdict::Deliver(event);
        };
        if event.server_error().is_some() {
            // Never resumed after an error event.
            r.stopped = true;
            return Verdict::Deliver(event);
        }
        match r.resumer.accept(event) {
            Accept::Deliver(event) => Verdict::Deliver(event),
            Accept::Hold => Verdict::Hold,
            Accept::Untracked(event, why) => {
                tracing::debug!(target: "bookwyrm", why = %why, "the stream cannot be resumed from here on");
                r.resumer = Box::new(NotResumable::at(why, r.resumer.point()));
                Verdict::Deliver(event)
            }
            Accept::Diverged(how) => {
                let cause = r.cause.take().unwrap_or_else(|| {
                    BookWyrmClientError::decode("the resumed stream", bytes::Bytes::new(), None)
                });
                Verdict::End(self.interrupted(cause, InterruptReason::Diverged(how), delivered))
            }
        }
    }

    /// The stream broke (`how`, with `cause`; `retry`: a new attempt may be made before the
    /// first event): a new request, or the stream's last item. Decided in the call's span.
    pub(super) fn on_break(
        &mut self,
        cause: BookWyrmClientError,
        how: Break,
        retry: bool,
        delivered: u64,
    ) -> Next<E> {
        let span = self.call.clone();
        span.in_scope(|| self.recover(cause, how, retry, delivered))
    }

    /// [`on_break`](Self::on_break), in the call's span.
    fn recover(
        &mut self,
        cause: BookWyrmClientError,
        how: Break,
        retry: bool,
        delivered: u64,
    ) -> Next<E> {
        if delivered == 0 && retry && self.retry_now(&cause) {
            return Next::Reopening(Recovering::Retry);
        }
        let Some(r) = self.resume.as_mut().filter(|r| !r.stopped && delivered > 0) else {
            return Next::End(match how {
                Break::EndedEarly => None,
                Break::Failed => Some(Err(cause.after_events(delivered))),
            });
        };
        let reached = r.resumer.reached();
        let reopen = match r.resumer.plan(how) {
            Plan::Finish(last) => {
                tracing::debug!(target: "bookwyrm", "the stream broke after its last result; finished without a new request");
                return Next::End(last.map(Ok));
            }
            Plan::Cannot(why) => {
                return self.end(cause, InterruptReason::NotResumable(why), delivered)
            }
            Plan::Reopen(reopen) => reopen,
        };
        if reached > r.reached {
            (r.reached, r.in_a_row) = (reached, 0);
        }
        if r.in_a_row >= r.max_in_a_row {
            return self.end(cause, InterruptReason::NoProgress, delivered);
        }
        if self.budget.left() == 0 {
            return self.end(cause, InterruptReason::BudgetSpent, delivered);
        }
        self.budget.spend(1);
        let r = self.resume.as_mut().expect("checked above");
        let delay = r.backoff.jittered(r.in_a_row);
        (r.in_a_row, r.total) = (r.in_a_row + 1, r.total + 1);
        tracing::warn!(
            target: "bookwyrm",
            resume = r.total,
            request_id = cause.request_id(),
            attempt = cause.attempts(),
            from = %r.resumer.point(),
            delivered,
            delay_ms = delay.as_millis() as u64,
            cause = %cause,
            "resuming the stream"
        );
        r.cause = Some(cause);
        // The resume request's own retries are paid from what is left of the budget.
        let first = r.backoff.max_retries.saturating_sub(self.budget.left());
        self.start(reopen, delay, first, Recovering::Resume);
        Next::Reopening(Recovering::Resume)
    }

    /// Before the first event: starts a retry when the retry policy and the budget allow one.
    fn retry_now(&mut self, error: &BookWyrmClientError) -> bool {
        let Some(retry) = &self.retry else {
            return false;
        };
        if self.budget.left() == 0 {
            return false;
        }
        let Decision::Retry { delay, reason } =
            crate::retry::decide(&retry.policy, error, retry.attempts)
        else {
            return false;
        };
        tracing::warn!(
            target: "bookwyrm",
            attempt = retry.attempts + 1,
            request_id = error.request_id(),
            reason = %reason,
            delay_ms = delay.as_millis() as u64,
            "retrying the stream (no event was delivered yet)"
        );
        self.budget.spend(1);
        let (reopen, first) = (retry.reopen.clone(), retry.attempts + 1);
        self.start(reopen, delay, first, Recovering::Retry);
        true
    }

    fn start(&mut self, reopen: Reopen, delay: std::time::Duration, first: u32, how: Recovering) {
        let future = Box::pin(async move {
            tokio::time::sleep(delay).await;
            reopen(first).await
        });
        self.underway = Some(Underway {
            future,
            how,
            first_attempt: first,
        });
    }

    /// Polls the new request under way (only while [`is_reopening`](Self::is_reopening)).
    pub(super) fn poll_reopened(
        &mut self,
        cx: &mut Context<'_>,
        delivered: u64,
    ) -> Poll<Reopened<E>> {
        let underway = self.underway.as_mut().expect("only polled while reopening");
        let result = ready!(underway.future.as_mut().poll(cx));
        let Underway {
            how, first_attempt, ..
        } = self.underway.take().expect("polled above");
        let opened = match result {
            Ok(opened) => opened,
            Err(e) => {
                return Poll::Ready(Reopened::Then(self.failed(
                    e,
                    how,
                    first_attempt,
                    delivered,
                )))
            }
        };
        let (body, request_id, n) = opened;
        self.budget.spend(n.saturating_sub(first_attempt));
        let attempts = match (how, &mut self.retry) {
            (Recovering::Retry, Some(retry)) => {
                retry.attempts = n;
                n + 1
            }
            (Recovering::Retry, None) => n + 1,
            (Recovering::Resume, _) => n - first_attempt + 1,
        };
        Poll::Ready(Reopened::Opened {
            body,
            request_id,
            attempts,
        })
    }

    /// A new request failed with `e`, after its own retries.
    fn failed(
        &mut self,
        e: BookWyrmClientError,
        how: Recovering,
        first: u32,
        delivered: u64,
    ) -> Next<E> {
        if how == Recovering::Retry {
            return Next::End(Some(Err(e)));
        }
        self.budget.spend(e.attempts().saturating_sub(first + 1));
        match &e {
            _ if e.status_code().is_some() => self.end(e, InterruptReason::ErrorStatus, delivered),
            BookWyrmClientError::Transport(_) | BookWyrmClientError::Timeout(_) => {
                self.on_break(e, Break::Failed, false, delivered)
            }
            BookWyrmClientError::Closed(_) | BookWyrmClientError::Cancelled(_) => {
                Next::End(Some(Err(e)))
            }
            _ => {
                let why = format!("the resume request failed: {e}");
                self.end(e, InterruptReason::NotResumable(why), delivered)
            }
        }
    }

    fn end(
        &mut self,
        cause: BookWyrmClientError,
        reason: InterruptReason,
        delivered: u64,
    ) -> Next<E> {
        Next::End(Some(Err(self.interrupted(cause, reason, delivered))))
    }

    /// The [`Interrupted`] error that ends the stream.
    fn interrupted(
        &mut self,
        cause: BookWyrmClientError,
        reason: InterruptReason,
        delivered: u64,
    ) -> BookWyrmClientError {
        let r = self.resume.as_ref().expect("only called when resuming");
        let error = Interrupted {
            cause: cause.after_events(delivered),
            reason,
            delivered,
            resumes: r.total,
            point: r.resumer.point(),
        };
        BookWyrmClientError::Interrupted(Box::new(error))
    }
}
