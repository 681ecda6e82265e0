//! Resuming a citation stream (opt-in, [`ResumePolicy::cite`](crate::ResumePolicy::cite)):
//! the chunks after the last `progress` event are asked for (`start` moved on, `limit`
//! shortened), citations already delivered are not handed out again, and the counters of
//! `progress` (`chunks_processed`, `citations_found`) and `summary` (`total_citations`,
//! `chunks_processed`) count the whole run.
//!
//! The server scores a citation against the range it was asked for, so the citations of the
//! rest can differ from an uninterrupted run's. The server reports `usage` (and
//! `token_chunks_processed`) only in a summary, so a request cut before its summary reports
//! none: the summary's `usage` and `token_chunks_processed` are the last request's, and
//! `usage.chunks_processed` short of `chunks_processed` shows the gap
//! ([`CitationResult::chunks_without_usage`](crate::CitationResult::chunks_without_usage)).
//!
//! A resumed answer must answer what was asked: citations within the chunks from the resume
//! point on, progress counting the chunks asked for, a summary of them; a citation delivered
//! before the break may come again (held back, not repeated). Anything else ends the stream
//! as diverged. In an answer that was not resumed, what does not fit is delivered as it comes
//! and the stream is no longer resumable.

use std::collections::HashSet;

use crate::error::ResumePoint;
use crate::reopen::Reopen;
use crate::resume::resumer::{Accept, Break, Plan, Resumer};
use crate::types::CitationStreamEvent;

/// Makes the request for `limit` chunks (all the rest when `None`) from chunk `start`.
pub(crate) type ChunkRequest = Box<dyn Fn(u64, Option<u64>) -> Reopen + Send>;

/// A citation's identity, to recognize it when it comes again.
type Key = (u64, u64, Option<u64>);

/// Tracks the chunks and citations of a citation stream (see the module documentation).
pub(crate) struct CiteResumer {
    /// The request for the rest; without one (resuming citations is off) the stream only
    /// tracks where it got, for the error's resume point, and says why it does not go on.
    request: Result<ChunkRequest, &'static str>,
    /// The original request's `start` and `limit`.
    start: u64,
    limit: Option<u64>,
    /// Chunks processed before the current request, and in it (its last progress).
    base: u64,
    processed: u64,
    /// The whole run's chunk count (from the first progress).
    total: Option<u64>,
    /// Citations delivered.
    citations: u64,
    /// Citations delivered since the last progress: a resumed answer may send them again.
    recent: HashSet<Key>,
    /// After a resume, those of `recent` that have not come again yet.
    repeatable: HashSet<Key>,
    resumed: bool,
    summary: bool,
}

impl CiteResumer {
    /// For a request of `limit` chunks (all when `None`) from chunk `start`.
    pub(crate) fn new(start: u64, limit: Option<u64>, request: ChunkRequest) -> Self {
        Self::with(start, limit, Ok(request))
    }

    /// Tracks the chunks of a citation stream that is not resumed (for `why`), so that an
    /// interruption still says the next chunk to ask for.
    pub(crate) fn tracking_only(start: u64, limit: Option<u64>, why: &'static str) -> Self {
        Self::with(start, limit, Err(why))
    }

    fn with(start: u64, limit: Option<u64>, request: Result<ChunkRequest, &'static str>) -> Self {
        Self {
            request,
            start,
            limit,
            base: 0,
            processed: 0,
            total: None,
            citations: 0,
            recent: HashSet::new(),
            repeatable: HashSet::new(),
            resumed: false,
            summary: false,
        }
    }

    fn done(&self) -> u64 {
        self.base + self.processed
    }

    /// The first chunk the current request asked for.
    fn asked_from(&self) -> u64 {
        self.start + self.base
    }

    /// The chunk after the last one asked for, when known.
    fn end(&self) -> Option<u64> {
        self.total
            .or(self.limit)
            .map(|n| self.start.saturating_add(n))
    }

