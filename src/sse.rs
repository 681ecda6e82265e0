//! An incremental, spec-exact, bounded Server-Sent Events decoder.
//!
//! It follows the interpretation rules of the WHATWG HTML standard, "Server-sent events"
//! (§9.2.6): one leading UTF-8 BOM is stripped; lines end with CR, LF or CRLF, mixed freely (a
//! CRLF split across chunks counts once); lines starting with `:` are comments; a field and its
//! value are split on the first colon and one leading space of the value is removed; `data`
//! lines are joined with `\n`; a blank line dispatches the event, unless its data is empty; `id`
//! values containing NUL are ignored and the last event id carries over to later events; `retry`
//! is taken only when it is all ASCII digits; unknown fields are ignored; an event not ended by a
//! blank line before the end of the stream is not dispatched; invalid UTF-8 becomes U+FFFD.
//!
//! Memory is bounded by [`Decoder::with_limits`]: a longer line or larger event is an error.
//! Time is linear in the input, however it is split.
//!
//! ```
//! use bookwyrm::sse::Decoder;
//!
//! let mut decoder = Decoder::new();
//! decoder.feed(b"event: citation\ndata: {\"a\":".as_slice());
//! assert!(decoder.next_event().unwrap().is_none()); // not complete yet
//! decoder.feed(b"1}\n\n".as_slice());
//! let event = decoder.next_event().unwrap().unwrap();
//! assert_eq!(event.event, "citation");
//! assert_eq!(event.data, "{\"a\":1}");
//! ```

use std::fmt;

use bytes::{Buf, Bytes};

/// Default maximum length of one line, in bytes (16 MiB).
///
/// ```
/// assert_eq!(bookwyrm::sse::DEFAULT_MAX_LINE, 16 << 20);
/// ```
pub const DEFAULT_MAX_LINE: usize = 16 << 20;
/// Default maximum size of one event's data, in bytes (32 MiB).
///
/// ```
/// assert_eq!(bookwyrm::sse::DEFAULT_MAX_EVENT, 32 << 20);
/// ```
pub const DEFAULT_MAX_EVENT: usize = 32 << 20;

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// One dispatched event.
///
/// ```
/// let e = bookwyrm::sse::Event { event: "message".into(), data: "hi".into(), id: String::new(), retry: None };
/// assert_eq!(e.event, "message");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event type: the last `event:` value of this event, or `"message"`.
    pub event: String,
    /// The data lines joined with `\n`.
    pub data: String,
    /// The last event id of the stream at dispatch time (carried across events; empty if none).
    pub id: String,
    /// A `retry:` value (milliseconds) given in this event's block, if any.
    pub retry: Option<u64>,
}

/// A line or event over the decoder's limits.
///
/// ```
/// let mut d = bookwyrm::sse::Decoder::with_limits(8, 64);
/// d.feed(b"data: far too long\n\n".as_slice());
/// assert!(d.next_event().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SseError {
    /// A line longer than the limit.
    LineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// An event whose data is larger than the limit.
    EventTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong { limit } => write!(f, "an SSE line is longer than {limit} bytes"),
            Self::EventTooLarge { limit } => {
                write!(f, "an SSE event is larger than {limit} bytes")
            }
        }
    }
}

impl std::error::Error for SseError {}

