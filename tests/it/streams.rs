//! Typed streams: recorded event sequences decoded into typed events (snapshots), every
//! operation end to end against the emulator, and the stream lifecycle (drop cancels, idle
//! timeout, resets, wrong content type, limits).

use crate::common;

use std::time::Duration;

use bookwyrm::{
    AsyncBookWyrmClient, BookWyrmClientError, CitationRequest, CitationStreamEvent,
    ClassifyRequest, ClassifyStreamEvent, EventStream, PdfExtractRequest, PdfStreamEvent,
    PhrasalRequest, PhrasalStreamEvent, StreamEvent, SummarizeRequest, SummarizeStreamEvent,
    TextSpan, TimeoutKind,
};
use futures_util::StreamExt;

/// Decodes a fixture delivered in 7-byte pieces and describes every item.
async fn decode_fixture<E: StreamEvent + std::fmt::Debug>(name: &str) -> String {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let pieces: Vec<Result<bytes::Bytes, std::io::Error>> = bytes
        .chunks(7)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let items: Vec<_> = EventStream::<E>::from_byte_stream(futures_util::stream::iter(pieces))
        .collect()
        .await;
    items
        .iter()
        .map(|item| match item {
            Ok(e) => format!("{} => {e:#?}", e.event_name()),
            Err(BookWyrmClientError::Decode(d)) => {
                format!("decode error: {d} (raw {:?})", d.raw_text())
            }
            Err(other) => format!("error: {other}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn recorded_sequences_decode_into_typed_events() {
    insta::assert_snapshot!(
        "cite_events",
        decode_fixture::<CitationStreamEvent>("cite.sse").await
    );
    insta::assert_snapshot!(
        "summarize_events",
        decode_fixture::<SummarizeStreamEvent>("summarize.sse").await
    );
    insta::assert_snapshot!(
        "phrasal_events",
        decode_fixture::<PhrasalStreamEvent>("phrasal.sse").await
    );
    insta::assert_snapshot!(
        "classify_events",
        decode_fixture::<ClassifyStreamEvent>("classify.sse").await
    );
    insta::assert_snapshot!(
        "pdf_events",
        decode_fixture::<PdfStreamEvent>("pdf.sse").await
    );
}

#[tokio::test]
async fn phrasal_offsets_are_code_points_of_the_story() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let story = common::story();
    let chars: Vec<char> = story.chars().collect();
    assert!(story.contains('é'), "the story has multi-byte characters");
    let phrases = c
        .stream_process_text(PhrasalRequest::from_text(story.clone()))
        .await
        .unwrap()
        .collect_phrases()
        .await
        .unwrap();
    assert!(phrases.len() > 300, "{} phrases", phrases.len());
    let mut last_end = 0;
    for p in &phrases {
        let slice: String = chars[p.start_char as usize..p.end_char as usize]
            .iter()
            .collect();
        assert_eq!(slice, p.text, "offsets round-trip in code points");
        assert!(p.start_char >= last_end, "in order, not overlapping");
        last_end = p.end_char;
    }
    let accented = phrases
        .iter()
        .find(|p| p.text.contains('é'))
        .expect("a phrase with é");
    assert!(accented.end_char as usize <= chars.len());

    // Chunks respect chunk_size.
    let chunks = c
        .stream_process_text(PhrasalRequest::from_text(story.clone()).chunk_size(500))
        .await
        .unwrap()
        .collect_phrases()
        .await
        .unwrap();
    assert!(chunks.len() < phrases.len());
    for ch in &chunks {
        assert!(
            ch.end_char - ch.start_char <= 500,
            "{}",
            ch.end_char - ch.start_char
        );
        let slice: String = chars[ch.start_char as usize..ch.end_char as usize]
            .iter()
            .collect();
        assert_eq!(slice, ch.text);
    }

    // Text only: `text` events.
    let mut s = c
        .stream_process_text(PhrasalRequest::from_text("One. Two.").text_only())
        .await
        .unwrap();
    let mut texts = Vec::new();
    while let Some(e) = s.next().await {
        if let PhrasalStreamEvent::Text(t) = e.unwrap() {
            texts.push(t.text);
        }
    }
    assert_eq!(texts, ["One.", "Two."]);
}

#[tokio::test]
async fn citation_stream_and_json_agree() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let story = common::story();
    let phrases = c
        .stream_process_text(PhrasalRequest::from_text(story).chunk_size(1000))
        .await
        .unwrap()
        .collect_phrases()
        .await
        .unwrap();
    let question =
        "Where does the protagonist experience life threatening situations in the mountains?";
    let request = CitationRequest::from_chunks(phrases.clone(), question);
    let json = c.get_citations(request.clone()).await.unwrap();
    let mut progress = 0;
    let mut stream = c.stream_citations(request.clone()).await.unwrap();
    let mut streamed = Vec::new();
    let mut summary = None;
    while let Some(e) = stream.next().await {
        match e.unwrap() {
            CitationStreamEvent::Progress(_) => progress += 1,
            CitationStreamEvent::Citation(c) => streamed.push(c.citation),
            CitationStreamEvent::Summary(s) => summary = Some(s),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(progress >= 2);
    assert!(!json.citations.is_empty());
    assert_eq!(streamed, json.citations);
    let summary = summary.unwrap();
    assert_eq!(summary.total_citations, json.total_citations);
    assert_eq!(summary.chunks_processed as usize, phrases.len());
    for cit in &json.citations {
        assert!((0..=4).contains(&cit.quality));
        assert_eq!(cit.text, phrases[cit.start_chunk as usize].text);
        assert!(
            cit.reasoning.contains("mountain") || cit.reasoning.contains("life"),
            "{}",
            cit.reasoning
        );
    }
    // The accumulator gives the same.
    let collected = c
        .stream_citations(request)
        .await
        .unwrap()
        .collect_citations()
        .await
        .unwrap();
    assert_eq!(collected.citations, json.citations);
    assert_eq!(
        collected.summary.unwrap().total_citations,
        json.total_citations
    );

    // Several questions: 1-based question_index; start/limit honoured.
    let multi = c
        .get_citations(
            CitationRequest::from_chunks(
                phrases.clone(),
                ["Who is blind?", "What is the valley like?"],
            )
            .start(5)
            .limit(20),
        )
        .await
        .unwrap();
    assert!(!multi.citations.is_empty(), "citations of chunks 5..25");
    for cit in &multi.citations {
        assert!(matches!(cit.question_index, Some(1) | Some(2)));
        assert!((5..25).contains(&cit.start_chunk), "{}", cit.start_chunk);
    }
    // Both questions found something.
    let questions: std::collections::BTreeSet<_> =
        multi.citations.iter().map(|c| c.question_index).collect();
    assert_eq!(questions.len(), 2, "{questions:?}");
}

#[tokio::test]
async fn summarize_stream_and_json_agree() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let request = SummarizeRequest::from_content(common::story())
        .max_tokens(2000)
        .debug(true);
    let json = c.summarize(request.clone()).await.unwrap();
    let mut stream = c.stream_summarize(request.clone()).await.unwrap();
    let mut levels = std::collections::BTreeSet::new();
    let mut last = None;
    while let Some(e) = stream.next().await {
        match e.unwrap() {
            SummarizeStreamEvent::Progress(p) => {
                levels.insert(p.current_level);
            }
            SummarizeStreamEvent::Summary(s) => last = Some(s),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(last.as_ref(), Some(&json));
    assert!(
        json.levels_used >= 2,
        "a 50 KB story at 2000 tokens needs levels"
    );
    assert_eq!(levels.len() as u64, json.levels_used);
    assert_eq!(json.intermediate_summaries.len() as u64, json.levels_used);
    assert!(!json.summary.is_empty());
    let final_summary = c
        .stream_summarize(request)
        .await
        .unwrap()
        .final_summary()
        .await
        .unwrap();
    assert_eq!(final_summary, json);
}

#[tokio::test]
async fn classify_stream_and_upload_agree() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let pdf = common::pdf();
    let upload = c
        .classify(ClassifyRequest::from_bytes(pdf.clone()))
        .await
        .unwrap();
    let streamed = c
        .stream_classify(ClassifyRequest::from_bytes(pdf.clone()).filename("r.pdf"))
        .await
        .unwrap()
        .classification()
        .await
        .unwrap();
    assert_eq!(upload.classification.format_type, "pdf");
    assert_eq!(upload.classification.mime_type, "application/pdf");
    assert_eq!(upload.file_size as usize, pdf.len());
    assert_eq!(
        streamed.classification.content_type,
        upload.classification.content_type
    );
    let py = c
        .classify(
            ClassifyRequest::from_text("import os\n\ndef main():\n    print(os.getcwd())\n")
                .filename("m.py"),
        )
        .await
        .unwrap();
    assert_eq!(py.classification.content_type, "python_code");
    assert!(py.sample_preview.unwrap().starts_with("import os"));
}

#[tokio::test]
async fn pdf_pages_with_boxes() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let result = c
        .extract_pdf(PdfExtractRequest::from_bytes(common::pdf()))
        .await
        .unwrap();
    assert_eq!(result.total_pages, 8);
    assert_eq!(result.metadata.as_ref().unwrap().total_pages_in_document, 8);
    assert!(result.page_errors.is_empty());
    assert!(result.processing_time > 0.0);
    let text: String = result
        .pages
        .iter()
        .flat_map(|p| {
            p.layout_regions
                .iter()
                .filter_map(|r| r.content.text.clone())
        })
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("Small"), "real text comes out");
    for page in &result.pages {
        for r in &page.layout_regions {
            let b = &r.coordinates;
            assert!(b.x1 <= b.x2 && b.y1 <= b.y2, "{b:?}");
            assert!(
                b.x1 >= -1.0 && b.x2 <= 1000.0 && b.y1 >= -50.0 && b.y2 <= 1100.0,
                "{b:?}"
            );
            assert_eq!(r.bbox.len(), 4);
        }
    }

    // start_page / num_pages, and every event kind in order.
    let mut s = c
        .stream_extract_pdf(
            PdfExtractRequest::from_bytes(common::pdf())
                .start_page(2)
                .num_pages(3),
        )
        .await
        .unwrap();
    let mut kinds = Vec::new();
    let mut pages = Vec::new();
    while let Some(e) = s.next().await {
        let e = e.unwrap();
        kinds.push(e.event_name().to_string());
        if let PdfStreamEvent::Page(p) = e {
            pages.push(p.document_page);
        }
    }
    assert_eq!(pages, [2, 3, 4]);
    assert_eq!(kinds.first().map(String::as_str), Some("metadata"));
    assert_eq!(kinds.last().map(String::as_str), Some("complete"));
    assert!(kinds.contains(&"progress".to_string()));
}

#[tokio::test]
async fn a_corrupt_pdf_is_an_error_event() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let corrupt = b"%PDF-1.7\nthis is not really a pdf\n%%EOF".to_vec();
    let events: Vec<_> = c
        .stream_extract_pdf(PdfExtractRequest::from_bytes(corrupt.clone()))
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(events.len(), 1);
    let err = events[0]
        .as_ref()
        .unwrap()
        .server_error()
        .expect("an error event");
    assert!(!err.recoverable());
    assert_eq!(err.error_type(), Some("invalid_pdf"));
    // As Err, through the adaptor and the accumulator.
    let mut s = c
        .stream_extract_pdf(PdfExtractRequest::from_bytes(corrupt.clone()))
        .await
        .unwrap()
        .errors_as_err();
    assert!(matches!(
        s.next().await,
        Some(Err(BookWyrmClientError::ServerEvent(_)))
    ));
    let err = c
        .extract_pdf(PdfExtractRequest::from_bytes(corrupt))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid_pdf"), "{err}");
    // Not a PDF at all: 422 before any event.
    let err = c
        .extract_pdf(PdfExtractRequest::from_bytes(b"hello".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), Some(422));
}