    /// Why a citation of chunks `from..=to` is not in the chunks asked for, if it is not.
    fn outside(&self, from: u64, to: u64) -> Option<String> {
        let (first, end) = (self.asked_from(), self.end());
        if from < first || to < from || end.is_some_and(|end| to >= end) {
            let end = end.map_or("the last".to_string(), |e| (e - 1).to_string());
            return Some(format!(
                "a citation of chunks {from}..={to} where chunks {first}..={end} were asked for"
            ));
        }
        None
    }

    /// Why a progress event's counters do not fit the current request, if they do not.
    fn inconsistent(&self, processed: u64, total: u64) -> Option<String> {
        let expected = self.total.map(|t| t.saturating_sub(self.base));
        if processed > total || processed < self.processed {
            return Some(format!(
                "progress of {processed} of {total} chunks after {} of them",
                self.processed
            ));
        }
        match expected {
            Some(e) if self.resumed && e != total => Some(format!(
                "the answer covers {total} chunks where the {e} chunks from chunk {} were asked for",
                self.asked_from()
            )),
            _ => None,
        }
    }
}

impl Resumer<CitationStreamEvent> for CiteResumer {
    fn accept(&mut self, event: CitationStreamEvent) -> Accept<CitationStreamEvent> {
        match event {
            CitationStreamEvent::Citation(c) => {
                let x = &c.citation;
                let key = (x.start_chunk, x.end_chunk, x.question_index);
                if let Some(how) = self.outside(x.start_chunk, x.end_chunk) {
                    return Accept::refused(self.resumed, CitationStreamEvent::Citation(c), how);
                }
                if self.repeatable.remove(&key) {
                    return Accept::Hold;
                }
                self.recent.insert(key);
                self.citations += 1;
                Accept::Deliver(CitationStreamEvent::Citation(c))
            }
            CitationStreamEvent::Progress(mut p) => {
                if let Some(how) = self.inconsistent(p.chunks_processed, p.total_chunks) {
                    return Accept::refused(self.resumed, CitationStreamEvent::Progress(p), how);
                }
                let total = *self.total.get_or_insert(p.total_chunks);
                self.processed = p.chunks_processed;
                p.chunks_processed = self.done();
                p.total_chunks = total;
                p.citations_found = self.citations;
                self.recent.clear();
                self.repeatable.clear();
                Accept::Deliver(CitationStreamEvent::Progress(p))
            }
            CitationStreamEvent::Summary(s)
                if self.resumed && s.start_offset != self.asked_from() =>
            {
                let how = format!(
                    "the summary is of chunks from {} where chunks from {} were asked for",
                    s.start_offset,
                    self.asked_from()
                );
                Accept::Diverged(how)
            }
            CitationStreamEvent::Summary(mut s) => {
                self.summary = true;
                s.total_citations = self.citations;
                s.chunks_processed += self.base;
                s.start_offset = self.start;
                Accept::Deliver(CitationStreamEvent::Summary(s))
            }
            other => Accept::Deliver(other),
        }
    }

    fn complete(&self) -> bool {
        self.summary
    }

    fn plan(&mut self, _: Break) -> Plan<CitationStreamEvent> {
        if self.summary {
            return Plan::Finish(None);
        }
        let request = match &self.request {
            Ok(request) => request,
            Err(why) => return Plan::Cannot(why.to_string()),
        };
        self.base = self.done();
        self.processed = 0;
        if self.end().is_some_and(|end| self.asked_from() >= end) {
            return Plan::Cannot(
                "every chunk asked for was processed but the summary did not arrive".into(),
            );
        }
        self.resumed = true;
        self.repeatable = self.recent.clone();
        let limit = self.limit.map(|l| l.saturating_sub(self.base));
        Plan::Reopen(request(self.asked_from(), limit))
    }

    fn reached(&self) -> u64 {
        self.done()
    }

    fn point(&self) -> ResumePoint {
        ResumePoint::Chunk {
            next_chunk: self.start + self.done(),
        }
    }
}
