//! Resuming a phrasal stream (text with offsets): the rest of the text is sent from the last
//! delivered `end_char` and the offsets of what comes back are shifted by where it starts.
//!
//! Sentence boundaries do not depend on where the text starts, so in sentence mode the spans
//! of the rest are the ones an uninterrupted run gives. Chunks (`chunk_size`) do: where a long
//! sentence is cut depends on where its chunk starts. So a chunked stream steps back to the end
//! of the last delivered chunk that ends a sentence, asks again from there, checks that the
//! chunks it had already delivered come back the same (not handing them out twice), and goes
//! on; if they differ the stream ends with [`InterruptReason::Diverged`]
//! (crate::InterruptReason::Diverged) instead of a silently different result.
//!
//! Every span is checked against the text: within it, at or after the end of the last one, and
//! its text the text at its offsets (white space aside). In a resumed answer anything else
//! ends the stream as diverged (a server that answers the rest as if it were the whole, say);
//! in an answer that was not resumed it is delivered as it comes and the stream is no longer
//! resumable.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::error::ResumePoint;
use crate::reopen::Reopen;
use crate::resume::resumer::{Accept, Break, Plan, Resumer};
use crate::types::PhrasalStreamEvent;

/// A text shared with the caller: an `Arc<str>` the caller keeps, or the `String` the caller
/// gave away (moved in, not copied).
pub(crate) type SharedText = Arc<dyn AsRef<str> + Send + Sync>;

/// Makes the request for the text from this byte offset on.
pub(crate) type RestRequest = Box<dyn Fn(usize) -> Reopen + Send>;

/// A position in the text: code points and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct At {
    char: u64,
    byte: usize,
}

/// Tracks the spans of a phrasal stream (see the module documentation).
pub(crate) struct PhrasalResumer {
    /// The text, shared with the request (`None`: the server fetched it from a URL).
    text: Option<SharedText>,
    with_offsets: bool,
    chunked: bool,
    request: Option<RestRequest>,
    /// The end of the text's last character that is not white space, and its length.
    covered_at: u64,
    len_chars: u64,
    /// A resume was asked for.
    resumed: bool,
    /// The end of the last delivered span, and how many were delivered.
    end: u64,
    spans: u64,
    /// Where the current request's text starts, and the spans delivered before it.
    base: At,
    base_spans: u64,
    /// Chunks: the end of the last delivered chunk that ends a sentence, and the chunks
    /// delivered after it.
    sentence_end: At,
    since_sentence: Vec<(u64, u64)>,
    /// Chunks asked for again, to be checked against the delivered ones before new ones.
    replay: VecDeque<(u64, u64)>,
    /// A char-to-byte cursor moving forward through the text.
    cursor: At,
    /// Highest progress counters delivered: phrases, chunks, bytes.
    progress: (u64, u64, u64),
    /// Where a clean but early end was answered with a new request: a second clean end
    /// there is the end.
    probed_at: Option<u64>,
}

impl PhrasalResumer {
    /// For a request of `text` (`None` for a `text_url`) in the format `with_offsets`,
    /// `chunked` when it has a `chunk_size`; `request` asks for the rest.
    pub(crate) fn new(
        text: Option<SharedText>,
        with_offsets: bool,
        chunked: bool,
        request: Option<RestRequest>,
    ) -> Self {
        // One pass over the text: its length, less the white space it ends with.
        let (covered_at, len_chars) = text.as_ref().map_or((0, 0), |t| {
            let t = (**t).as_ref();
            let len = t.chars().count() as u64;
            let trailing = t[t.trim_end().len()..].chars().count() as u64;
            (len - trailing, len)
        });
        Self {
            text,
            with_offsets,
            chunked,
            request,
            covered_at,
            len_chars,
            resumed: false,
            end: 0,
            spans: 0,
            base: At::default(),
            base_spans: 0,
            sentence_end: At::default(),
            since_sentence: Vec::new(),
            replay: VecDeque::new(),
            cursor: At::default(),
            progress: (0, 0, 0),
            probed_at: None,
        }
    }

    fn text(&self) -> Option<&str> {
        self.text.as_ref().map(|t| (**t).as_ref())
    }

    /// The byte offset of code point `char` (forward from the cursor, else from the start).
    fn at(&mut self, char: u64) -> At {
        let start = if char < self.cursor.char {
            At::default()
        } else {
            self.cursor
        };
        let Some(text) = self.text() else {
            return At { char, byte: 0 };
        };
        let mut at = start;
        let mut chars = text[at.byte..].chars();
        while at.char < char {
            match chars.next() {
                Some(c) => {
                    at.char += 1;
                    at.byte += c.len_utf8();
                }
                None => break,
            }
        }
        self.cursor = at;
        at
    }

    /// Whether a chunk ending at `end` (its text `chunk`) ends a sentence: it ends with a
    /// sentence's final punctuation (closing quotes or brackets aside) and what follows starts
    /// a new sentence (an upper-case letter, a digit, an opening quote, or the end). A wrong
    /// guess costs nothing but a check that fails: the repeated chunks are compared.
    fn ends_sentence(&mut self, chunk: &str, end: At) -> bool {
        let closing = |c: char| matches!(c, '"' | '\'' | '”' | '’' | ')' | ']' | '»');
        let last = chunk.trim_end().chars().rev().find(|c| !closing(*c));
        if !matches!(last, Some('.' | '!' | '?' | '…')) {
            return false;
        }
        let Some(text) = self.text() else {
            return false;
        };
        let next = text
            .get(end.byte..)
            .and_then(|rest| rest.trim_start().chars().next());
        match next {
            None => true,
            Some(c) => {
                c.is_uppercase()
                    || c.is_numeric()
                    || matches!(c, '"' | '“' | '\'' | '‘' | '«' | '(' | '[')
            }
        }
    }

