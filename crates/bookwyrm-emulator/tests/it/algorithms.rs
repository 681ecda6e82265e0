//! The emulator's algorithms on real inputs, and its HTTP surface on hostile ones.

use bookwyrm_emulator::algo::{classify::classify, pdf::Pdf, phrasal::phrases, summarize, text};
use proptest::prelude::*;
use serde_json::json;

fn story() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/country-of-the-blind.txt"
    ))
    .unwrap()
}

fn pdf_bytes() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/nasa-smallsat-excerpt.pdf"
    ))
    .unwrap()
}

fn by_chars(s: &str, start: usize, end: usize) -> String {
    s.chars().skip(start).take(end - start).collect()
}

/// [`by_chars`] for many slices of one text: the byte offset of every code point (and of
/// the end), counted once, so that checking every chunk is not quadratic in the text.
struct CharIndex<'a> {
    text: &'a str,
    bytes: Vec<usize>,
}

impl<'a> CharIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut bytes: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        bytes.push(text.len());
        Self { text, bytes }
    }

    /// Code points `start..end`, as [`by_chars`] slices them.
    fn slice(&self, start: usize, end: usize) -> &'a str {
        &self.text[self.bytes[start]..self.bytes[end]]
    }
}

#[test]
fn phrase_offsets_round_trip_in_code_points() {
    let mixed = "Ünïcödé först. 雪が降る。 Then an emoji 🎉 appears! Naïve café? Yes.";
    for t in [story(), mixed.to_string()] {
        let spans = phrases(&t, None);
        assert!(!spans.is_empty());
        let mut last = 0;
        for s in &spans {
            assert_eq!(by_chars(&t, s.start_char, s.end_char), s.text(&t));
            assert_eq!(s.text(&t), s.text(&t).trim(), "trimmed");
            assert!(s.start_char >= last);
            last = s.end_char;
        }
    }
}

#[test]
fn chunk_sizes_are_respected() {
    let t = story();
    let index = CharIndex::new(&t);
    // The index slices as `by_chars` does.
    for (start, end) in [
        (0, 0),
        (0, 10),
        (1000, 1234),
        (t.chars().count() - 5, t.chars().count()),
    ] {
        assert_eq!(index.slice(start, end), by_chars(&t, start, end));
    }
    for size in [1, 7, 50, 500, 5000] {
        let chunks = phrases(&t, Some(size));
        assert!(!chunks.is_empty());
        for c in &chunks {
            assert!(c.len_chars() <= size, "size {size}: {}", c.len_chars());
            assert_eq!(index.slice(c.start_char, c.end_char), c.text(&t));
        }
        // Nothing but white space is lost between chunks.
        let covered: usize = chunks.iter().map(|c| c.len_chars()).sum();
        let non_ws = t.chars().filter(|c| !c.is_whitespace()).count();
        let covered_non_ws: usize = chunks
            .iter()
            .map(|c| c.text(&t).chars().filter(|c| !c.is_whitespace()).count())
            .sum();
        assert_eq!(
            covered_non_ws, non_ws,
            "size {size}: every visible character is in a chunk"
        );
        assert!(covered <= t.chars().count());
    }
}

