//! Fault injection, chosen per request by the `x-bookwyrm-fault` header when the emulator runs
//! with faults allowed (`--allow-faults`, [`crate::EmulatorBuilder::allow_faults`]).
//!
//! The header holds `;`-separated directives:
//!
//! | directive | effect |
//! |---|---|
//! | `status=503` | answer with this status and a JSON `{"detail": ...}` body |
//! | `retry-after=2` / `retry-after-ms=1500` / `retry-after-date` | with `status`: that header (`retry-after-date`: an HTTP date 2 s ahead) |
//! | `reset-before-headers` | close the connection without answering |
//! | `reset-after-bytes=N` | let exactly N bytes of the answer through (its head included), then reset the connection; the answer of this request only (the next request on the connection disarms it) |
//! | `close-after-bytes=N` | the same, then close the connection cleanly |
//! | `delay-ms=500` | wait before answering |
//! | `reset-after=3` | on a stream: close the connection abruptly after 3 events |
//! | `stall-after=3` | on a stream: send nothing more after 3 events (keep the connection) |
//! | `truncate-after=3` | on a stream: after 3 events, send half of the next one and end the body cleanly |
//! | `malformed-json` | on a stream: first send an event named like the stream's first event, whose data is not JSON |
//! | `unknown-event` | on a stream: first send an event named `mystery_event` |
//! | `content-type=text/plain` | answer with this Content-Type |
//! | `drip-ms=5` | on a stream: send one byte per interval |
//! | `pause-ms=1500` | on a stream: wait this long before each event, sending keepalive comments meanwhile |
//! | `deprecation=Upgrade soon` | add `Deprecation: true` and `Warning: 299 bookwyrm "Upgrade soon"` |
//! | `synthetic-events=200000` | on the phrasal stream: instead of the text's phrases, send this many cheap synthetic `text_span` events, one HTTP chunk each (load-testing a consumer) |
//! | `replay-first` | answer every request carrying this exact header value as the first one was answered (its body replayed): a server that ignores what a resumed request asks for |
//! | `times=2` | apply the fault only to the first 2 requests carrying this exact header value, whichever client sent them (without it, to every one: a server that fails the same way every time) |
//! | `tag=anything` | no effect; distinguishes otherwise equal header values (and their `times` counters) |
//!
//! ```
//! let f = bookwyrm_emulator::faults::Fault::parse("status=429;retry-after=1;times=1").unwrap();
//! assert_eq!(f.status, Some(429));
//! ```

use std::time::Duration;

/// The fault grammar and every directive with an example, as `bookwyrm-emulator --help` prints
/// it.
///
/// ```
/// assert!(bookwyrm_emulator::faults::HELP.contains("times=2"));
/// ```
pub const HELP: &str = "\
Faults (with --allow-faults, per request in the `x-bookwyrm-fault` header; with --fault SPEC,
for every request without that header). A SPEC is directives separated by `;`:

  status=503              answer with this status and a JSON {\"detail\": ...} body
  retry-after=2           with status: Retry-After in seconds (retry-after-ms=1500: in ms;
                          retry-after-date: an HTTP date 2 s ahead)
  reset-before-headers    close the connection without answering
  reset-after-bytes=200   let exactly 200 bytes of the answer through (head included; on
                          HTTPS, bytes of the TLS stream), then reset the connection;
                          this request's answer only, even when it is shorter
  close-after-bytes=200   the same, then close the connection cleanly
  delay-ms=500            wait before answering
  reset-after=3           on a stream: close the connection abruptly after 3 events
  stall-after=3           on a stream: send nothing more after 3 events (keep the connection)
  truncate-after=3        on a stream: after 3 events, half of the next one, then a clean end
  malformed-json          on a stream: first an event whose data is not JSON
  unknown-event           on a stream: first an event named `mystery_event`
  content-type=text/plain answer with this Content-Type
  drip-ms=5               on a stream: one byte per interval
  pause-ms=1500           on a stream: wait this long before each event (keepalives go on)
  deprecation=Upgrade     add Deprecation and Warning headers with this message
  synthetic-events=200000 on the phrasal stream: this many cheap synthetic events
  replay-first            answer every request with this exact SPEC as the first one (its
                          body replayed): a server that ignores what a resume asks for
  times=2                 apply the fault only to the first 2 requests with this exact SPEC,
                          from any client (without times: every one, the same way)
  tag=a                   no effect; makes otherwise equal SPECs (and their times) distinct:
                          give each test its own tag to keep its count apart

Examples:
  curl -H 'x-bookwyrm-fault: status=429;retry-after=1;times=1' ...
  bookwyrm-emulator --fault 'synthetic-events=1000000'";

/// Every directive [`Fault::parse`] takes (any other is refused before it is read).
///
/// ```
/// assert!(bookwyrm_emulator::faults::DIRECTIVES.contains(&"replay-first"));
/// ```
pub const DIRECTIVES: &[&str] = &[
    "status",
    "retry-after",
    "retry-after-ms",
    "retry-after-date",
    "reset-before-headers",
    "reset-after-bytes",
    "close-after-bytes",
    "delay-ms",
    "reset-after",
    "stall-after",
    "truncate-after",
    "malformed-json",
    "unknown-event",
    "content-type",
    "drip-ms",
    "pause-ms",
    "deprecation",
    "synthetic-events",
    "replay-first",
    "times",
    "tag",
];

/// The header that selects a fault.
///
/// ```
/// assert_eq!(bookwyrm_emulator::faults::FAULT_HEADER, "x-bookwyrm-fault");
/// ```
pub const FAULT_HEADER: &str = "x-bookwyrm-fault";

/// A parsed fault directive set.
///
/// ```
/// let f = bookwyrm_emulator::faults::Fault::parse("reset-after=3;drip-ms=5").unwrap();
/// assert_eq!(f.reset_after, Some(3));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fault {
    /// Answer with this status.
    pub status: Option<u16>,
    /// `Retry-After` seconds.
    pub retry_after: Option<u64>,
    /// `retry-after-ms`.
    pub retry_after_ms: Option<u64>,
    /// `Retry-After` as an HTTP date 2 s ahead.
    pub retry_after_date: bool,
    /// Close without answering.
    pub reset_before_headers: bool,
    /// Reset the connection after this many bytes of the answer (head included).
    pub reset_after_bytes: Option<u64>,
    /// Close the connection cleanly after this many bytes of the answer (head included).
    pub close_after_bytes: Option<u64>,
    /// Wait before answering.
    pub delay: Option<Duration>,
    /// Reset after this many events.
    pub reset_after: Option<u64>,
    /// Stall after this many events.
    pub stall_after: Option<u64>,
    /// End the body in the middle of the event after this many.
    pub truncate_after: Option<u64>,
    /// Send a malformed JSON event first.
    pub malformed_json: bool,
    /// Send an unknown event first.
    pub unknown_event: bool,
    /// Override the Content-Type.
    pub content_type: Option<String>,
    /// One byte per interval.
    pub drip: Option<Duration>,
    /// Wait before each event (keepalive comments go on meanwhile).
    pub pause: Option<Duration>,
    /// Deprecation message.
    pub deprecation: Option<String>,
    /// Phrasal stream: this many synthetic `text_span` events instead of the text's phrases.
    pub synthetic_events: Option<u64>,
    /// Answer as the first request with this header value was answered.
    pub replay_first: bool,
    /// Apply to the first N requests with this header value only.
    pub times: Option<u64>,
}

