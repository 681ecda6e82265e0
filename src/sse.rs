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
/// // What the client uses unless `Config::max_sse_line` says otherwise.
/// let config = bookwyrm::Config::default();
/// assert_eq!(config.max_sse_line, bookwyrm::sse::DEFAULT_MAX_LINE);
/// ```
pub const DEFAULT_MAX_LINE: usize = 16 << 20;
/// Default maximum size of one event's data, in bytes (32 MiB).
///
/// ```
/// // Events of up to 256 MiB on one handle (the default is smaller).
/// let client = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
/// let big = client.with_config(|c| c.max_sse_event = 8 * bookwyrm::sse::DEFAULT_MAX_EVENT);
/// # drop(big);
/// ```
pub const DEFAULT_MAX_EVENT: usize = 32 << 20;

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// One dispatched event.
///
/// ```
/// let e = bookwyrm::sse::Event::new("message", "hi");
/// assert_eq!(e.event, "message");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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

impl Event {
    /// An event of type `event` with `data`, no id and no `retry:` (set the public fields for
    /// those).
    ///
    /// ```
    /// let mut e = bookwyrm::sse::Event::new("progress", "{}");
    /// e.id = "7".into();
    /// assert_eq!((e.event.as_str(), e.id.as_str(), e.retry), ("progress", "7", None));
    /// ```
    pub fn new(event: impl Into<String>, data: impl Into<String>) -> Self {
        Self {
            event: event.into(),
            data: data.into(),
            id: String::new(),
            retry: None,
        }
    }

    /// An owned copy of a borrowed event.
    fn from_ref(e: EventRef<'_>) -> Self {
        Self {
            event: e.event.to_string(),
            data: e.data.to_string(),
            id: e.id.to_string(),
            retry: e.retry,
        }
    }
}

/// ```
/// let mut d = bookwyrm::sse::Decoder::new();
/// d.feed(b"data: x\n\n".as_slice());
/// let e = bookwyrm::sse::Event::from(d.next_event_ref().unwrap().unwrap());
/// assert_eq!(e.data, "x");
/// ```
impl From<EventRef<'_>> for Event {
    fn from(e: EventRef<'_>) -> Self {
        Self::from_ref(e)
    }
}

