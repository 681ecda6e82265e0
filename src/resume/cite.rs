//! Resuming a citation stream (opt-in, [`ResumePolicy::cite`](crate::ResumePolicy::cite)):
//! the chunks after the last `progress` event are asked for (`start` moved on, `limit`
//! shortened), citations already delivered are not handed out again, and the counters of
//! `progress` and `summary` count both parts.
//!
//! The server scores a citation against the range it was asked for, so the citations of the
//! rest can differ from an uninterrupted run's. The `usage` of the summary is the last
//! request's.

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
    request: ChunkRequest,
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
    /// Citations delivered since the last progress: the rest may send them again.
    recent: HashSet<Key>,
    summary: bool,
}

impl CiteResumer {
    /// For a request of `limit` chunks (all when `None`) from chunk `start`.
    pub(crate) fn new(start: u64, limit: Option<u64>, request: ChunkRequest) -> Self {
        Self {
            request,
            start,
            limit,
            base: 0,
            processed: 0,
            total: None,
            citations: 0,
            recent: HashSet::new(),
            summary: false,
        }
    }

    fn done(&self) -> u64 {
        self.base + self.processed
    }
}

impl Resumer<CitationStreamEvent> for CiteResumer {
    fn accept(&mut self, event: CitationStreamEvent) -> Accept<CitationStreamEvent> {
        match event {
            CitationStreamEvent::Citation(c) => {
                let x = &c.citation;
                let key = (x.start_chunk, x.end_chunk, x.question_index);
                if !self.recent.insert(key) {
                    return Accept::Hold;
                }
                self.citations += 1;
                Accept::New(CitationStreamEvent::Citation(c))
            }
            CitationStreamEvent::Progress(mut p) => {
                let total = *self.total.get_or_insert(p.total_chunks);
                self.processed = self.processed.max(p.chunks_processed);
                p.chunks_processed = self.done();
                p.total_chunks = total;
                p.citations_found = self.citations;
                self.recent.clear();
                Accept::New(CitationStreamEvent::Progress(p))
            }
            CitationStreamEvent::Summary(mut s) => {
                self.summary = true;
                s.total_citations = self.citations;
                s.chunks_processed += self.base;
                s.start_offset = self.start;
                Accept::New(CitationStreamEvent::Summary(s))
            }
            other => Accept::Pass(other),
        }
    }

    fn complete(&self) -> bool {
        self.summary
    }

    fn plan(&mut self, _: Break) -> Plan<CitationStreamEvent> {
        if self.summary {
            return Plan::Finish(None);
        }
        self.base = self.done();
        self.processed = 0;
        let limit = self.limit.map(|l| l.saturating_sub(self.base));
        if limit == Some(0) {
            return Plan::Cannot("every chunk was processed but the summary did not arrive");
        }
        Plan::Reopen((self.request)(self.start + self.base, limit))
    }

    fn point(&self) -> ResumePoint {
        ResumePoint::Chunk {
            next_chunk: self.start + self.done(),
        }
    }
}