#[test]
fn pdf_pages_and_boxes_on_a_real_pdf() {
    let pdf = Pdf::load(&pdf_bytes()).unwrap();
    assert_eq!(pdf.page_count(), 8);
    let mut all = String::new();
    for page in 1..=8 {
        let text = pdf.lines(page).unwrap();
        assert!(
            text.width > 500.0 && text.height > 500.0,
            "a letter-size page: {}x{}",
            text.width,
            text.height
        );
        let lines = text.lines;
        for l in &lines {
            assert!(l.x1 <= l.x2 && l.y1 <= l.y2, "{l:?}");
            let (w, h) = (text.width + 2.0, text.height + 2.0);
            assert!(
                l.x1 > -2.0 && l.x2 < w && l.y1 > -2.0 && l.y2 < h,
                "page {page} ({w}x{h}): {l:?}"
            );
            assert!(!l.text.trim().is_empty());
        }
        all.push_str(
            &lines
                .iter()
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    assert!(all.contains("Spacecraft"), "{}", &all[..all.len().min(500)]);
    assert!(pdf.lines(0).is_err() && pdf.lines(9).is_err());
}

#[test]
fn broken_pdfs_are_errors_not_panics() {
    // Not PDFs, or PDFs with nothing to recover: an error that says why.
    for (bad, why) in [
        (b"not a pdf".to_vec(), "no %PDF- header"),
        (b"%PDF-1.7\n".to_vec(), "could not be parsed"),
        (
            b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF".to_vec(),
            "could not be parsed",
        ),
    ] {
        match Pdf::load(&bad) {
            Err(e) => assert!(e.to_string().contains(why), "{e} (wanted {why:?})"),
            Ok(pdf) => panic!("loaded {} pages from {bad:?}", pdf.page_count()),
        }
    }
    // The first half of a real PDF: what survives is recovered. Its first page reads exactly
    // as in the whole file; a page whose content was cut off is an error naming that page.
    let real = pdf_bytes();
    let whole = Pdf::load(&real).unwrap();
    let half = Pdf::load(&real[..real.len() / 2]).expect("the first half is recovered");
    assert!(half.page_count() >= 2, "{} pages", half.page_count());
    assert_eq!(half.lines(1).unwrap(), whole.lines(1).unwrap());
    let mut cut_off = 0;
    for p in 2..=half.page_count() {
        match half.lines(p) {
            Ok(page) => assert_eq!(page, whole.lines(p).unwrap(), "page {p}"),
            Err(e) => {
                assert!(e.starts_with(&format!("page {p}: ")), "{e}");
                cut_off += 1;
            }
        }
    }
    assert!(cut_off >= 1, "the cut left every page whole");
}

#[test]
fn classify_real_file_types() {
    let png =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let gzip = b"\x1f\x8b\x08\0\0\0\0\0\0\x03".to_vec();
    let cases: Vec<(Vec<u8>, Option<&str>, &str, &str)> = vec![
        (pdf_bytes(), None, "pdf", "application/pdf"),
        (png, None, "image", "image/png"),
        (gzip, None, "archive", "application/gzip"),
        (
            story().into_bytes(),
            Some("story.txt"),
            "text",
            "text/plain",
        ),
        (
            b"{\"a\": 1, \"b\": [true]}".to_vec(),
            None,
            "text",
            "application/json",
        ),
        (
            b"{\"text\":\"a\"}\n{\"text\":\"b\"}\n".to_vec(),
            None,
            "text",
            "application/jsonl",
        ),
        (
            b"name,age\nann,3\nbob,4\n".to_vec(),
            None,
            "text",
            "text/csv",
        ),
        (
            b"import sys\n\ndef main():\n    return 0\n".to_vec(),
            None,
            "text",
            "text/x-python",
        ),
        (
            b"# Title\n\n- a\n- b\n".to_vec(),
            None,
            "text",
            "text/markdown",
        ),
        (
            b"<!DOCTYPE html><html></html>".to_vec(),
            None,
            "text",
            "text/html",
        ),
        (
            vec![0, 159, 146, 150, 1, 2, 3],
            None,
            "binary",
            "application/octet-stream",
        ),
    ];
    for (bytes, name, format, mime) in cases {
        let c = classify(&bytes, name);
        assert_eq!(
            (c.format_type.as_str(), c.mime_type.as_str()),
            (format, mime),
            "{:?}",
            c
        );
        assert!((0.0..=1.0).contains(&c.confidence));
        assert_eq!(c.preview.is_some(), format == "text");
    }
    let empty = classify(b"", None);
    assert!((0.0..=1.0).contains(&empty.confidence));
}

/// The structured-summary schema of the reference docs (`data/summary.py`) as pydantic emits
/// it: optional fields as `anyOf` with null, a `date` format.
fn pydantic_summary_schema() -> serde_json::Value {
    json!({
        "title": "Summary", "type": "object",
        "properties": {
            "title": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Title"},
            "author": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null},
            "date_of_publication": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}], "default": null},
            "plot": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "timeline": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "important_characters": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
            "setting": {"$ref": "#/$defs/Setting"},
            "rating": {"type": "integer"},
            "is_fiction": {"type": "boolean"}
        },
        "required": ["setting", "rating", "is_fiction"],
        "$defs": {"Setting": {"type": "object", "properties": {"place": {"type": ["string", "null"]}, "era": {"type": "string"}}, "required": ["era"]}}
    })
}