impl Fault {
    /// Parses a header value; an unknown directive is an error naming it.
    ///
    /// ```
    /// assert!(bookwyrm_emulator::faults::Fault::parse("explode").is_err());
    /// ```
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut f = Fault::default();
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = match part.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (part, None),
            };
            if !DIRECTIVES.contains(&key) {
                return Err(format!("unknown fault directive `{key}`"));
            }
            let num = |v: Option<&str>| -> Result<u64, String> {
                v.and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("fault directive `{key}` needs a whole number"))
            };
            match key {
                "status" => {
                    let s = num(value)?;
                    if !(100..=599).contains(&s) {
                        return Err(format!("fault status {s} is not an HTTP status"));
                    }
                    f.status = Some(s as u16);
                }
                "retry-after" => f.retry_after = Some(num(value)?),
                "retry-after-ms" => f.retry_after_ms = Some(num(value)?),
                "retry-after-date" => f.retry_after_date = true,
                "reset-before-headers" => f.reset_before_headers = true,
                "reset-after-bytes" => f.reset_after_bytes = Some(num(value)?),
                "close-after-bytes" => f.close_after_bytes = Some(num(value)?),
                "delay-ms" => f.delay = Some(Duration::from_millis(num(value)?)),
                "reset-after" => f.reset_after = Some(num(value)?),
                "stall-after" => f.stall_after = Some(num(value)?),
                "truncate-after" => f.truncate_after = Some(num(value)?),
                "malformed-json" => f.malformed_json = true,
                "unknown-event" => f.unknown_event = true,
                "content-type" => f.content_type = Some(value.unwrap_or("text/plain").to_string()),
                "drip-ms" => f.drip = Some(Duration::from_millis(num(value)?)),
                "pause-ms" => f.pause = Some(Duration::from_millis(num(value)?)),
                "deprecation" => {
                    f.deprecation = Some(
                        value
                            .unwrap_or("This client version is deprecated")
                            .to_string(),
                    )
                }
                "synthetic-events" => f.synthetic_events = Some(num(value)?),
                "replay-first" => f.replay_first = true,
                "times" => f.times = Some(num(value)?),
                "tag" => {} // only makes the header value (and so its `times` counter) distinct
                other => return Err(format!("unknown fault directive `{other}`")),
            }
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The directives `--help` lists are exactly [`DIRECTIVES`] (those on continuation lines
    /// included), and each of them parses and sets something (`tag` aside, which only makes a
    /// header value distinct).
    #[test]
    fn the_help_lists_directives_that_parse() {
        let words: std::collections::BTreeSet<&str> = HELP
            .split(|c: char| !(c.is_ascii_lowercase() || c == '-'))
            .filter(|w| w.len() > 2)
            .collect();
        for d in DIRECTIVES {
            assert!(words.contains(d), "{d} is missing from the help");
            let f = Fault::parse(&format!("{d}=200")).unwrap_or_else(|e| panic!("{d}: {e}"));
            assert!(*d == "tag" || f != Fault::default(), "{d} sets nothing");
        }
        // Each directive line of the help starts with one of them.
        let listed: Vec<&str> = HELP
            .lines()
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .filter_map(|l| l.split_whitespace().next())
            .filter(|d| !d.starts_with("curl") && !d.starts_with("bookwyrm"))
            .map(|d| d.split('=').next().unwrap_or(d))
            .collect();
        assert!(listed.len() >= 18, "{listed:?}");
        for d in &listed {
            assert!(DIRECTIVES.contains(d), "{d} is listed but not a directive");
        }
        assert!(Fault::parse("no-such-thing").is_err());
    }
}
