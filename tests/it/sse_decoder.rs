//! The SSE decoder against the WHATWG "Server-sent events" interpretation rules, each case
//! fed whole, at every split into two chunks, byte by byte, and at random splits (proptest).

use bookwyrm::sse::{Decoder, Event, SseError};
use proptest::prelude::*;

type Expected = Vec<(&'static str, &'static str, &'static str, Option<u64>)>;

fn cases() -> Vec<(&'static str, Vec<u8>, Expected)> {
    vec![
        (
            "bom stripped",
            b"\xEF\xBB\xBFdata: a\n\n".to_vec(),
            vec![("message", "a", "", None)],
        ),
        (
            "only one bom stripped",
            b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n".to_vec(),
            vec![("message", "b", "", None)],
        ),
        (
            "cr line ends",
            b"data: a\r\rdata: b\r\r".to_vec(),
            vec![("message", "a", "", None), ("message", "b", "", None)],
        ),
        (
            "crlf line ends",
            b"data: a\r\n\r\n".to_vec(),
            vec![("message", "a", "", None)],
        ),
        (
            "mixed line ends",
            b"data: a\r\ndata: b\n\r\ndata: c\r\r\n".to_vec(),
            vec![("message", "a\nb", "", None), ("message", "c", "", None)],
        ),
        (
            "comments ignored",
            b": hi\n:\ndata: x\n: more\n\n".to_vec(),
            vec![("message", "x", "", None)],
        ),
        (
            "split on first colon",
            b"data: a: b:c\n\n".to_vec(),
            vec![("message", "a: b:c", "", None)],
        ),
        (
            "one leading space removed",
            b"data:  two\n\ndata:none\n\n".to_vec(),
            vec![("message", " two", "", None), ("message", "none", "", None)],
        ),
        (
            "data lines joined",
            b"data: a\ndata: b\ndata\n\n".to_vec(),
            vec![("message", "a\nb\n", "", None)],
        ),
        (
            "field without colon",
            b"data\n\n".to_vec(),
            vec![("message", "", "", None)],
        ),
        (
            "empty data buffer dispatches nothing",
            b"event: x\n\ndata: y\n\n".to_vec(),
            vec![("message", "y", "", None)],
        ),
        (
            "event name, last wins",
            b"event: a\nevent: citation\ndata: {}\n\n".to_vec(),
            vec![("citation", "{}", "", None)],
        ),
        (
            "event name not carried to the next event; a repeated name, an emptied one",
            b"event: a\ndata: 1\n\ndata: 2\n\nevent: a\ndata: 3\n\nevent: a\nevent:\ndata: 4\n\n"
                .to_vec(),
            vec![
                ("a", "1", "", None),
                ("message", "2", "", None),
                ("a", "3", "", None),
                ("message", "4", "", None),
            ],
        ),
        (
            "event value keeps extra spaces",
            b"event:  x\ndata: 1\n\n".to_vec(),
            vec![(" x", "1", "", None)],
        ),
        (
            "id carried across events",
            b"id: 7\ndata: a\n\ndata: b\n\n".to_vec(),
            vec![("message", "a", "7", None), ("message", "b", "7", None)],
        ),
        (
            "id with NUL ignored",
            b"id: 1\ndata: a\n\nid: 2\x00x\ndata: b\n\n".to_vec(),
            vec![("message", "a", "1", None), ("message", "b", "1", None)],
        ),
        (
            "empty id resets",
            b"id: 7\ndata: a\n\nid\ndata: b\n\n".to_vec(),
            vec![("message", "a", "7", None), ("message", "b", "", None)],
        ),
        (
            "retry all digits",
            b"retry: 1500\ndata: a\n\nretry: 15x\ndata: b\n\nretry:\ndata: c\n\n".to_vec(),
            vec![
                ("message", "a", "", Some(1500)),
                ("message", "b", "", None),
                ("message", "c", "", None),
            ],
        ),
        (
            "unknown fields ignored",
            b"foo: bar\nDATA: x\ndata: a\n\n".to_vec(),
            vec![("message", "a", "", None)],
        ),
        (
            "unterminated event not dispatched",
            b"data: a\n\ndata: b\n".to_vec(),
            vec![("message", "a", "", None)],
        ),
        (
            "unterminated line not dispatched",
            b"data: a\n\ndata: b".to_vec(),
            vec![("message", "a", "", None)],
        ),
        (
            "invalid utf-8 replaced",
            b"data: \xFF\xFEok\n\n".to_vec(),
            vec![("message", "\u{FFFD}\u{FFFD}ok", "", None)],
        ),
        (
            "multi-byte characters",
            "event: é\ndata: naïve café — 雪\n\n".as_bytes().to_vec(),
            vec![("é", "naïve café — 雪", "", None)],
        ),
        (
            "blank lines between events",
            b"\n\n\ndata: a\n\n\n\n".to_vec(),
            vec![("message", "a", "", None)],
        ),
    ]
}

fn decode_chunks(chunks: &[&[u8]]) -> Vec<Event> {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    for c in chunks {
        d.feed(c.to_vec());
        while let Some(e) = d.next_event().expect("no limit is reached") {
            out.push(e);
        }
    }
    out
}

fn check(name: &str, got: &[Event], expected: &Expected) {
    let got: Vec<(String, String, String, Option<u64>)> = got
        .iter()
        .map(|e| (e.event.clone(), e.data.clone(), e.id.clone(), e.retry))
        .collect();
    let want: Vec<(String, String, String, Option<u64>)> = expected
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), *d))
        .collect();
    assert_eq!(got, want, "case `{name}`");
}

