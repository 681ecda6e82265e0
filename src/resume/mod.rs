//! Streams that survive a dropped connection: the policy ([`ResumePolicy`]), where a stream
//! stopped ([`ResumePoint`](crate::ResumePoint)), the error of a stream that could not go on ([`Interrupted`](crate::Interrupted)),
//! and what every operation's resumer answers ([`Resumer`]).
//!
//! A stream's events pass through its operation's resumer, which tracks how far the work got
//! (the pages delivered, the last character offset). When the connection breaks, the idle
//! timeout passes, or the stream ends before its operation's final event, the stream asks the
//! resumer for a [`Plan`]: a new request for the rest (the resumer then shifts offsets and
//! counters of what comes back, and holds back what was already delivered), a finish without
//! a request, or nothing it can do, which ends the stream with [`Interrupted`](crate::Interrupted). Never after an
//! `error` event or an HTTP error status.

pub(crate) mod cite;
pub(crate) mod pdf;
pub(crate) mod phrasal;
pub(crate) mod restart;
mod resumer;

pub(crate) use resumer::{Accept, Break, NotResumable, Plan, Resumer};

/// When a stream that broke after some of its events goes on where it stopped (a resume), and
/// how often. On by default for every client ([`ClientBuilder::resume_policy`]).
///
/// What each operation does:
/// - **PDF extraction**: asks for the pages after the last delivered (`start_page`,
///   `num_pages`); the caller sees every page once and in order, one `metadata`, one
///   `complete`, progress that never goes backwards.
/// - **phrasal** (text with offsets): sends the rest of the text from the last `end_char` and
///   shifts the offsets; with `chunk_size`, steps back to the last delivered chunk that ends a
///   sentence and checks that the repeated chunks equal the delivered ones.
/// - **classify**: starts again, transparently (its progress never goes backwards).
/// - **cite** (opt-in, [`cite`](Self::cite)) and **summarize** (opt-in,
///   [`summarize_restart`](Self::summarize_restart)): see those.
/// - anything else (text-only phrasal, `text_url`): an [`Interrupted`](crate::Interrupted) error with the
///   [`ResumePoint`](crate::ResumePoint) to resume from by hand.
///
/// [`ClientBuilder::resume_policy`]: crate::ClientBuilder::resume_policy
///
/// Every recovery is bounded: at most [`max_resumes`](Self::max_resumes) resumes in a row
/// that do not move the resume point forward inside the request (the next page, character or
/// chunk asked for), and at most [`max_recoveries`](Self::max_recoveries) new requests in all
/// (retries before the first event, resumes, and the retries of each resume request), never
/// past the stream's deadline. A resumed answer is checked against what was asked (the pages,
/// the rest of the text, the chunks from the resume point on); one that does not match ends the
/// stream as [`InterruptReason::Diverged`](crate::InterruptReason::Diverged), and nothing is
/// handed out twice.
///
/// ```
/// let policy = bookwyrm::ResumePolicy::default().max_resumes(3).max_recoveries(6);
/// assert_eq!((policy.max_resumes, policy.max_recoveries), (3, 6));
/// assert!(!bookwyrm::ResumePolicy::none().enabled());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use = "a policy does nothing until a client is built with it"]
pub struct ResumePolicy {
    /// Resumes allowed in a row without progress (default 5; 0 turns resuming off): the count
    /// starts again only when the resume point moved forward inside the request since the
    /// last resume. Each resume waits the retry policy's backoff.
    pub max_resumes: u32,
    /// The most new requests one stream makes in all (default 10): retries before its first
    /// event (those made while it opened included), resumes, and the retries of each resume
    /// request. When it is spent the stream ends with
    /// [`InterruptReason::BudgetSpent`](crate::InterruptReason::BudgetSpent).
    pub max_recoveries: u32,
    /// Citation streams resume too: the remaining chunks are asked for (`start` moved past the
    /// chunks processed), no citation is delivered twice, and the summary's
    /// `total_citations` and `chunks_processed` count the whole run. Its `usage` and
    /// `token_chunks_processed` are the last request's: a request cut before its summary
    /// reports no usage ([`CitationResult::chunks_without_usage`](crate::CitationResult::chunks_without_usage)
    /// counts the chunks it leaves out).
    /// Off by default: the server scores a citation against the range it was asked for, so
    /// the citations of a resumed run may differ from an uninterrupted one's.
    pub cite: bool,
    /// A summarize stream broken before its `data` event starts again (its progress events are
    /// then repeated). Off by default: a summary is paid for again from the start.
    pub summarize_restart: bool,
}

impl Default for ResumePolicy {
    fn default() -> Self {
        Self {
            max_resumes: 5,
            max_recoveries: 10,
            cite: false,
            summarize_restart: false,
        }
    }
}

impl ResumePolicy {
    /// No resume: a stream that breaks after its first event ends with the error that broke
    /// it (as the Python client does).
    ///
    /// ```
    /// let client = bookwyrm::AsyncBookWyrmClient::builder()
    ///     .resume_policy(bookwyrm::ResumePolicy::none())
    ///     .build()
    ///     .unwrap();
    /// # drop(client);
    /// ```
    pub fn none() -> Self {
        Self {
            max_resumes: 0,
            ..Self::default()
        }
    }

    /// At most `n` resumes in a row without progress.
    ///
    /// ```
    /// assert_eq!(bookwyrm::ResumePolicy::default().max_resumes(1).max_resumes, 1);
    /// ```
    pub fn max_resumes(mut self, n: u32) -> Self {
        self.max_resumes = n;
        self
    }

    /// At most `n` new requests (retries and resumes) for one stream in all.
    ///
    /// ```
    /// assert_eq!(bookwyrm::ResumePolicy::default().max_recoveries(3).max_recoveries, 3);
    /// ```
    pub fn max_recoveries(mut self, n: u32) -> Self {
        self.max_recoveries = n;
        self
    }

    /// Citation streams resume too (see the field [`cite`](Self::cite)).
    ///
    /// ```
    /// assert!(bookwyrm::ResumePolicy::default().cite(true).cite);
    /// ```
    pub fn cite(mut self, on: bool) -> Self {
        self.cite = on;
        self
    }

    /// Summarize streams start again when broken before their `data` event.
    ///
    /// ```
    /// assert!(bookwyrm::ResumePolicy::default().summarize_restart(true).summarize_restart);
    /// ```
    pub fn summarize_restart(mut self, on: bool) -> Self {
        self.summarize_restart = on;
        self
    }

    /// Whether streams resume at all.
    ///
    /// ```
    /// assert!(bookwyrm::ResumePolicy::default().enabled());
    /// ```
    pub fn enabled(&self) -> bool {
        self.max_resumes > 0
    }
}
