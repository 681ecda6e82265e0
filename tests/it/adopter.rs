//! What a new user reaches for: per-handle headers, accumulators that keep good events past a
//! malformed one, and the small conversions between stream events and inputs.

use crate::common;

use bookwyrm::{
    CitationRequest, MalformedEvents, PdfExtractRequest, PhrasalRequest, PhrasalStreamEvent,
    TextSpan,
};

/// The story's phrases, as chunks for citations (events converted with `From`).
async fn chunks(client: &bookwyrm::AsyncBookWyrmClient) -> Vec<TextSpan> {
    let mut s = client
        .stream_process_text(PhrasalRequest::from_text(common::story()).chunk_size(1000))
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Some(e) = s.next().await {
        if let PhrasalStreamEvent::TextSpan(span) = e.unwrap() {
            out.push(TextSpan::from(span));
        }
    }
    out
}

#[tokio::test]
async fn a_malformed_event_does_not_cost_the_good_ones() {
    let emu = common::emulator().await;
    let client = common::client(&emu);
    let chunks = chunks(&client).await;
    assert!(chunks.len() > 20);
    let question = "Where does the protagonist experience life threatening situations?";
    let request = || CitationRequest::from_chunks(chunks.clone(), question);
    let clean = client
        .stream_citations(request())
        .await
        .unwrap()
        .collect_citations()
        .await
        .unwrap();
    assert!(!clean.citations.is_empty());

    let faulty = client
        .with_header("x-bookwyrm-fault", "malformed-json")
        .unwrap();
    // Strict: the first malformed event ends the collection.
    let strict = faulty
        .stream_citations(request())
        .await
        .unwrap()
        .collect_citations()
        .await;
    assert!(
        matches!(strict, Err(bookwyrm::BookWyrmClientError::Decode(_))),
        "{strict:?}"
    );
    // Lenient: every good event is kept, the bad one is reported beside the result.
    let skipped = MalformedEvents::default();
    let lenient = faulty
        .stream_citations(request())
        .await
        .unwrap()
        .skip_malformed(&skipped)
        .collect_citations()
        .await
        .unwrap();
    assert_eq!(lenient.citations, clean.citations);
    let problems = skipped.take();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].to_string().contains("citation"),
        "{}",
        problems[0]
    );
    assert!(skipped.is_empty());
}

#[tokio::test]
async fn with_header_sends_a_header_from_a_derived_handle() {
    let emu = common::emulator().await;
    let client = common::client(&emu);
    let flaky = client
        .with_header("x-bookwyrm-fault", "status=503;times=1")
        .unwrap();
    let fast = flaky.with_config(|c| {
        c.retry.initial_backoff = std::time::Duration::from_millis(10);
    });
    assert!(!chunks(&fast).await.is_empty(), "retried past the 503");
    assert!(!chunks(&client).await.is_empty());
    let sent = emu.recorded(false);
    let with: Vec<bool> = sent
        .iter()
        .map(|r| r.headers.iter().any(|(n, _)| n == "x-bookwyrm-fault"))
        .collect();
    assert_eq!(
        with,
        [true, true, false],
        "the 503, its retry, then the plain handle"
    );
    assert!(client.with_header("bad header", "x").is_err());
    assert!(client.with_header("x-ok", "bad\nvalue").is_err());
}

#[tokio::test]
async fn pdf_text_is_found_and_boxed_once_per_element() {
    let emu = common::emulator().await;
    let client = common::client(&emu);
    let result = client
        .extract_pdf(PdfExtractRequest::from_bytes(common::pdf()))
        .await
        .unwrap();
    let mapping = result.text_mapping();
    // Across two text elements, after a multi-byte character: offsets are code points.
    let needle = "TP—20250000142\nState-of-the-Art";
    let range = mapping.find(needle).expect("the title is in the text");
    assert_eq!(range.end - range.start, needle.chars().count() as u64);
    let found: String = mapping
        .raw_text
        .chars()
        .skip(range.start as usize)
        .take(needle.chars().count())
        .collect();
    assert_eq!(found, needle);
    let query = mapping.query(range.start, range.end).unwrap();
    let boxes = query.element_boxes();
    assert_eq!(boxes.len(), 2, "{boxes:?}");
    assert_eq!(
        boxes.iter().map(|b| b.characters).sum::<u64>(),
        query.character_count
    );
    let mut keys: Vec<_> = boxes
        .iter()
        .map(|b| (b.page_number, b.element_index))
        .collect();
    keys.dedup();
    assert_eq!(keys.len(), boxes.len(), "each element once");
    assert!(boxes.iter().all(|b| b.x2 >= b.x1 && b.y2 >= b.y1));
}
