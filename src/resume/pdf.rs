//! Resuming a PDF stream: the pages after the last delivered, asked for with `start_page` and
//! `num_pages`; the resumed stream's positions and counters are moved to the whole run's.
//!
//! A resumed answer must be the pages asked for: its `metadata` says the rest's first page and
//! count, and each page is the next one (by its `document_page`; a page without one only after
//! the resumed answer's `metadata` vouched for the range). Anything else ends the stream as
//! diverged. In an answer that was not resumed, pages out of order or past the count are
//! delivered as they come and the stream is no longer resumable.

use crate::error::ResumePoint;
use crate::reopen::Reopen;
use crate::resume::resumer::{Accept, Break, Plan, Resumer};
use crate::types::{PdfCompleteEvent, PdfStreamEvent};

/// Makes the request for `num_pages` pages from `start_page`.
pub(crate) type PageRequest = Box<dyn Fn(u64, u64) -> Reopen + Send>;

/// Tracks the pages of a PDF stream (see the module documentation).
pub(crate) struct PdfResumer {
    request: PageRequest,
    /// The request's first page and page count.
    start: u64,
    asked: Option<u64>,
    /// From the `metadata` event: pages to extract, pages in the document.
    total: Option<u64>,
    in_document: u64,
    /// Pages delivered (`page` and `page_error`).
    pages: u64,
    /// Pages delivered before the current request.
    base: u64,
    /// Highest progress delivered.
    progress: u64,
    complete: bool,
    /// A resume was asked for; and its answer's `metadata` matched the rest asked for.
    resumed: bool,
    verified: bool,
}

impl PdfResumer {
    /// For a request of `asked` pages (all when `None`) from `start_page` (1 when `None`).
    pub(crate) fn new(start_page: Option<u64>, asked: Option<u64>, request: PageRequest) -> Self {
        Self {
            request,
            start: start_page.unwrap_or(1),
            asked,
            total: None,
            in_document: 0,
            pages: 0,
            base: 0,
            progress: 0,
            complete: false,
            resumed: false,
            verified: false,
        }
    }

    fn next_page(&self) -> u64 {
        self.start + self.pages
    }

    fn remaining(&self) -> Option<u64> {
        self.total
            .or(self.asked)
            .map(|t| t.saturating_sub(self.pages))
    }

    /// A page (or page error) arrived: its document page must be the next one (a server that
    /// does not send `document_page`, 0, is taken at its word where the range is vouched for)
    /// and within the pages asked for; its position and total become the whole run's.
    fn page(
        &mut self,
        document_page: u64,
        current_page: &mut u64,
        total_pages: &mut u64,
    ) -> Result<(), String> {
        let next = self.next_page();
        if document_page != 0 && document_page != next {
            return Err(format!(
                "page {document_page} arrived where page {next} was next"
            ));
        }
        if document_page == 0 && self.resumed && !self.verified {
            return Err(format!(
                "a page without its document page arrived before the resumed answer said its range (page {next} was next)"
            ));
        }
        if self.remaining() == Some(0) {
            return Err(format!("page {next} is past the pages asked for"));
        }
        self.pages += 1;
        *current_page = self.pages;
        *total_pages = self.total.unwrap_or(*total_pages);
        Ok(())
    }
}

impl Resumer<PdfStreamEvent> for PdfResumer {
    fn accept(&mut self, event: PdfStreamEvent) -> Accept<PdfStreamEvent> {
        match event {
            PdfStreamEvent::Metadata(m) if self.total.is_none() => {
                self.total = Some(m.total_pages);
                self.in_document = m.total_pages_in_document;
                if m.start_page != 0 {
                    self.start = m.start_page;
                }
                self.verified = true;
                Accept::Deliver(PdfStreamEvent::Metadata(m))
            }
            PdfStreamEvent::Metadata(m) if !self.resumed || self.verified => {
                let how = "a second metadata event".to_string();
                Accept::refused(self.resumed, PdfStreamEvent::Metadata(m), how)
            }
            // The metadata of a resumed request: checked, not repeated.
            PdfStreamEvent::Metadata(m) => {
                let expected = self.remaining().unwrap_or(m.total_pages);
                if m.total_pages != expected || m.start_page != self.next_page() {
                    return Accept::Diverged(format!(
                        "the resumed request covers {} pages from page {}, expected {expected} from page {}",
                        m.total_pages,
                        m.start_page,
                        self.next_page()
                    ));
                }
                self.verified = true;
                Accept::Hold
            }
            PdfStreamEvent::Page(mut p) => {
                match self.page(p.document_page, &mut p.current_page, &mut p.total_pages) {
                    Ok(()) => Accept::Deliver(PdfStreamEvent::Page(p)),
                    Err(how) => Accept::refused(self.resumed, PdfStreamEvent::Page(p), how),
                }
            }
            PdfStreamEvent::PageError(mut p) => {
                match self.page(p.document_page, &mut p.current_page, &mut p.total_pages) {
                    Ok(()) => Accept::Deliver(PdfStreamEvent::PageError(p)),
                    Err(how) => Accept::refused(self.resumed, PdfStreamEvent::PageError(p), how),
                }
            }
            PdfStreamEvent::Progress(mut p) => {
                p.pages_processed += self.base;
                p.total_pages = self.total.unwrap_or(p.total_pages);
                // A resumed answer's progress is held until it passes what was delivered.
                if self.resumed && p.pages_processed < self.progress {
                    return Accept::Hold;
                }
                self.progress = self.progress.max(p.pages_processed);
                Accept::Deliver(PdfStreamEvent::Progress(p))
            }
            PdfStreamEvent::Complete(mut c) => {
                self.complete = true;
                if let Some(total) = self.total {
                    c.total_pages = total;
                    c.current_page = total;
                }
                c.total_pages_in_document = self.in_document.max(c.total_pages_in_document);
                Accept::Deliver(PdfStreamEvent::Complete(c))
            }
            other => Accept::Deliver(other),
        }
    }

    fn complete(&self) -> bool {
        self.complete
    }

    fn plan(&mut self, _: Break) -> Plan<PdfStreamEvent> {
        match (self.total, self.remaining()) {
            // Every page is in: only `complete` was missing.
            (Some(total), Some(0)) => {
                Plan::Finish(Some(PdfStreamEvent::Complete(PdfCompleteEvent {
                    total_pages: total,
                    total_pages_in_document: self.in_document,
                    current_page: total,
                    processing_time: None,
                })))
            }
            _ => {
                (self.resumed, self.verified) = (true, false);
                self.base = self.pages;
                let count = self.remaining();
                // Before `metadata` the request is the original one.
                let count = if self.total.is_none() {
                    self.asked
                } else {
                    count
                };
                let start = self.next_page();
                Plan::Reopen((self.request)(start, count.unwrap_or(0)))
            }
        }
    }

    fn reached(&self) -> u64 {
        self.pages
    }

    fn point(&self) -> ResumePoint {
        if self.pages == 0 && self.total.is_none() {
            return ResumePoint::Start;
        }
        ResumePoint::Page {
            next_page: self.next_page(),
            remaining: self.remaining(),
        }
    }
}