/// The incremental decoder: [`feed`](Self::feed) bytes split anywhere, then take events with
/// [`next_event`](Self::next_event) until it returns `Ok(None)`.
///
/// ```
/// let mut d = bookwyrm::sse::Decoder::new();
/// d.feed(b"id: 7\r\ndata: a\r\ndata: b\r\n\r\n".as_slice());
/// let e = d.next_event().unwrap().unwrap();
/// assert_eq!((e.data.as_str(), e.id.as_str()), ("a\nb", "7"));
/// ```
pub struct Decoder {
    /// Input not yet scanned.
    pending: Bytes,
    /// The start of a line whose end has not arrived.
    line: Vec<u8>,
    /// Bytes of a possible BOM at the very start.
    bom: Vec<u8>,
    bom_done: bool,
    /// The previous line ended with CR: a leading LF belongs to it.
    skip_lf: bool,
    event_type: String,
    data: String,
    data_seen: bool,
    last_id: String,
    retry: Option<u64>,
    reconnection_time: Option<u64>,
    max_line: usize,
    max_event: usize,
    failed: Option<SseError>,
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("pending", &self.pending.len())
            .field("partial_line", &self.line.len())
            .field("data", &self.data.len())
            .field("last_id", &self.last_id)
            .field("max_line", &self.max_line)
            .field("max_event", &self.max_event)
            .finish_non_exhaustive()
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder with the default limits ([`DEFAULT_MAX_LINE`], [`DEFAULT_MAX_EVENT`]).
    ///
    /// ```
    /// let d = bookwyrm::sse::Decoder::new();
    /// assert_eq!(d.last_event_id(), "");
    /// ```
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_MAX_LINE, DEFAULT_MAX_EVENT)
    }

    /// A decoder that fails on a line over `max_line` bytes or event data over `max_event` bytes.
    ///
    /// ```
    /// let d = bookwyrm::sse::Decoder::with_limits(1024, 4096);
    /// # drop(d);
    /// ```
    pub fn with_limits(max_line: usize, max_event: usize) -> Self {
        Self {
            pending: Bytes::new(),
            line: Vec::new(),
            bom: Vec::with_capacity(3),
            bom_done: false,
            skip_lf: false,
            event_type: String::new(),
            data: String::new(),
            data_seen: false,
            last_id: String::new(),
            retry: None,
            reconnection_time: None,
            max_line,
            max_event,
            failed: None,
        }
    }

    /// Adds bytes. Call [`next_event`](Self::next_event) until it returns `Ok(None)` before
    /// feeding more, or the unscanned rest is copied once.
    ///
    /// ```
    /// let mut d = bookwyrm::sse::Decoder::new();
    /// d.feed(bytes::Bytes::from_static(b"data: x\n\n"));
    /// assert_eq!(d.next_event().unwrap().unwrap().data, "x");
    /// ```
    pub fn feed(&mut self, chunk: impl Into<Bytes>) {
        let mut chunk: Bytes = chunk.into();
        if !self.bom_done {
            while !chunk.is_empty() && self.bom.len() < 3 {
                let b = chunk[0];
                if b != BOM[self.bom.len()] {
                    break;
                }
                self.bom.push(b);
                chunk.advance(1);
            }
            if self.bom.len() == 3 {
                self.bom_done = true;
                self.bom.clear();
            } else if chunk.is_empty() {
                return; // still a possible BOM prefix
            } else {
                self.bom_done = true;
                if !self.bom.is_empty() {
                    let mut joined = std::mem::take(&mut self.bom);
                    joined.extend_from_slice(&chunk);
                    chunk = Bytes::from(joined);
                }
            }
        }
        if self.pending.is_empty() {
            self.pending = chunk;
        } else {
            let mut joined = Vec::with_capacity(self.pending.len() + chunk.len());
            joined.extend_from_slice(&self.pending);
            joined.extend_from_slice(&chunk);
            self.pending = Bytes::from(joined);
        }
    }

    /// The next complete event, `Ok(None)` when more input is needed. After an error the
    /// decoder stays failed.
    ///
    /// ```
    /// let mut d = bookwyrm::sse::Decoder::new();
    /// d.feed(b": comment\n\ndata: y\n\n".as_slice());
    /// assert_eq!(d.next_event().unwrap().unwrap().data, "y");
    /// assert_eq!(d.next_event().unwrap(), None);
    /// ```
    pub fn next_event(&mut self) -> Result<Option<Event>, SseError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        while !self.pending.is_empty() {
            if self.skip_lf {
                self.skip_lf = false;
                if self.pending[0] == b'\n' {
                    self.pending.advance(1);
                    continue;
                }
            }
            match memchr::memchr2(b'\r', b'\n', &self.pending) {
                Some(pos) => {
                    let ended_by_cr = self.pending[pos] == b'\r';
                    let rest = self.pending.split_off(pos + 1);
                    let mut line = std::mem::replace(&mut self.pending, rest);
                    line.truncate(pos);
                    self.skip_lf = ended_by_cr;
                    let event = if self.line.is_empty() {
                        self.check_line(line.len())?;
                        self.process_line(&line)
                    } else {
                        self.check_line(self.line.len() + line.len())?;
                        let mut full = std::mem::take(&mut self.line);
                        full.extend_from_slice(&line);
                        let event = self.process_line(&full);
                        full.clear();
                        self.line = full; // keep the allocation
                        event
                    };
                    self.check_event()?;
                    if event.is_some() {
                        return Ok(event);
                    }
                }
                None => {
                    self.check_line(self.line.len() + self.pending.len())?;
                    self.line.extend_from_slice(&self.pending);
                    self.pending.clear();
                }
            }
        }
        Ok(None)
    }

    /// What is left of an event that has not been ended by a blank line: the partial line (not
    /// a comment) and the data gathered so far. At the end of a stream this is what the WHATWG
    /// rules discard; a client can report it instead of dropping it silently.
    ///
    /// ```
    /// let mut d = bookwyrm::sse::Decoder::new();
    /// d.feed(b"data: complete\n\ndata: cut sh".as_slice());
    /// assert_eq!(d.next_event().unwrap().unwrap().data, "complete");
    /// assert_eq!(d.next_event().unwrap(), None);
    /// assert_eq!(d.unfinished().as_deref(), Some("data: cut sh"));
    /// ```
    pub fn unfinished(&self) -> Option<String> {
        let mut out = Vec::new();
        if !self.event_type.is_empty() {
            out.push(format!("event: {}", self.event_type));
        }
        if self.data_seen {
            out.extend(self.data.split('\n').map(|d| format!("data: {d}")));
        }
        if !self.line.is_empty() && self.line[0] != b':' {
            out.push(String::from_utf8_lossy(&self.line).into_owned());
        }
        let has_content = self.data_seen || out.last().is_some_and(|l| !l.starts_with("event: "));
        has_content.then(|| out.join("\n"))
    }

    /// The last event id seen so far (empty if none).
    ///
    /// ```
    /// let mut d = bookwyrm::sse::Decoder::new();
    /// d.feed(b"id: 42\n\n".as_slice());
    /// assert_eq!(d.next_event().unwrap(), None); // no data: nothing dispatched
    /// assert_eq!(d.last_event_id(), "42");
    /// ```
    pub fn last_event_id(&self) -> &str {
        &self.last_id
    }

    /// The last valid `retry:` value seen (milliseconds).
    ///
    /// ```
    /// let mut d = bookwyrm::sse::Decoder::new();
    /// d.feed(b"retry: 1500\n".as_slice());
    /// d.next_event().unwrap();
    /// assert_eq!(d.reconnection_time(), Some(1500));
    /// ```
    pub fn reconnection_time(&self) -> Option<u64> {
        self.reconnection_time
    }

    fn check_line(&mut self, len: usize) -> Result<(), SseError> {
        if len > self.max_line {
            let e = SseError::LineTooLong {
                limit: self.max_line,
            };
            self.failed = Some(e.clone());
            self.line = Vec::new();
            self.pending.clear();
            return Err(e);
        }
        Ok(())
    }

    fn check_event(&mut self) -> Result<(), SseError> {
        if self.data.len() > self.max_event {
            let e = SseError::EventTooLarge {
                limit: self.max_event,
            };
            self.failed = Some(e.clone());
            self.data = String::new();
            self.pending.clear();
            return Err(e);
        }
        Ok(())
    }

    fn process_line(&mut self, line: &[u8]) -> Option<Event> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line[0] == b':' {
            return None;
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"event" => self.event_type = String::from_utf8_lossy(value).into_owned(),
            b"data" => {
                if self.data_seen {
                    self.data.push('\n');
                }
                self.data_seen = true;
                self.data.push_str(&String::from_utf8_lossy(value));
            }
            b"id" if !value.contains(&0) => {
                self.last_id = String::from_utf8_lossy(value).into_owned();
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // All digits: a value too large for u64 saturates.
                let ms = std::str::from_utf8(value)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(u64::MAX);
                self.retry = Some(ms);
                self.reconnection_time = Some(ms);
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<Event> {
        let retry = self.retry.take();
        if !self.data_seen {
            self.event_type.clear();
            return None;
        }
        self.data_seen = false;
        let event = if self.event_type.is_empty() {
            "message".to_string()
        } else {
            std::mem::take(&mut self.event_type)
        };
        Some(Event {
            event,
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
            retry,
        })
    }
}