#[test]
fn structured_summaries_validate_against_their_schema() {
    let t = story();
    let sents: Vec<String> = text::sentences(&t)
        .iter()
        .map(|s| s.text(&t).to_string())
        .collect();
    let summary = summarize::summarize(&sents, 3000, &mut |_, _, _, _| {});
    assert!(summary.levels.len() >= 2);
    let facts = summarize::facts(&t);
    let schema = pydantic_summary_schema();
    let value = summarize::structured(&schema, &facts, &summary, &t);
    // An independent validator (boon, draft 2020-12), with `format` asserted too.
    let (mut schemas, mut compiler) = (boon::Schemas::new(), boon::Compiler::new());
    compiler.enable_format_assertions();
    compiler
        .add_resource("urn:summary", schema.clone())
        .unwrap();
    let compiled = compiler.compile("urn:summary", &mut schemas).unwrap();
    if let Err(e) = schemas.validate(&value, compiled) {
        panic!("{e:#}\n{value:#}");
    }
    assert_eq!(value["author"], "H. G. Wells");
    assert_eq!(value["date_of_publication"], "2004-01-01");
    assert!(value["important_characters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "Nunez"));
    assert!(value["plot"].as_str().unwrap().len() > 100);
}

#[test]
fn summaries_respect_max_tokens_per_chunk() {
    let t = story();
    let sents: Vec<String> = text::sentences(&t)
        .iter()
        .map(|s| s.text(&t).to_string())
        .collect();
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    for max in [200, 1000, 10_000] {
        // The chunks: every sentence once and in order, each chunk within `max` tokens (or a
        // single longer sentence), and none that could have taken the next sentence too.
        let chunks = summarize::chunk(&sents, max);
        assert_eq!(chunks.concat(), sents, "max {max}");
        for (i, c) in chunks.iter().enumerate() {
            let size: usize = c.iter().map(|s| text::tokens(s)).sum();
            assert!(
                size <= max || c.len() == 1,
                "max {max}: chunk {i} has {size} tokens"
            );
            if let Some(next) = chunks.get(i + 1) {
                assert!(
                    size + text::tokens(&next[0]) > max,
                    "max {max}: chunk {i} stops early"
                );
            }
        }
        // The first level summarizes those chunks, one summary each, from its own sentences.
        let mut first_level_total = 0;
        let s = summarize::summarize(&sents, max, &mut |level, _, total, _| {
            if level == 1 {
                first_level_total = total;
            }
        });
        assert_eq!(first_level_total, chunks.len(), "max {max}");
        let first = &s.levels[0];
        assert_eq!(first.summaries.len(), chunks.len(), "max {max}");
        for (sub, c) in first.summaries.iter().zip(&chunks) {
            // The summary is some of the chunk's sentences, in their order, joined by spaces.
            let mut rest = sub.as_str();
            for own in c.iter().map(|s| squash(s)) {
                if let Some(after) = rest.strip_prefix(own.as_str()) {
                    rest = after.trim_start();
                }
            }
            assert!(rest.is_empty(), "max {max}: {rest:?} is not from its chunk");
            assert!(!sub.is_empty());
        }
        assert!(!s.text.is_empty());
    }
}

proptest! {
    #[test]
    fn algorithms_never_panic(input in ".{0,400}", bytes in proptest::collection::vec(any::<u8>(), 0..400), size in 0usize..50) {
        let spans = phrases(&input, Some(size));
        for s in spans {
            prop_assert_eq!(by_chars(&input, s.start_char, s.end_char), s.text(&input));
        }
        let _ = classify(&bytes, Some("x.bin"));
        let _ = Pdf::load(&bytes);
        let mut prefixed = b"%PDF-1.4\n".to_vec();
        prefixed.extend_from_slice(&bytes);
        if let Ok(pdf) = Pdf::load(&prefixed) {
            for p in 1..=pdf.page_count().min(3) {
                let _ = pdf.lines(p);
            }
        }
        let sents: Vec<String> = text::sentences(&input).iter().map(|s| s.text(&input).to_string()).collect();
        let _ = summarize::summarize(&sents, size + 1, &mut |_, _, _, _| {});
    }
}