#[test]
fn every_rule_whole_and_at_every_split() {
    for (name, input, expected) in cases() {
        check(name, &decode_chunks(&[&input]), &expected);
        for i in 0..=input.len() {
            check(name, &decode_chunks(&[&input[..i], &input[i..]]), &expected);
        }
        for i in 0..=input.len() {
            for j in i..=input.len() {
                check(
                    name,
                    &decode_chunks(&[&input[..i], &input[i..j], &input[j..]]),
                    &expected,
                );
            }
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        check(name, &decode_chunks(&bytes), &expected);
    }
}

#[test]
fn last_event_id_and_reconnection_time_are_readable() {
    let mut d = Decoder::new();
    d.feed(b"id: abc\nretry: 250\n\n".to_vec());
    assert_eq!(d.next_event().unwrap(), None);
    assert_eq!(d.last_event_id(), "abc");
    assert_eq!(d.reconnection_time(), Some(250));
}

#[test]
fn limits_are_errors_and_memory_stays_bounded() {
    let mut d = Decoder::with_limits(16, 1024);
    d.feed(b"data: 0123456789abcdef\n\n".to_vec());
    assert_eq!(d.next_event(), Err(SseError::LineTooLong { limit: 16 }));
    assert_eq!(
        d.next_event(),
        Err(SseError::LineTooLong { limit: 16 }),
        "stays failed"
    );

    // A line that never ends, fed in small chunks, fails as soon as it passes the limit.
    let mut d = Decoder::with_limits(1000, 100_000);
    let mut failed = false;
    for _ in 0..10_000 {
        d.feed(vec![b'x'; 64]);
        if d.next_event().is_err() {
            failed = true;
            break;
        }
    }
    assert!(failed);
    assert!(
        format!("{d:?}").contains("partial_line: 0"),
        "the partial line was released: {d:?}"
    );

    // Many short data lines add up to an event over the limit.
    let mut d = Decoder::with_limits(100, 50);
    d.feed(b"data: 0123456789\n".repeat(10));
    assert_eq!(d.next_event(), Err(SseError::EventTooLarge { limit: 50 }));
}

#[test]
fn a_long_line_in_small_chunks_decodes() {
    let payload = "x".repeat(8 << 20);
    let input = format!("data: {payload}\n\n");
    let mut d = Decoder::new();
    let mut events = Vec::new();
    for c in input.as_bytes().chunks(1024) {
        d.feed(c.to_vec());
        while let Some(e) = d.next_event().unwrap() {
            events.push(e);
        }
    }
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data.len(), 8 << 20);
}

proptest! {
    #[test]
    fn random_splits_decode_like_the_whole(cuts in proptest::collection::vec(0usize..2000, 0..40)) {
        let input: Vec<u8> = cases().into_iter().flat_map(|(_, i, _)| {
            // Restart the BOM/unterminated cases cleanly by ending each with a blank line.
            let mut i = i;
            i.extend_from_slice(b"\n\n");
            i
        }).collect();
        let whole = decode_chunks(&[&input]);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (input.len() + 1)).collect();
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut at = 0;
        for c in cuts {
            pieces.push(&input[at..c]);
            at = c;
        }
        pieces.push(&input[at..]);
        prop_assert_eq!(decode_chunks(&pieces), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512), split in 0usize..512) {
        let split = split.min(input.len());
        let mut d = Decoder::with_limits(128, 256);
        d.feed(input[..split].to_vec());
        while let Ok(Some(_)) = d.next_event() {}
        d.feed(input[split..].to_vec());
        while let Ok(Some(_)) = d.next_event() {}
    }
}

/// The borrowed events (`next_event_ref`, data lent from the buffer while it is one line of
/// it) equal the owned ones at every split, and what a finished event leaves behind is not
/// mistaken for part of the next, unfinished one.
#[test]
fn borrowed_events_equal_owned_ones_and_leave_nothing_behind() {
    let input: &[u8] = b"event: a\nid: 1\ndata: {\"x\":1}\n\ndata: two\ndata: lines\n\n\
        data\n\nevent: b\r\ndata: \xff\r\n\r\ndata: cut";
    let whole = decode_chunks(&[input]);
    for split in 0..input.len() {
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for part in [&input[..split], &input[split..]] {
            d.feed(bytes::Bytes::copy_from_slice(part));
            while let Some(e) = d.next_event_ref().unwrap() {
                got.push(Event::from(e));
            }
        }
        assert_eq!(got, whole, "split at {split}");
        assert_eq!(
            d.unfinished().as_deref(),
            Some("data: cut"),
            "split at {split}"
        );
    }
    assert_eq!(whole.len(), 4);
    assert_eq!(whole[0].event, "a");
    assert_eq!(whole[1].data, "two\nlines");
    assert_eq!(whole[2].data, "");
    assert_eq!(whole[3].data, "\u{fffd}");
}