    /// A span arrived (offsets already shifted): `Ok(true)` new, `Ok(false)` a checked repeat,
    /// `Err` how it differs from what was delivered.
    fn span(&mut self, start: u64, end: u64, text: &str) -> Result<bool, String> {
        if let Some(expected) = self.replay.pop_front() {
            if expected != (start, end) {
                return Err(format!(
                    "the chunk at {}..{} came back as {start}..{end}",
                    expected.0, expected.1
                ));
            }
            return Ok(false);
        }
        if start < self.end {
            return Err(format!(
                "a span at {start}..{end} goes back before {}, where the last one ended",
                self.end
            ));
        }
        self.check_text(start, end, text)?;
        self.end = end;
        self.spans += 1;
        if self.chunked {
            let at = self.at(end);
            if self.ends_sentence(text, at) {
                self.sentence_end = at;
                self.since_sentence.clear();
            } else {
                self.since_sentence.push((start, end));
            }
        }
        Ok(true)
    }
}

impl PhrasalResumer {
    /// Whether the span `start..end` is within the text and its `text` is the text there
    /// (white space aside: a server may normalize it).
    fn check_text(&mut self, start: u64, end: u64, text: &str) -> Result<(), String> {
        if self.text.is_none() {
            return Ok(());
        }
        if end < start || end > self.len_chars {
            return Err(format!(
                "a span at {start}..{end} is outside the text's {} characters",
                self.len_chars
            ));
        }
        let (from, to) = (self.at(start).byte, self.at(end).byte);
        let there = self.text().map_or("", |t| &t[from..to]);
        if !there.split_whitespace().eq(text.split_whitespace()) {
            return Err(format!("the span at {start}..{end} is not the text there"));
        }
        Ok(())
    }
}

impl Resumer<PhrasalStreamEvent> for PhrasalResumer {
    fn accept(&mut self, event: PhrasalStreamEvent) -> Accept<PhrasalStreamEvent> {
        match event {
            PhrasalStreamEvent::TextSpan(mut s) => {
                s.start_char += self.base.char;
                s.end_char += self.base.char;
                let replay = !self.replay.is_empty();
                match self.span(s.start_char, s.end_char, &s.text) {
                    Ok(true) => Accept::Deliver(PhrasalStreamEvent::TextSpan(s)),
                    Ok(false) => Accept::Hold,
                    Err(how) if replay => Accept::Diverged(how),
                    Err(how) => Accept::refused(self.resumed, PhrasalStreamEvent::TextSpan(s), how),
                }
            }
            PhrasalStreamEvent::Text(t) => {
                self.spans += 1;
                Accept::Deliver(PhrasalStreamEvent::Text(t))
            }
            PhrasalStreamEvent::Progress(mut p) => {
                p.phrases_processed += self.base_spans;
                if self.chunked {
                    p.chunks_created += self.base_spans;
                }
                p.bytes_processed += self.base.byte as u64;
                let now = (p.phrases_processed, p.chunks_created, p.bytes_processed);
                let last = self.progress;
                // A resumed answer's progress is held until it passes what was delivered.
                if self.resumed && (now.0 < last.0 || now.1 < last.1 || now.2 < last.2) {
                    return Accept::Hold;
                }
                self.progress = (last.0.max(now.0), last.1.max(now.1), last.2.max(now.2));
                Accept::Deliver(PhrasalStreamEvent::Progress(p))
            }
            other => Accept::Deliver(other),
        }
    }

    fn complete(&self) -> bool {
        !self.with_offsets
            || self.text.is_none()
            || self.end >= self.covered_at
            || self.probed_at == Some(self.end)
    }

    fn plan(&mut self, how: Break) -> Plan<PhrasalStreamEvent> {
        if self.text.is_none() {
            return Plan::Cannot("a text_url is fetched whole by the server; send the text".into());
        }
        if !self.with_offsets {
            return Plan::Cannot("text-only results carry no offsets to resume from".into());
        }
        if self.end >= self.covered_at && self.spans > 0 {
            return Plan::Finish(None);
        }
        if how == Break::EndedEarly {
            self.probed_at = Some(self.end);
        }
        let (from, replay) = if self.chunked {
            (self.sentence_end, self.since_sentence.clone())
        } else {
            (self.at(self.end), Vec::new())
        };
        let Some(request) = &self.request else {
            return Plan::Cannot("no request to resume with".into());
        };
        self.resumed = true;
        self.base = from;
        self.base_spans = self.spans - replay.len() as u64;
        self.replay = replay.into();
        Plan::Reopen(request(from.byte))
    }

    fn reached(&self) -> u64 {
        if self.chunked {
            self.sentence_end.char
        } else {
            self.end
        }
    }

    fn point(&self) -> ResumePoint {
        if self.spans == 0 {
            return ResumePoint::Start;
        }
        let byte_offset = self.text().map(|t| {
            t.char_indices()
                .nth(self.end as usize)
                .map_or(t.len(), |(b, _)| b)
        });
        ResumePoint::Text {
            char_offset: self.end,
            byte_offset,
        }
    }
}
