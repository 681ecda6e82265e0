//! The error of a stream that broke and did not go on by itself ([`Interrupted`]): why
//! ([`InterruptReason`]) and where it stopped ([`ResumePoint`]).

use std::fmt;

use super::BookWyrmClientError;

/// Where an interrupted stream stopped: what to ask for to get the rest.
///
/// ```
/// let point = bookwyrm::ResumePoint::Page { next_page: 13, remaining: Some(8) };
/// assert_eq!(point.to_string(), "page 13 (8 pages remaining)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResumePoint {
    /// Nothing was delivered: the whole request again.
    Start,
    /// A PDF stream: the next page of the document (1-based `start_page`) and how many pages
    /// remain (`num_pages`), when the stream had said how many it would extract.
    Page {
        /// The first page not delivered.
        next_page: u64,
        /// Pages still to extract.
        remaining: Option<u64>,
    },
    /// A text stream: the offset in the text after the last delivered result.
    Text {
        /// Code points (the API's offsets).
        char_offset: u64,
        /// Bytes of UTF-8, to slice a `str` (when the SDK had the text; not for a `text_url`).
        byte_offset: Option<usize>,
    },
    /// A citation stream: the next chunk index to ask for (`start`).
    Chunk {
        /// The first chunk not processed.
        next_chunk: u64,
    },
    /// A stream that cannot be resumed from a point (its result is whole or nothing).
    None,
}

impl fmt::Display for ResumePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Start => f.write_str("the start"),
            Self::Page {
                next_page,
                remaining: Some(n),
            } => write!(f, "page {next_page} ({n} pages remaining)"),
            Self::Page { next_page, .. } => write!(f, "page {next_page}"),
            Self::Text { char_offset, .. } => write!(f, "character {char_offset}"),
            Self::Chunk { next_chunk } => write!(f, "chunk {next_chunk}"),
            Self::None => f.write_str("nowhere (the operation starts over)"),
        }
    }
}

/// Why a broken stream was not resumed.
///
/// ```
/// assert_ne!(bookwyrm::InterruptReason::NoProgress, bookwyrm::InterruptReason::BudgetSpent);
/// assert_eq!(
///     bookwyrm::InterruptReason::BudgetSpent.to_string(),
///     "its budget of retries and resumes is spent"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InterruptReason {
    /// This operation, or this form of its request, cannot be resumed exactly (text-only
    /// phrasal results, a `text_url`, a summary, citations without
    /// [`ResumePolicy::cite`](crate::ResumePolicy::cite)), or its events could not be tracked
    /// (spans that went back, pages out of order): why.
    NotResumable(String),
    /// [`ResumePolicy::max_resumes`](crate::ResumePolicy::max_resumes) resumes in a row did not
    /// move the resume point forward (a server that fails at the same point every time).
    NoProgress,
    /// [`ResumePolicy::max_recoveries`](crate::ResumePolicy::max_recoveries) is spent: the
    /// stream made that many new requests (retries and resumes) in all.
    BudgetSpent,
    /// A resumed request's answer is not an answer to what was asked (pages, offsets or
    /// chunks outside the rest that was asked for, other chunk boundaries than those
    /// delivered): going on would repeat or skip results.
    Diverged(String),
    /// A resume request was answered with an HTTP error status.
    ErrorStatus,
}

impl fmt::Display for InterruptReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotResumable(why) => write!(f, "it cannot be resumed ({why})"),
            Self::NoProgress => {
                f.write_str("resuming made no progress (the resume point did not move)")
            }
            Self::BudgetSpent => f.write_str("its budget of retries and resumes is spent"),
            Self::Diverged(how) => {
                write!(f, "the resumed answer is not what was asked for ({how})")
            }
            Self::ErrorStatus => f.write_str("the resume request was refused"),
        }
    }
}

/// A stream broke after some of its events and could not go on by itself: what was delivered,
/// where it stopped, and why it was not resumed. The error that broke it is the
/// [`cause`](Self::cause) (and the `source`).
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient, r: bookwyrm::PhrasalRequest) {
/// use bookwyrm::{BookWyrmClientError, ResumePoint};
/// let mut s = client.stream_process_text(r).await.unwrap();
/// while let Some(item) = s.next().await {
///     if let Err(BookWyrmClientError::Interrupted(i)) = &item {
///         if let ResumePoint::Text { byte_offset: Some(byte_offset), .. } = i.resume_point() {
///             eprintln!("resume by hand from byte {byte_offset}: {}", i.cause());
///         }
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Interrupted {
    pub(crate) cause: BookWyrmClientError,
    pub(crate) reason: InterruptReason,
    pub(crate) delivered: u64,
    pub(crate) resumes: u32,
    pub(crate) point: ResumePoint,
}

impl Interrupted {
    /// The error that broke the stream (a transport failure, an idle timeout, an early end).
    ///
    /// ```no_run
    /// # fn f(i: &bookwyrm::Interrupted) {
    /// eprintln!("{}", i.cause());
    /// # }
    /// ```
    pub fn cause(&self) -> &BookWyrmClientError {
        &self.cause
    }

    /// Why the stream was not resumed.
    ///
    /// ```no_run
    /// # fn f(i: &bookwyrm::Interrupted) {
    /// if i.reason() == &bookwyrm::InterruptReason::NoProgress { /* the server fails the same way */ }
    /// # }
    /// ```
    pub fn reason(&self) -> &InterruptReason {
        &self.reason
    }

    /// Events handed to the caller before the stream ended.
    ///
    /// ```no_run
    /// # fn f(i: &bookwyrm::Interrupted) {
    /// println!("{} events arrived", i.delivered());
    /// # }
    /// ```
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Resumes the stream had made.
    ///
    /// ```no_run
    /// # fn f(i: &bookwyrm::Interrupted) {
    /// println!("resumed {} times", i.resumes());
    /// # }
    /// ```
    pub fn resumes(&self) -> u32 {
        self.resumes
    }

    /// Where to resume by hand.
    ///
    /// ```no_run
    /// # fn f(i: &bookwyrm::Interrupted) {
    /// println!("stopped at {}", i.resume_point());
    /// # }
    /// ```
    pub fn resume_point(&self) -> &ResumePoint {
        &self.point
    }
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let events = super::events(self.delivered);
        write!(
            f,
            "the stream broke after {} {events} and could not go on: {}; it stopped at {}",
            self.delivered, self.reason, self.point
        )?;
        match self.resumes {
            0 => {}
            1 => f.write_str(" (after 1 resume)")?,
            n => write!(f, " (after {n} resumes)")?,
        }
        Ok(())
    }
}

impl std::error::Error for Interrupted {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}