/// One dispatched event, borrowed from the decoder until its next call: no allocation per
/// event (see [`Decoder::next_event_ref`]).
///
/// ```
/// let mut d = bookwyrm::sse::Decoder::new();
/// d.feed(b"event: text\ndata: {}\n\n".as_slice());
/// let e = d.next_event_ref().unwrap().unwrap();
/// assert_eq!((e.event, e.data), ("text", "{}"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventRef<'a> {
    /// The event type: the last `event:` value of this event, or `"message"`.
    pub event: &'a str,
    /// The data lines joined with `\n`.
    pub data: &'a str,
    /// The last event id of the stream at dispatch time (empty if none).
    pub id: &'a str,
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
    /// The last `event:` name seen (kept between events: streams repeat a few names).
    event_type: String,
    /// Whether this event has an `event:` line (`event_type` is its name).
    event_set: bool,
    data: String,
    data_seen: bool,
    last_id: String,
    retry: Option<u64>,
    reconnection_time: Option<u64>,
    max_line: usize,
    max_event: usize,
    failed: Option<SseError>,
    /// `event_type`, `data` and `dispatched_retry` hold the event last handed out (borrowed);
    /// they are cleared, keeping their allocations, on the next call.
    dispatched: bool,
    dispatched_retry: Option<u64>,
    /// Where scanning of `pending` goes on (what is before it was scanned; an event's single
    /// data line can be lent from there without a copy).
    pos: usize,
    /// The event's data while it is one line of `pending` (`start..end`), not yet copied into
    /// `data`.
    data_range: Option<(usize, usize)>,
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("pending", &(self.pending.len() - self.pos))
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
            event_set: false,
            data: String::new(),
            data_seen: false,
            last_id: String::new(),
            retry: None,
            reconnection_time: None,
            max_line,
            max_event,
            failed: None,
            dispatched: false,
            dispatched_retry: None,
            pos: 0,
            data_range: None,
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
        if self.pos >= self.pending.len() {
            self.pending = chunk;
        } else {
            let rest = &self.pending[self.pos..];
            let mut joined = Vec::with_capacity(rest.len() + chunk.len());
            joined.extend_from_slice(rest);
            joined.extend_from_slice(&chunk);
            self.pending = Bytes::from(joined);
        }
        self.pos = 0;
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
        Ok(self.next_event_ref()?.map(Event::from_ref))
    }

    /// Like [`next_event`](Self::next_event), but the event borrows the decoder's buffers,
    /// which are reused for the next event: no allocation per event.
    ///
    /// ```
    /// let mut d = bookwyrm::sse::Decoder::new();
    /// d.feed(b"data: a\n\ndata: b\n\n".as_slice());
    /// assert_eq!(d.next_event_ref().unwrap().unwrap().data, "a");
    /// assert_eq!(d.next_event_ref().unwrap().unwrap().data, "b");
    /// assert_eq!(d.next_event_ref().unwrap(), None);
    /// ```
    pub fn next_event_ref(&mut self) -> Result<Option<EventRef<'_>>, SseError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.dispatched {
            self.dispatched = false;
            self.event_set = false;
            self.data.clear();
            self.data_range = None;
        }
        // Lines are scanned in place with a cursor: no split of the shared buffer per line and
        // no reference count touched per event.
        let buf = std::mem::take(&mut self.pending);
        let mut pos = self.pos;
        let result = self.scan(&buf, &mut pos);
        if self.failed.is_none() {
            self.pending = buf;
            self.pos = pos;
        } else {
            self.pos = 0;
        }
        if !result? {
            // The event goes on in a later buffer: its data can no longer be lent from this one.
            materialize(&mut self.data, &mut self.data_range, &self.pending);
            return Ok(None);
        }
        // Lent data is validated once; invalid UTF-8 is copied with replacement characters.
        let lent = self
            .data_range
            .map(|(start, end)| utf8(&self.pending[start..end]));
        let data: &str = match lent {
            Some(Some(text)) => text,
            Some(None) => {
                materialize(&mut self.data, &mut self.data_range, &self.pending);
                &self.data
            }
            None => &self.data,
        };
        Ok(Some(EventRef {
            event: if self.event_set && !self.event_type.is_empty() {
                &self.event_type
            } else {
                "message"
            },
            data,
            id: &self.last_id,
            retry: self.dispatched_retry,
        }))
    }

    /// Processes the lines of `buf` from `*pos` until an event is complete or `buf` is used up.
    fn scan(&mut self, buf: &[u8], pos: &mut usize) -> Result<bool, SseError> {
        while *pos < buf.len() {
            if self.skip_lf {
                self.skip_lf = false;
                if buf[*pos] == b'\n' {
                    *pos += 1;
                    continue;
                }
            }
            let rest = &buf[*pos..];
            match memchr::memchr2(b'\r', b'\n', rest) {
                Some(end) => {
                    self.skip_lf = rest[end] == b'\r';
                    *pos += end + 1;
                    let line = &rest[..end];
                    let event = if self.line.is_empty() {
                        self.check_line(line.len())?;
                        self.process_line(line, Some(buf))
                    } else {
                        self.check_line(self.line.len() + line.len())?;
                        let mut full = std::mem::take(&mut self.line);
                        full.extend_from_slice(line);
                        let event = self.process_line(&full, None);
                        full.clear();
                        self.line = full; // keep the allocation
                        event
                    };
                    self.check_event()?;
                    if event {
                        return Ok(true);
                    }
                }
                None => {
                    self.check_line(self.line.len() + rest.len())?;
                    self.line.extend_from_slice(rest);
                    *pos = buf.len();
                }
            }
        }
        Ok(false)
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
        // After a dispatch, `event_type` still holds the event handed out: not part of this one.
        if !self.dispatched && self.event_set && !self.event_type.is_empty() {
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
        let lent = self.data_range.map_or(0, |(start, end)| end - start);
        if self.data.len() + lent > self.max_event {
            let e = SseError::EventTooLarge {
                limit: self.max_event,
            };
            self.failed = Some(e.clone());
            self.data = String::new();
            self.data_range = None;
            self.pending.clear();
            return Err(e);
        }
        Ok(())
    }

    /// Processes one line; `true` when it dispatched an event. `buf` is the buffer `line` lies
    /// in, when it does (a line assembled across buffers does not).
    fn process_line(&mut self, line: &[u8], buf: Option<&[u8]>) -> bool {
        if line.is_empty() {
            return self.dispatch();
        }
        if line[0] == b':' {
            return false;
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"event" => {
                // Streams repeat a few names: the buffer is rewritten only when the name changes.
                if self.event_type.as_bytes() != value {
                    self.event_type.clear();
                    self.event_type.push_str(&lossy(value));
                }
                self.event_set = true;
            }
            b"data" => match buf
                .filter(|_| !self.data_seen)
                .and_then(|b| lies_in(value, b))
            {
                // The first data line of an event, in the scanned buffer: lent, not copied.
                Some(start) => {
                    self.data_range = Some((start, start + value.len()));
                    self.data_seen = true;
                }
                None => {
                    if let Some(buf) = buf {
                        materialize(&mut self.data, &mut self.data_range, buf);
                    }
                    if self.data_seen {
                        self.data.push('\n');
                    }
                    self.data_seen = true;
                    self.data.push_str(&lossy(value));
                }
            },
            b"id" if !value.contains(&0) => {
                self.last_id.clear();
                self.last_id.push_str(&lossy(value));
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
        false
    }

    /// Ends an event block: `true` when it has data (the event is then what `event_type`,
    /// `data` and `dispatched_retry` hold until the next call).
    fn dispatch(&mut self) -> bool {
        let retry = self.retry.take();
        if !self.data_seen {
            self.event_set = false;
            return false;
        }
        self.data_seen = false;
        self.dispatched = true;
        self.dispatched_retry = retry;
        true
    }
}

/// Copies data lent from `buf` (the buffer being scanned, or `pending`) into `data`.
fn materialize(data: &mut String, range: &mut Option<(usize, usize)>, buf: &[u8]) {
    if let Some((start, end)) = range.take() {
        data.push_str(&lossy(&buf[start..end]));
    }
}

/// `value` as text, invalid UTF-8 replaced; valid input (nearly all of it) takes the fast
/// validator and is borrowed, not copied.
fn lossy(value: &[u8]) -> std::borrow::Cow<'_, str> {
    match utf8(value) {
        Some(text) => std::borrow::Cow::Borrowed(text),
        None => String::from_utf8_lossy(value),
    }
}

/// `value` as text when it is valid UTF-8: the SIMD validator, measurably faster than the
/// standard one on event payloads (`benches/sse_decoder.rs`).
fn utf8(value: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(value).ok()
}

/// Where `part` starts in `whole`, when it is a sub-slice of it (an empty value written without
/// a colon is not).
fn lies_in(part: &[u8], whole: &[u8]) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start + part.len() <= whole.len()).then_some(start)
}