/// A client whose requests carry `fault`, resuming off: these tests are of the failures a
/// stream reports (`tests/it/resume.rs` has the resumes).
fn faulty(emu: &bookwyrm_emulator::Emulator, fault: &str) -> AsyncBookWyrmClient {
    common::no_resume(common::faulty(emu, fault, bookwyrm::RetryPolicy::default()))
}

#[tokio::test]
async fn unknown_events_and_malformed_json_are_items_not_drops() {
    let emu = common::emulator().await;
    let c = faulty(&emu, "unknown-event;malformed-json");
    let items: Vec<_> = c
        .stream_process_text(PhrasalRequest::from_text("One. Two."))
        .await
        .unwrap()
        .collect()
        .await;
    match &items[0] {
        Ok(PhrasalStreamEvent::Unknown(u)) => {
            assert_eq!(u.event(), "mystery_event");
            assert!(u.json().is_some());
        }
        other => panic!("{other:?}"),
    }
    match &items[1] {
        Err(BookWyrmClientError::Decode(d)) => assert_eq!(d.raw_text(), r#"{"this is": not json"#),
        other => panic!("{other:?}"),
    }
    let spans = items
        .iter()
        .filter(|i| matches!(i, Ok(PhrasalStreamEvent::TextSpan(_))))
        .count();
    assert_eq!(spans, 2, "the stream went on after both");
}

#[tokio::test]
async fn a_dripping_stream_decodes_the_same() {
    let emu = common::emulator().await;
    let plain: Vec<_> = common::client(&emu)
        .stream_process_text(PhrasalRequest::from_text("Uno. Dos. Très."))
        .await
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
        .await;
    let dripped: Vec<_> = faulty(&emu, "drip-ms=1")
        .stream_process_text(PhrasalRequest::from_text("Uno. Dos. Très."))
        .await
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(plain.len(), 4);
    assert_eq!(plain, dripped);
}

#[tokio::test]
async fn dropping_a_stream_closes_its_connection() {
    let emu = common::emulator().await;
    let c = faulty(&emu, "stall-after=1");
    let mut s = c
        .stream_process_text(PhrasalRequest::from_text("A. B. C."))
        .await
        .unwrap();
    assert!(s.next().await.unwrap().is_ok());
    assert_eq!(emu.stats().streams_cancelled(), 0);
    drop(s);
    let mut waited = Duration::ZERO;
    while emu.stats().streams_cancelled() == 0 && waited < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    assert_eq!(
        emu.stats().streams_cancelled(),
        1,
        "the server saw the disconnect"
    );
    assert_eq!(emu.stats().in_flight(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_stream_ends_with_its_reason_and_the_other_goes_on() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let text = "One. Two. Three. Four. Five.";
    let uncut: Vec<_> = c
        .stream_process_text(PhrasalRequest::from_text(text))
        .await
        .unwrap()
        .collect_phrases()
        .await
        .unwrap();
    // Two streams of one client: `a` stalls after its first event (the server holds it
    // open), `b` is healthy.
    let mut a = faulty(&emu, "stall-after=1")
        .stream_process_text(PhrasalRequest::from_text("A. B. C."))
        .await
        .unwrap();
    let mut b = c
        .stream_process_text(PhrasalRequest::from_text(text))
        .await
        .unwrap();
    assert!(a.next().await.unwrap().is_ok());
    let first_of_b = b.next().await.unwrap().unwrap();
    let a_id = a.request_id().unwrap().to_string();
    let canceller = a.canceller();
    assert!(!canceller.is_cancelled());
    // Cancelled from another task while `a` waits on the stalled server.
    let waiting = tokio::spawn(async move { (a.next().await, a.next().await) });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(canceller.cancel("the caller went away"));
    let (item, end) = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the cancel woke the waiting stream")
        .unwrap();
    let Some(Err(e @ bookwyrm::BookWyrmClientError::Cancelled(_))) = item else {
        panic!("{item:?}")
    };
    let bookwyrm::BookWyrmClientError::Cancelled(cancelled) = &e else {
        unreachable!()
    };
    assert_eq!(cancelled.reason(), "the caller went away");
    assert_eq!(cancelled.delivered(), 1);
    assert_eq!((e.request_id(), e.attempts()), (Some(a_id.as_str()), 1));
    assert_eq!(
        e.to_string(),
        "the stream was cancelled after 1 event: the caller went away"
    );
    assert!(!e.is_retryable() && e.ends_stream());
    assert!(end.is_none(), "fused after the cancel");
    assert!(!canceller.cancel("again"), "the first reason stays");
    // The server saw `a`'s connection go; `b` is whole.
    let mut waited = Duration::ZERO;
    while emu.stats().streams_cancelled() == 0 && waited < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    assert_eq!(emu.stats().streams_cancelled(), 1, "a's disconnect");
    let mut rest = b.collect_phrases().await.unwrap();
    if let bookwyrm::PhrasalStreamEvent::TextSpan(span) = first_of_b {
        rest.insert(0, span.into());
    }
    assert_eq!(rest, uncut);
    assert_eq!(emu.stats().streams_cancelled(), 1);
}

#[tokio::test]
async fn a_stalled_stream_ends_with_an_idle_timeout() {
    let emu = common::emulator().await;
    let c = faulty(&emu, "stall-after=2")
        .with_config(|c| c.stream_idle_timeout = Some(Duration::from_millis(1000)));
    let mut s = c
        .stream_process_text(PhrasalRequest::from_text("A. B. C."))
        .await
        .unwrap();
    assert!(s.next().await.unwrap().is_ok());
    assert!(s.next().await.unwrap().is_ok());
    match s.next().await {
        Some(Err(BookWyrmClientError::Timeout(t))) => {
            assert_eq!(t.kind(), TimeoutKind::Idle);
            assert_eq!(t.after(), Some(Duration::from_millis(1000)));
        }
        other => panic!("{other:?}"),
    }
    assert!(s.next().await.is_none(), "fused after the error");
    assert!(futures_util::stream::FusedStream::is_terminated(&s));
}

#[tokio::test]
async fn keepalives_keep_a_slow_stream_alive() {
    // The server pauses 1.5 s before each event, longer than the client's 1 s idle limit.
    // With keepalive comments every 200 ms in the pauses the stream survives; with none
    // (an emulator whose keepalive interval is a minute) the same stream times out.
    let request = || PhrasalRequest::from_text("Alpha beta gamma. Delta.");
    let idle = Duration::from_millis(1000);
    let emu = common::emulator().await;
    let c = faulty(&emu, "pause-ms=1500").with_config(|c| c.stream_idle_timeout = Some(idle));
    let phrases = c
        .stream_process_text(request())
        .await
        .unwrap()
        .collect_phrases()
        .await
        .unwrap();
    assert_eq!(phrases.len(), 2);
    assert_eq!(emu.stats().streams_completed(), 1);

    let quiet = bookwyrm_emulator::Emulator::builder()
        .api_key(common::KEY)
        .allow_faults(true)
        .keepalive(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let c = faulty(&quiet, "pause-ms=1500").with_config(|c| c.stream_idle_timeout = Some(idle));
    let err = c
        .stream_process_text(request())
        .await
        .unwrap()
        .collect_phrases()
        .await
        .expect_err("no keepalives: the idle limit ends the stream");
    match err {
        BookWyrmClientError::Timeout(t) => assert_eq!(t.kind(), TimeoutKind::Idle),
        other => panic!("{other:?}"),
    }
    assert_eq!(quiet.stats().streams_completed(), 0);
}

#[tokio::test]
async fn a_reset_mid_stream_is_a_transport_error_after_the_delivered_events() {
    let emu = common::emulator().await;
    let c = faulty(&emu, "reset-after=2");
    let items: Vec<_> = c
        .stream_process_text(PhrasalRequest::from_text("A. B. C. D."))
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(items[0].is_ok() && items[1].is_ok());
    match &items[2] {
        Err(e @ BookWyrmClientError::Transport(_)) => {
            assert!(e.is_retryable());
            assert_eq!(
                e.to_string(),
                "the connection broke after 2 events of the stream had arrived"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_content_type_is_a_decode_error_naming_it() {
    let emu = common::emulator().await;
    let c = faulty(&emu, "content-type=text/plain");
    let err = c
        .stream_process_text(PhrasalRequest::from_text("A."))
        .await
        .unwrap_err();
    match err {
        BookWyrmClientError::Decode(d) => assert!(d.to_string().contains("`text/plain`"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_oversized_line_is_an_error_not_an_oom() {
    let emu = common::emulator().await;
    let c = common::client(&emu).with_config(|c| c.max_sse_line = 64);
    let long = "word ".repeat(100);
    let items: Vec<_> = c
        .stream_process_text(PhrasalRequest::from_text(long))
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    match &items[0] {
        Err(BookWyrmClientError::Decode(d)) => {
            let cause = std::error::Error::source(d).unwrap().to_string();
            assert_eq!(cause, "an SSE line is longer than 64 bytes");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn streams_are_send_unpin_and_concurrent() {
    fn assert_traits<T: Send + Unpin + 'static>(_: &T) {}
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let a = c
        .stream_process_text(PhrasalRequest::from_text("One. Two."))
        .await
        .unwrap();
    let b = c
        .stream_citations(CitationRequest::from_chunks(
            vec![TextSpan::new(0, "Blind men.")],
            "Who is blind?",
        ))
        .await
        .unwrap();
    assert_traits(&a);
    assert_traits(&b);
    let (x, y) = tokio::join!(
        tokio::spawn(a.collect::<Vec<_>>()),
        tokio::spawn(b.collect::<Vec<_>>())
    );
    assert_eq!(x.unwrap().len(), 3);
    let y: Vec<_> = y.unwrap().into_iter().collect::<Result<_, _>>().unwrap();
    let citations = y
        .iter()
        .filter(|e| matches!(e, CitationStreamEvent::Citation(_)))
        .count();
    let summaries = y
        .iter()
        .filter(|e| matches!(e, CitationStreamEvent::Summary(_)))
        .count();
    assert_eq!((citations, summaries), (1, 1), "{y:?}");
}

#[tokio::test]
async fn a_stream_cut_mid_event_says_so_instead_of_dropping_it() {
    let emu = common::emulator().await;
    let c = faulty(&emu, "truncate-after=1");
    let items: Vec<_> = c
        .stream_process_text(PhrasalRequest::from_text("One. Two. Three."))
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(matches!(&items[0], Ok(PhrasalStreamEvent::TextSpan(s)) if s.text == "One."));
    match &items[1] {
        Err(BookWyrmClientError::Decode(d)) => {
            assert!(
                d.to_string().contains("ended in the middle of an event"),
                "{d}"
            );
            assert!(
                d.raw_text().starts_with("event: text_span"),
                "the partial event is kept: {}",
                d.raw_text()
            );
        }
        other => panic!("{other:?}"),
    }
}

/// `collect_with`: the observer sees every event before the accumulator (error events too),
/// undecodable ones go to `malformed`, `waiting` comes when the stream has nothing ready, and a
/// non-recoverable error event ends the collection after the observer saw it.
#[tokio::test]
async fn collect_with_shows_every_event_to_the_observer() {
    use bookwyrm::{CitationResult, Observer};

    #[derive(Default)]
    struct Log(Vec<String>);
    impl Observer<CitationStreamEvent> for Log {
        type Error = BookWyrmClientError;
        fn event(&mut self, e: &CitationStreamEvent) -> Result<(), Self::Error> {
            self.0.push(e.event_name().to_string());
            Ok(())
        }
        fn malformed(&mut self, e: BookWyrmClientError) -> Result<(), Self::Error> {
            let BookWyrmClientError::Decode(d) = e else {
                panic!("{e}")
            };
            self.0.push(format!("malformed: {}", d.raw_text()));
            Ok(())
        }
        fn waiting(&mut self) -> Result<(), Self::Error> {
            self.0.push("waiting".into());
            Ok(())
        }
    }

    let sse = |s: &'static str| Ok::<_, std::io::Error>(bytes::Bytes::from_static(s.as_bytes()));
    let citation = "event: citation\ndata: {\"citation\":{\"start_chunk\":0,\"end_chunk\":0,\"text\":\"t\",\"reasoning\":\"r\",\"quality\":3}}\n\n";
    let bad = "event: citation\ndata: {nope\n\n";
    let soft = "event: error\ndata: {\"error_message\":\"hiccup\",\"recoverable\":true}\n\n";
    let hard = "event: error\ndata: {\"error_message\":\"gone\",\"recoverable\":false}\n\n";
    // The last piece arrives only after a pending poll: the stream waits once (the sender is
    // dropped right after it, on this current-thread runtime, so no wait follows).
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tx.send(sse(citation)).unwrap();
    tx.send(sse(bad)).unwrap();
    tx.send(sse(soft)).unwrap();
    let later = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        tx.send(sse(citation)).unwrap();
    });
    let rx = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut log = Log::default();
    let result = EventStream::<CitationStreamEvent>::from_byte_stream(rx)
        .collect_with(CitationResult::default(), &mut log)
        .await
        .unwrap();
    later.await.unwrap();
    assert_eq!(result.citations.len(), 2);
    assert_eq!(result.errors.len(), 1, "the recoverable error is kept");
    assert_eq!(
        log.0,
        [
            "citation",
            "malformed: {nope",
            "error",
            "waiting",
            "citation"
        ]
    );

    // A non-recoverable error event ends it, after the observer saw it.
    let stream = futures_util::stream::iter([sse(citation), sse(hard), sse(citation)]);
    let mut log = Log::default();
    let err = EventStream::<CitationStreamEvent>::from_byte_stream(stream)
        .collect_with(CitationResult::default(), &mut log)
        .await
        .unwrap_err();
    assert!(matches!(err, BookWyrmClientError::ServerEvent(ref e) if e.message() == "gone"));
    assert_eq!(log.0, ["citation", "error"]);
    // Without an observer, a malformed event is an error (as collect_citations always was).
    let stream = futures_util::stream::iter([sse(bad)]);
    let err = EventStream::<CitationStreamEvent>::from_byte_stream(stream)
        .collect_citations()
        .await
        .unwrap_err();
    assert!(matches!(err, BookWyrmClientError::Decode(_)));
}
