//! Streams that survive a dropped connection (resume on, the default). Against the emulator's
//! byte-offset faults: the answer cut at every byte offset (inside the head, inside a
//! multi-byte character, between `\r` and `\n`, after the final event), seeded runs with
//! several cuts, two cuts before any new event. Each run's events must equal an uncut run's,
//! with one final event, progress that never goes backwards, and the resume requests the
//! emulator recorded must ask for exactly the rest.

use crate::common;

use std::time::Duration;

use bookwyrm::{
    AsyncBookWyrmClient, BookWyrmClientError, CitationRequest, CitationStreamEvent,
    ClassifyRequest, ClassifyStreamEvent, InterruptReason, PdfExtractRequest, PdfStreamEvent,
    PhrasalRequest, PhrasalStreamEvent, ResumePoint, ResumePolicy, RetryPolicy, SummarizeRequest,
    SummarizeStreamEvent,
};
use bookwyrm_emulator::{Emulator, RecordedRequest};

const PAGES: [&str; 3] = ["First page text", "Second page text", "Third page text"];

/// Short, with multi-byte characters (2, 3 and 4 bytes) inside and between the sentences.
const TEXT: &str = "Núñez walked in. The café was “full”. Then — quiet! Was it 🦉? Yes.";

/// Retries and resumes without waiting.
fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(2))
        .jitter(false)
}

/// A new client (its own connections: a reset then meets a fresh connection, as in a first
/// call) whose requests carry `fault`.
fn client(emu: &Emulator, fault: &str) -> AsyncBookWyrmClient {
    common::faulty(emu, fault, fast())
}

/// The cut (`close-after-bytes`: a clean close, so every byte before it reaches the client)
/// that lets exactly `k` events of `open`'s stream through, found with resuming and retries
/// off: the smallest such cut. (A reset can discard bytes the client had not read yet, so a
/// cut by reset is not exact.) The events let through never decrease as the cut grows, and
/// one more byte completes at most one event, so a binary search for the smallest cut that
/// lets `k` through finds it in a few runs instead of one per byte.
async fn cut_after<F, Fut>(emu: &Emulator, k: usize, open: F) -> String
where
    F: Fn(AsyncBookWyrmClient) -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let events = |n: usize| {
        let fault = format!("close-after-bytes={n};tag=scan");
        open(common::no_resume(common::faulty(
            emu,
            &fault,
            RetryPolicy::none(),
        )))
    };
    let (mut low, mut high) = (0, 20_000);
    assert!(events(high).await >= k, "no cut lets {k} events through");
    while low < high {
        let mid = (low + high) / 2;
        if events(mid).await >= k {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    assert_eq!(events(low).await, k, "the smallest cut letting {k} through");
    assert!(low == 0 || events(low - 1).await < k);
    emu.recorded(true);
    format!("close-after-bytes={low}")
}

/// How many events a stream delivers before it ends.
async fn count<E: bookwyrm::StreamEvent>(
    stream: Result<bookwyrm::EventStream<E>, BookWyrmClientError>,
) -> usize {
    items(stream, "count").await.0.len()
}

/// Every item of a stream, bounded in time; the last may be an error.
async fn items<E: bookwyrm::StreamEvent>(
    stream: Result<bookwyrm::EventStream<E>, BookWyrmClientError>,
    what: &str,
) -> (Vec<E>, Option<BookWyrmClientError>, u32) {
    let mut stream = match stream {
        Ok(s) => s,
        Err(e) => return (Vec::new(), Some(e), 0),
    };
    let run = async {
        let mut events = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(e) => events.push(e),
                Err(e) => {
                    assert!(e.ends_stream(), "{what}: {e:?}");
                    assert!(stream.next().await.is_none(), "{what}: fused");
                    return (events, Some(e));
                }
            }
        }
        (events, None)
    };
    let (events, error) = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .unwrap_or_else(|_| panic!("{what}: hung"));
    (events, error, stream.resumes())
}

/// A PDF stream's events without progress, `complete` without its timing.
fn pdf_content(events: &[PdfStreamEvent]) -> Vec<String> {
    events
        .iter()
        .filter(|e| !matches!(e, PdfStreamEvent::Progress(_)))
        .map(|e| match e {
            PdfStreamEvent::Complete(c) => {
                let mut c = c.clone();
                c.processing_time = None;
                format!("{c:?}")
            }
            other => format!("{other:?}"),
        })
        .collect()
}

/// Progress never goes backwards and always says the run's total.
fn check_pdf_progress(events: &[PdfStreamEvent], total: u64, what: &str) {
    let mut last = 0;
    for e in events {
        if let PdfStreamEvent::Progress(p) = e {
            assert!(p.pages_processed >= last, "{what}: progress went back");
            assert_eq!(p.total_pages, total, "{what}");
            last = p.pages_processed;
        }
    }
}

/// A multipart form field of a recorded upload.
fn form_field(r: &RecordedRequest, name: &str) -> Option<u64> {
    let body = String::from_utf8_lossy(&r.body);
    let head = format!("name=\"{name}\"\r\n\r\n");
    let rest = &body[body.find(&head)? + head.len()..];
    rest[..rest.find("\r\n")?].parse().ok()
}

#[tokio::test]
async fn a_pdf_reset_at_every_byte_offset_resumes_to_the_uncut_result() {
    pdf_cut_at_every_byte_offset("reset-after-bytes").await;
}

#[tokio::test]
async fn a_pdf_closed_at_every_byte_offset_resumes_to_the_uncut_result() {
    pdf_cut_at_every_byte_offset("close-after-bytes").await;
}

async fn pdf_cut_at_every_byte_offset(mode: &str) {
    let emu = common::emulator().await;
    let pdf = common::small_pdf(&PAGES);
    let request = || PdfExtractRequest::from_bytes(pdf.clone());
    let c = client(&emu, "tag=uncut");
    let (full, err, _) = items(c.stream_extract_pdf(request()).await, "uncut").await;
    assert!(err.is_none(), "{err:?}");
    let want = pdf_content(&full);
    assert_eq!(want.len(), 5, "metadata, 3 pages, complete: {want:?}");
    emu.recorded(true);
    {
        // Past the last page a cut needs no new request: the run ends after 64 bytes of such
        // cuts in a row (into and past `complete`). Every offset in CI (`sweep_step`).
        let step = common::sweep_step();
        let (mut resumed, mut n, mut whole) = (0, 0, 0);
        loop {
            let fault = format!("{mode}={n};times=1");
            let (events, err, resumes) = items(
                client(&emu, &fault).stream_extract_pdf(request()).await,
                &fault,
            )
            .await;
            assert!(err.is_none(), "{fault}: {err:?}");
            assert_eq!(pdf_content(&events), want, "{fault}");
            check_pdf_progress(&events, 3, &fault);
            let requests = emu.recorded(true);
            // One cut: one more request at most (a resume, or a retry before any event).
            assert!(
                requests.len() <= 2 && resumes <= 1,
                "{fault}: {}",
                requests.len()
            );
            // The first request asks for everything; a resume for exactly the pages after the
            // last delivered (a retry before any event repeats the first request).
            assert_eq!(form_field(&requests[0], "start_page"), None, "{fault}");
            if resumes == 1 {
                let last = requests.last().unwrap();
                let start = form_field(last, "start_page").expect("start_page");
                let count = form_field(last, "num_pages").expect("num_pages");
                assert!((1..=3).contains(&start), "{fault}: {start}");
                assert_eq!(start + count, 4, "{fault}: the rest, {start} + {count}");
                resumed += 1;
            }
            whole = if requests.len() == 1 { whole + step } else { 0 };
            if whole >= 64 {
                break;
            }
            n += step;
            assert!(n < 50_000, "{mode}: never reached the end");
        }
        assert!(
            resumed > 1000 / step,
            "{mode}: {resumed} resumes in {n} bytes"
        );
    }
}

/// The spans of a phrasal stream, checked: progress counters consistent with the spans
/// (phrases so far, bytes of the text up to the last one) and never going backwards.
fn spans(events: &[PhrasalStreamEvent], text: &str, what: &str) -> Vec<(u64, u64, String)> {
    let bytes = byte_offsets(text);
    let mut out: Vec<(u64, u64, String)> = Vec::new();
    let mut last = (0, 0);
    for e in events {
        match e {
            PhrasalStreamEvent::TextSpan(s) => {
                let got = &text[bytes[s.start_char as usize]..bytes[s.end_char as usize]];
                assert_eq!(got, s.text, "{what}: offsets point at the text");
                out.push((s.start_char, s.end_char, s.text.clone()));
            }
            PhrasalStreamEvent::Progress(p) => {
                assert_eq!(p.phrases_processed as usize, out.len(), "{what}: {p:?}");
                let end = out.last().map_or(0, |s| s.1 as usize);
                assert_eq!(p.bytes_processed as usize, bytes[end], "{what}: {p:?}");
                assert!((p.phrases_processed, p.bytes_processed) >= last, "{what}");
                last = (p.phrases_processed, p.bytes_processed);
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    out
}

/// The byte offset of every code point of `text`, and of its end.
fn byte_offsets(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(b, _)| b)
        .chain([text.len()])
        .collect()
}

/// The `text` of each recorded phrasal request.
fn texts(requests: &[RecordedRequest]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_phrasal_stream_cut_at_every_byte_offset_resumes_from_the_last_end_char() {
    let emu = common::emulator().await;
    let c = client(&emu, "tag=uncut");
    let (full, _, _) = items(
        c.stream_process_text(PhrasalRequest::from_text(TEXT)).await,
        "uncut",
    )
    .await;
    let want = spans(&full, TEXT, "uncut");
    assert_eq!(want.len(), 5, "{want:?}");
    let bytes = byte_offsets(TEXT);
    let ends: Vec<usize> = want.iter().map(|s| bytes[s.1 as usize]).collect();
    emu.recorded(true);
    // Every offset in CI (`sweep_step`).
    let step = common::sweep_step();
    for mode in ["reset-after-bytes", "close-after-bytes"] {
        let (mut resumed, mut n, mut whole) = (0, 0, 0);
        loop {
            let fault = format!("{mode}={n};times=1");
            let (events, err, resumes) = items(
                client(&emu, &fault)
                    .stream_process_text(PhrasalRequest::from_text(TEXT))
                    .await,
                &fault,
            )
            .await;
            assert!(err.is_none(), "{fault}: {err:?}");
            assert_eq!(spans(&events, TEXT, &fault), want, "{fault}");
            let sent = texts(&emu.recorded(true));
            assert_eq!(sent[0], TEXT, "{fault}");
            if resumes == 1 {
                // The rest of the text from the end of a delivered span.
                let rest = sent.last().unwrap();
                assert!(
                    ends.iter().any(|&b| TEXT[b..] == **rest),
                    "{fault}: resumed with {rest:?}"
                );
                resumed += 1;
            }
            whole = if sent.len() == 1 { whole + step } else { 0 };
            if whole >= 64 {
                break; // into and past the last event: no new request needed
            }
            n += step;
            assert!(n < 50_000, "{mode}: never reached the end");
        }
        assert!(
            resumed > 200 / step,
            "{mode}: {resumed} resumes in {n} bytes"
        );
    }
}

/// A tiny seeded generator (no dependency): the same runs every time.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn seeded_runs_with_several_cuts_give_the_uncut_result() {
    let emu = common::emulator().await;
    let story = common::story();
    let shared: std::sync::Arc<str> = story.as_str().into();
    let (full, _, _) = items(
        client(&emu, "tag=uncut")
            .stream_process_text(PhrasalRequest::from_shared_text(shared.clone()))
            .await,
        "uncut",
    )
    .await;
    let want = spans(&full, &story, "uncut");
    let pdf = common::small_pdf(&["One", "Two", "Three", "Four", "Five", "Six"]);
    let (pdf_full, _, _) = items(
        client(&emu, "tag=uncut")
            .stream_extract_pdf(PdfExtractRequest::from_bytes(pdf.clone()))
            .await,
        "uncut pdf",
    )
    .await;
    let pdf_want = pdf_content(&pdf_full);
    let mut rng = Lcg(0x5eed);
    let mut total_resumes = 0;
    // Cuts before the first event are retried (up to 4 of them here), the others resumed.
    let client = |emu: &Emulator, fault: &str| common::faulty(emu, fault, fast().max_retries(5));
    for run in 0..40 {
        let cuts = 2 + rng.below(3);
        let fault = format!(
            "reset-after-bytes={};times={cuts};tag={run}",
            200 + rng.below(40_000)
        );
        let (events, err, resumes) = items(
            client(&emu, &fault)
                .stream_process_text(PhrasalRequest::from_shared_text(shared.clone()))
                .await,
            &fault,
        )
        .await;
        assert!(err.is_none(), "{fault}: {err:?}");
        assert_eq!(spans(&events, &story, &fault), want, "{fault}");
        total_resumes += resumes;
        let fault = format!(
            "reset-after-bytes={};times={cuts};tag=pdf{run}",
            150 + rng.below(2_500)
        );
        let (events, err, resumes) = items(
            client(&emu, &fault)
                .stream_extract_pdf(PdfExtractRequest::from_bytes(pdf.clone()))
                .await,
            &fault,
        )
        .await;
        assert!(err.is_none(), "{fault}: {err:?}");
        assert_eq!(pdf_content(&events), pdf_want, "{fault}");
        check_pdf_progress(&events, 6, &fault);
        total_resumes += resumes;
    }
    assert!(total_resumes > 60, "{total_resumes} resumes in 80 runs");
}

#[tokio::test]
async fn chunked_phrasal_resumes_at_a_sentence_end_and_checks_the_repeated_chunks() {
    let emu = common::emulator().await;
    let story = common::story();
    let request = || PhrasalRequest::from_text(story.clone()).chunk_size(80);
    let (full, _, _) = items(
        client(&emu, "tag=uncut")
            .stream_process_text(request())
            .await,
        "uncut",
    )
    .await;
    let want = spans(&full, &story, "uncut");
    let bytes = byte_offsets(&story);
    let ends: Vec<usize> = want.iter().map(|s| bytes[s.1 as usize]).collect();
    emu.recorded(true);
    let (mut equal, mut stepped_back) = (0, 0);
    for i in 0..60u64 {
        let fault = format!("reset-after-bytes={};times=1", 300 + i * 1_531);
        let (events, err, resumes) = items(
            client(&emu, &fault).stream_process_text(request()).await,
            &fault,
        )
        .await;
        let sent = texts(&emu.recorded(true));
        match err {
            None => {
                assert_eq!(spans(&events, &story, &fault), want, "{fault}");
                equal += 1;
            }
            // Never a silently different result: a typed error, after a prefix of the spans.
            Some(BookWyrmClientError::Interrupted(i)) => {
                assert!(matches!(i.reason(), InterruptReason::Diverged(_)), "{i}");
                let got = spans(&events, &story, &fault);
                assert_eq!(got, want[..got.len()], "{fault}");
            }
            Some(e) => panic!("{fault}: {e:?}"),
        }
        if resumes == 1 {
            // The rest starts at the end of a delivered chunk that ends a sentence, not
            // necessarily the last one: the chunks after it were asked for again.
            let rest = sent.last().unwrap();
            let at = story.len() - rest.len();
            assert_eq!(&story[at..], rest.as_str());
            // The end of one of the uncut run's chunks that ends a sentence (or the start).
            let sentence_end = story[..at]
                .trim_end()
                .ends_with(['.', '!', '?', '"', '”', '’']);
            assert!(
                at == 0 || (ends.contains(&at) && sentence_end),
                "{fault}: resumed at byte {at}"
            );
            stepped_back += 1;
        }
    }
    assert!(stepped_back > 40, "{stepped_back} resumes");
    assert_eq!(equal, 60, "every resumed chunked run equals the uncut one");
}

#[tokio::test]
async fn two_cuts_before_any_new_event_resume_twice_and_the_limit_holds() {
    let emu = common::emulator().await;
    let pdf = common::small_pdf(&PAGES);
    let request = || PdfExtractRequest::from_bytes(pdf.clone());
    // The cut that lets exactly one event (`metadata`) through.
    let cut = cut_after(&emu, 1, |c| {
        let r = request();
        async move { count(c.stream_extract_pdf(r).await).await }
    })
    .await;
    emu.recorded(true);
    // Cut there twice: the resumed answer (pages 1..3 again) is cut after its `metadata`,
    // which was delivered already: no new event between the two resumes.
    let fault = format!("{cut};times=2");
    let (events, err, resumes) = items(
        client(&emu, &fault).stream_extract_pdf(request()).await,
        &fault,
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(resumes, 2);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, PdfStreamEvent::Metadata(_)))
            .count(),
        1
    );
    assert_eq!(emu.recorded(true).len(), 3);
    // At most one resume in a row: the second cut ends the stream, with where it stopped.
    let fault = format!("{cut};times=2;tag=limit");
    let c = client(&emu, &fault).with_config(|c| c.resume = ResumePolicy::default().max_resumes(1));
    let (events, err, resumes) = items(c.stream_extract_pdf(request()).await, &fault).await;
    assert_eq!((events.len(), resumes), (1, 1));
    match err {
        Some(BookWyrmClientError::Interrupted(i)) => {
            assert_eq!(i.reason(), &InterruptReason::NoProgress);
            assert_eq!(
                i.resume_point(),
                &ResumePoint::Page {
                    next_page: 1,
                    remaining: Some(3)
                }
            );
            assert_eq!((i.delivered(), i.resumes()), (1, 1));
            assert!(
                matches!(i.cause(), BookWyrmClientError::Transport(_)),
                "{i}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.recorded(true).len(), 2);
}

#[tokio::test]
async fn a_slow_reader_never_triggers_a_resume() {
    let emu = common::emulator().await;
    // 50,000 events, far more than the socket buffers hold: the server waits on the reader.
    let c = client(&emu, "synthetic-events=50000")
        .with_config(|c| c.stream_idle_timeout = Some(Duration::from_millis(150)));
    let mut s = c
        .stream_process_text(PhrasalRequest::from_text("x"))
        .await
        .unwrap();
    let mut n = 0u64;
    while let Some(item) = s.next().await {
        item.unwrap();
        n += 1;
        if n.is_multiple_of(10_000) {
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }
    assert_eq!((n, s.resumes()), (50_000, 0));
    assert_eq!(emu.stats().requests(), 1);
}

#[tokio::test]
async fn what_cannot_resume_ends_with_a_typed_interruption() {
    let emu = common::emulator().await;
    // Text-only results carry no offsets.
    let (events, err, _) = items(
        client(&emu, "truncate-after=2")
            .stream_process_text(PhrasalRequest::from_text(TEXT).text_only())
            .await,
        "text-only",
    )
    .await;
    assert_eq!(events.len(), 2);
    let id = format!("emu-{}", emu.stats().requests());
    match err {
        Some(BookWyrmClientError::Interrupted(i)) => {
            assert!(
                matches!(i.reason(), InterruptReason::NotResumable(_)),
                "{i}"
            );
            assert_eq!(i.delivered(), 2);
            assert!(i.to_string().contains("broke after 2 events"), "{i}");
            // The stream's request id and attempts, through the cause.
            let e = BookWyrmClientError::Interrupted(i);
            assert_eq!((e.request_id(), e.attempts()), (Some(id.as_str()), 1));
            assert!(e.is_retryable());
        }
        other => panic!("{other:?}"),
    }
    // A summary by default; restarted before its `data` when the policy says so.
    let summary = || SummarizeRequest::from_content(common::story());
    let cut = cut_after(&emu, 1, |c| {
        let r = summary();
        async move { count(c.stream_summarize(r).await).await }
    })
    .await;
    let (events, err, _) = items(
        client(&emu, &cut)
            .stream_summarize(SummarizeRequest::from_content(common::story()))
            .await,
        "summarize",
    )
    .await;
    assert_eq!(events.len(), 1);
    assert!(
        matches!(&err, Some(BookWyrmClientError::Interrupted(i)) if i.resume_point() == &ResumePoint::None),
        "{err:?}"
    );
    emu.recorded(true);
    let (events, err, resumes) = items(
        client(&emu, &format!("{cut};times=1"))
            .with_config(|c| c.resume = ResumePolicy::default().summarize_restart(true))
            .stream_summarize(SummarizeRequest::from_content(common::story()))
            .await,
        "summarize restart",
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(resumes, 1);
    let summaries = events
        .iter()
        .filter(|e| matches!(e, SummarizeStreamEvent::Summary(_)))
        .count();
    assert_eq!(summaries, 1);
    let sent = emu.recorded(true);
    assert!(sent.len() == 2 && sent[0].body == sent[1].body);
}

#[tokio::test]
async fn classify_starts_again_transparently() {
    let emu = common::emulator().await;
    let request = || ClassifyRequest::from_text("name,age\nAda,36\nAlan,41\n");
    let (full, _, _) = items(
        client(&emu, "tag=uncut").stream_classify(request()).await,
        "uncut",
    )
    .await;
    let cut = cut_after(&emu, 1, |c| {
        let r = request();
        async move { count(c.stream_classify(r).await).await }
    })
    .await;
    let (events, err, resumes) = items(
        client(&emu, &format!("{cut};times=1"))
            .stream_classify(request())
            .await,
        "cut",
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(resumes, 1);
    let result = |e: &[ClassifyStreamEvent]| {
        e.iter()
            .filter(|e| matches!(e, ClassifyStreamEvent::Classification(_)))
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(result(&events), result(&full));
    assert_eq!(result(&events).len(), 1);
    let sent = emu.recorded(true);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].body, sent[1].body, "the same request again");
}

#[tokio::test]
async fn cite_resumes_the_remaining_chunks_when_asked() {
    let emu = common::emulator().await;
    let story = common::story();
    let chunks = bookwyrm::AsyncBookWyrmClient::clone(&common::client(&emu))
        .stream_process_text(PhrasalRequest::from_text(story))
        .await
        .unwrap()
        .collect_phrases()
        .await
        .unwrap();
    let request = || CitationRequest::from_chunks(chunks.clone(), "What did Nunez see?");
    let on = ResumePolicy::default().cite(true);
    let (full, _, _) = items(
        client(&emu, "tag=uncut")
            .with_config(|c| c.resume = on.clone())
            .stream_citations(request())
            .await,
        "uncut",
    )
    .await;
    let total = chunks.len() as u64;
    emu.recorded(true);
    // Off by default: a typed interruption that says which chunk was next (the one after
    // the last progress event delivered), to go on by hand.
    let (events, err, _) = items(
        client(&emu, "truncate-after=5;tag=off")
            .stream_citations(request())
            .await,
        "off",
    )
    .await;
    let processed = events
        .iter()
        .filter_map(|e| match e {
            CitationStreamEvent::Progress(p) => Some(p.chunks_processed),
            _ => None,
        })
        .max()
        .expect("a progress event before the cut");
    match &err {
        Some(BookWyrmClientError::Interrupted(i)) => {
            assert!(
                matches!(i.reason(), InterruptReason::NotResumable(_)),
                "{i}"
            );
            assert_eq!(
                i.resume_point(),
                &ResumePoint::Chunk {
                    next_chunk: processed
                }
            );
            assert!(
                i.to_string()
                    .contains(&format!("it stopped at chunk {processed}")),
                "{i}"
            );
        }
        other => panic!("{other:?}"),
    }
    emu.recorded(true);
    // Cut right after a citation that follows a progress event: the rest's answer sends that
    // citation again, and it must not be handed out twice.
    let after = full
        .iter()
        .position(|e| matches!(e, CitationStreamEvent::Progress(_)))
        .and_then(|p| {
            (p + 1..full.len()).find(|&i| matches!(full[i], CitationStreamEvent::Citation(_)))
        })
        .expect("a citation after a progress event");
    let (events, err, resumes) = items(
        client(&emu, &format!("truncate-after={};times=1", after + 1))
            .with_config(|c| c.resume = on.clone())
            .stream_citations(request())
            .await,
        "cut",
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(resumes, 1);
    let keys: Vec<(u64, u64)> = events
        .iter()
        .filter_map(|e| match e {
            CitationStreamEvent::Citation(c) => {
                Some((c.citation.start_chunk, c.citation.end_chunk))
            }
            _ => None,
        })
        .collect();
    let unique: std::collections::BTreeSet<_> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "no citation twice: {keys:?}");
    let summaries: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            CitationStreamEvent::Summary(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].total_citations, keys.len() as u64);
    assert_eq!(
        (summaries[0].chunks_processed, summaries[0].start_offset),
        (total, 0)
    );
    let uncut_summary = full
        .iter()
        .find_map(|e| match e {
            CitationStreamEvent::Summary(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        uncut_summary.chunks_processed,
        summaries[0].chunks_processed
    );
    let mut last = 0;
    for e in &events {
        if let CitationStreamEvent::Progress(p) = e {
            assert!(
                p.chunks_processed >= last && p.total_chunks == total,
                "{p:?}"
            );
            last = p.chunks_processed;
        }
    }
    // The resume asked for the chunks after the last progress.
    let sent = emu.recorded(true);
    assert_eq!(sent.len(), 2);
    let second: serde_json::Value = serde_json::from_slice(&sent[1].body).unwrap();
    let start = second["start"].as_u64().unwrap();
    assert!(start > 0 && start.is_multiple_of(10), "start {start}");
    assert_eq!(second["chunks"].as_array().unwrap().len() as u64, total);
    // What the uncut run found in the chunks before `start` came through unchanged.
    let before = |e: &[CitationStreamEvent]| {
        e.iter()
            .filter_map(|e| match e {
                CitationStreamEvent::Citation(c) if c.citation.end_chunk < start => {
                    Some(format!("{:?}", c.citation))
                }
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(before(&events), before(&full));
    // Usage: the server reported it for the rest only (the cut request never sent its
    // summary): the summary's usage and token groups are exactly the rest's, and the result
    // says how many chunks that leaves out.
    let rest = client(&emu, "tag=rest")
        .stream_citations(request().start(start))
        .await
        .unwrap()
        .collect_citations()
        .await
        .unwrap()
        .summary
        .unwrap();
    assert_eq!(summaries[0].usage, rest.usage);
    assert_eq!(
        summaries[0].token_chunks_processed,
        rest.token_chunks_processed
    );
    let mut result = bookwyrm::CitationResult::default();
    result.summary = Some(summaries[0].clone());
    assert_eq!(result.chunks_without_usage(), start);
    result.summary = Some(uncut_summary);
    assert_eq!(result.chunks_without_usage(), 0);
}

/// A server that answers its connections in turn with `replies` (the raw response, and
/// whether to reset the connection after it instead of holding it open); a client for it.
async fn scripted(replies: Vec<(String, bool)>) -> AsyncBookWyrmClient {
    scripted_counted(replies).await.0
}

/// [`scripted`], and the count of connections it accepted.
async fn scripted_counted(
    replies: Vec<(String, bool)>,
) -> (
    AsyncBookWyrmClient,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::Ordering;
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        for (reply, reset) in replies {
            let (mut sock, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            if !common::read_request(&mut sock, &mut Vec::new()).await {
                return;
            }
            sock.write_all(reply.as_bytes()).await.unwrap();
            if reset {
                tokio::time::sleep(Duration::from_millis(50)).await;
                sock.set_zero_linger().unwrap();
                drop(sock);
            } else {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    drop(sock);
                });
            }
        }
    });
    let client = AsyncBookWyrmClient::builder()
        .base_url(url)
        .api_key("sk-raw")
        .retry_policy(fast())
        .build()
        .unwrap();
    (client, accepted)
}

/// A chunked SSE response head and these events, not ended (the connection is then reset
/// or held). `connection: close`: the scripted server answers one request per connection, so
/// the client must not keep the connection for its next request (it would wait on a server
/// that reads no more from it until the server drops it).
fn sse(events: &[&str]) -> String {
    let mut out = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                   transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        .to_string();
    for e in events {
        out.push_str(&format!("{:x}\r\n{e}\r\n", e.len()));
    }
    out
}

fn span(start: u64, end: u64, text: &str) -> String {
    format!(
        "event: text_span\ndata: {}\n\n",
        serde_json::json!({"start_char": start, "end_char": end, "text": text})
    )
}

#[tokio::test]
async fn resumed_chunks_that_differ_end_the_stream_instead_of_a_different_result() {
    // "Aa bb cc. Dd ee." in chunks of 5: the first answer sends "Aa bb" then breaks; the
    // second (the whole text again: no delivered chunk ended a sentence) cuts elsewhere.
    let text = "Aa bb cc. Dd ee.";
    let first = sse(&[&span(0, 5, "Aa bb")]);
    let second = sse(&[&span(0, 2, "Aa"), &span(3, 9, "bb cc.")]) + "0\r\n\r\n";
    let c = scripted(vec![(first, true), (second, false)]).await;
    let (events, err, resumes) = items(
        c.stream_process_text(PhrasalRequest::from_text(text).chunk_size(5))
            .await,
        "diverged",
    )
    .await;
    assert_eq!((events.len(), resumes), (1, 1));
    match err {
        Some(BookWyrmClientError::Interrupted(i)) => match i.reason() {
            InterruptReason::Diverged(how) => {
                assert!(how.contains("0..5") && how.contains("0..2"), "{how}")
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_clean_early_end_is_asked_once_more_then_taken_as_the_end() {
    // The answer ends cleanly before the text is covered: the rest is asked for once; an
    // answer with nothing more, ended cleanly too, is the end (not a loop of resumes).
    let ended = |events: &[&str]| sse(events) + "0\r\n\r\n";
    let c = scripted(vec![
        (ended(&[&span(0, 4, "One.")]), false),
        (ended(&[]), false),
    ])
    .await;
    let (events, err, resumes) = items(
        c.stream_process_text(PhrasalRequest::from_text("One. Two."))
            .await,
        "early end",
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!((events.len(), resumes), (1, 1));
}

#[tokio::test]
async fn the_resumes_in_a_row_start_again_with_each_new_event() {
    let emu = common::emulator().await;
    // Every answer breaks after 2 events: one resume in a row is enough, because each
    // resumed answer brings new spans.
    let c = client(&emu, "truncate-after=2")
        .with_config(|c| c.resume = ResumePolicy::default().max_resumes(1));
    let (events, err, resumes) = items(
        c.stream_process_text(PhrasalRequest::from_text(TEXT)).await,
        "in a row",
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(resumes, 2, "two spans an answer, five in all");
    let got = spans(&events, TEXT, "in a row");
    assert_eq!(got.len(), 5, "{got:?}");
}

#[tokio::test]
async fn a_refused_resume_request_ends_the_stream_with_its_status() {
    // One span, then a reset; then 400 for the resume request.
    let body = r#"{"detail":"no"}"#;
    let refused = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let c = scripted(vec![(sse(&[&span(0, 4, "One.")]), true), (refused, false)]).await;
    let (events, err, resumes) = items(
        c.stream_process_text(PhrasalRequest::from_text("One. Two."))
            .await,
        "refused",
    )
    .await;
    assert_eq!((events.len(), resumes), (1, 1));
    match err {
        Some(BookWyrmClientError::Interrupted(i)) => {
            assert_eq!(i.reason(), &InterruptReason::ErrorStatus);
            assert_eq!(i.cause().status_code(), Some(400));
            assert_eq!(
                i.resume_point(),
                &ResumePoint::Text {
                    char_offset: 4,
                    byte_offset: Some(4)
                }
            );
        }
        other => panic!("{other:?}"),
    }
}

/// The resumable operations, for the tests of servers that fail the same way every time.
#[derive(Debug, Clone, Copy)]
enum Op {
    Pdf,
    Phrasal,
    Cite,
    Classify,
}

const OPS: [Op; 4] = [Op::Pdf, Op::Phrasal, Op::Cite, Op::Classify];

/// One run of an operation: its results (pages, spans, citations, the classification and
/// the final events, each as text), the error that ended it, its resumes, and the requests
/// the emulator saw.
struct Run {
    results: Vec<String>,
    err: Option<BookWyrmClientError>,
    resumes: u32,
    requests: usize,
}

/// Runs `op` with `fault` on every request (resuming on, citations too; a 150 ms idle timeout;
/// `policy` for the resumes).
async fn run_op(emu: &Emulator, op: Op, fault: &str, policy: ResumePolicy) -> Run {
    let c = client(emu, fault).with_config(|c| {
        c.resume = policy.cite(true);
        c.stream_idle_timeout = Some(Duration::from_millis(150));
    });
    emu.recorded(true);
    let what = format!("{op:?} {fault}");
    let (results, err, resumes) = match op {
        Op::Pdf => {
            let r = PdfExtractRequest::from_bytes(common::small_pdf(&PAGES));
            let (events, err, n) = items(c.stream_extract_pdf(r).await, &what).await;
            let results = events.iter().filter_map(|e| match e {
                PdfStreamEvent::Page(p) => Some(format!("page {}", p.document_page)),
                PdfStreamEvent::PageError(p) => Some(format!("page error {}", p.document_page)),
                PdfStreamEvent::Complete(_) => Some("complete".into()),
                _ => None,
            });
            (results.collect(), err, n)
        }
        Op::Phrasal => {
            let r = PhrasalRequest::from_text(common::story());
            let (events, err, n) = items(c.stream_process_text(r).await, &what).await;
            let results = events.iter().filter_map(|e| match e {
                PhrasalStreamEvent::TextSpan(s) => {
                    Some(format!("{}..{} {}", s.start_char, s.end_char, s.text))
                }
                _ => None,
            });
            (results.collect(), err, n)
        }
        Op::Cite => {
            let r = CitationRequest::from_chunks(story_chunks(), "What did Nunez see?");
            let (events, err, n) = items(c.stream_citations(r).await, &what).await;
            let results = events.iter().filter_map(|e| match e {
                CitationStreamEvent::Citation(c) => Some(format!(
                    "{}..{} {:?}",
                    c.citation.start_chunk, c.citation.end_chunk, c.citation.question_index
                )),
                CitationStreamEvent::Summary(_) => Some("summary".into()),
                _ => None,
            });
            (results.collect(), err, n)
        }
        Op::Classify => {
            let r = ClassifyRequest::from_text("name,age\nAda,36\nAlan,41\n");
            let (events, err, n) = items(c.stream_classify(r).await, &what).await;
            let results = events.iter().filter_map(|e| match e {
                ClassifyStreamEvent::Classification(c) => Some(format!("{c:?}")),
                _ => None,
            });
            (results.collect(), err, n)
        }
    };
    let requests = emu.recorded(true).len();
    Run {
        results,
        err,
        resumes,
        requests,
    }
}

/// The story's phrases as citation chunks (computed once).
fn story_chunks() -> Vec<bookwyrm::TextSpan> {
    static CHUNKS: std::sync::OnceLock<Vec<bookwyrm::TextSpan>> = std::sync::OnceLock::new();
    CHUNKS
        .get_or_init(|| {
            let story = common::story();
            let mut at = 0u64;
            story
                .split_inclusive(". ")
                .map(|s| {
                    let n = s.chars().count() as u64;
                    let span = bookwyrm::TextSpan::new(at, s);
                    at += n;
                    span
                })
                .collect()
        })
        .clone()
}

/// No result twice, and (where an uncut run gives the same results whatever the cuts) the
/// results are the start of the uncut run's: nothing repeated, nothing skipped.
fn check_results(op: Op, run: &Run, uncut: &[String], what: &str) {
    let unique: std::collections::BTreeSet<_> = run.results.iter().collect();
    assert_eq!(
        unique.len(),
        run.results.len(),
        "{what}: a result twice: {:?}",
        run.results
    );
    if !matches!(op, Op::Cite) {
        assert!(
            uncut.starts_with(&run.results),
            "{what}: not a prefix of the uncut run: {:?}",
            run.results
        );
    }
}

/// The reason of an `Interrupted` error.
fn reason(err: &Option<BookWyrmClientError>, what: &str) -> InterruptReason {
    match err {
        Some(BookWyrmClientError::Interrupted(i)) => i.reason().clone(),
        other => panic!("{what}: {other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_fails_at_the_same_point_every_time_ends_within_the_budget() {
    let emu = common::emulator().await;
    for op in OPS {
        let uncut = run_op(&emu, op, "tag=uncut", ResumePolicy::default()).await;
        assert!(
            uncut.err.is_none() && uncut.requests == 1,
            "{op:?}: {:?}",
            uncut.err
        );
        // No `times`: every request (the first and each resume) fails the same way, after
        // its first event (its first two for phrasal, whose answers then always bring new
        // spans). A reset may also lose what the client had not read yet, so only stalls and
        // truncations cut at an exact event.
        let k = if matches!(op, Op::Phrasal) { 2 } else { 1 };
        for kind in ["reset-after", "stall-after", "truncate-after"] {
            let fault = format!("{kind}={k}");
            let what = format!("{op:?} {fault}");
            let run = run_op(&emu, op, &fault, ResumePolicy::default()).await;
            let exact = kind != "reset-after";
            if let (false, Some(e)) = (exact, &run.err)
                && !matches!(e, BookWyrmClientError::Interrupted(_))
            {
                // Every reset lost the answer's only event: nothing was delivered, so the
                // request was retried (2 retries), not resumed.
                assert!(run.results.is_empty(), "{what}: {e:?}");
                assert_eq!((e.attempts(), run.requests), (3, 3), "{what}: {e:?}");
                continue;
            }
            check_results(op, &run, &uncut.results, &what);
            // Never more requests than the first and the budget's 10.
            assert!(run.requests <= 11, "{what}: {} requests", run.requests);
            if exact {
                // Each resume is one request (the cut comes after the answer's head).
                assert_eq!(run.requests, 1 + run.resumes as usize, "{what}");
            }
            match reason(&run.err, &what) {
                // The resume point did not move in 5 resumes in a row (after it last moved).
                InterruptReason::NoProgress => assert!((5..=10).contains(&run.resumes), "{what}"),
                // It moved, until the budget's 10 new requests were spent.
                InterruptReason::BudgetSpent => assert!(run.resumes <= 10, "{what}"),
                other => panic!("{what}: {other:?}"),
            }
            // Starting again (classify) or a PDF cut after its metadata never moves forward:
            // 5 resumes; a phrasal answer cut after two spans always does: the budget.
            match op {
                Op::Classify | Op::Pdf => {
                    assert_eq!(reason(&run.err, &what), InterruptReason::NoProgress);
                    assert_eq!(run.resumes, 5, "{what}");
                }
                Op::Phrasal if exact => {
                    assert_eq!(reason(&run.err, &what), InterruptReason::BudgetSpent);
                    assert_eq!((run.resumes, run.results.len()), (10, 22), "{what}");
                }
                _ => {}
            }
        }
    }
    // A smaller budget ends sooner: 3 new requests in all.
    let run = run_op(
        &emu,
        Op::Phrasal,
        "reset-after=2;tag=budget",
        ResumePolicy::default().max_recoveries(3),
    )
    .await;
    assert_eq!(reason(&run.err, "budget 3"), InterruptReason::BudgetSpent);
    assert_eq!((run.resumes, run.requests, run.results.len()), (3, 4, 8));
}

#[tokio::test]
async fn a_server_that_ignores_the_resume_request_ends_as_diverged_with_nothing_repeated() {
    let emu = common::emulator().await;
    for op in OPS {
        let uncut = run_op(&emu, op, "tag=uncut", ResumePolicy::default()).await;
        // The first answer's events up to just past its first progress for citations (the
        // citations of chunks 0..10 come before it), so that the resume asks for later chunks;
        // two events otherwise.
        let cut = match op {
            Op::Cite => {
                let first_window = uncut.results.iter().filter(|r| {
                    r.split("..")
                        .next()
                        .and_then(|n| n.parse::<u64>().ok())
                        .is_some_and(|n| n < 10)
                });
                first_window.count() + 2
            }
            // Its progress, then its classification.
            Op::Classify => 1,
            _ => 2,
        };
        // Every answer is the first request's, whatever the resume asks for (cut cleanly, so
        // that exactly `cut` events arrive).
        // (The emulator keeps the first request per header value: one tag per operation.)
        let fault = format!("replay-first;truncate-after={cut};tag={op:?}");
        let what = format!("{op:?} {fault}");
        let run = run_op(&emu, op, &fault, ResumePolicy::default()).await;
        check_results(op, &run, &uncut.results, &what);
        match op {
            // Starting again asks for the same: a faithful answer, cut at the same point.
            Op::Classify => {
                assert_eq!(reason(&run.err, &what), InterruptReason::NoProgress);
                assert_eq!((run.resumes, run.requests), (5, 6), "{what}");
            }
            _ => {
                assert!(
                    matches!(reason(&run.err, &what), InterruptReason::Diverged(_)),
                    "{what}: {:?}",
                    run.err
                );
                assert_eq!((run.resumes, run.requests), (1, 2), "{what}");
            }
        }
    }
}

#[tokio::test]
async fn a_stream_never_recovers_past_its_deadline() {
    let emu = common::emulator().await;
    let c = client(&emu, "stall-after=2").with_config(|c| {
        c.stream_idle_timeout = Some(Duration::from_millis(100));
        c.stream_deadline = Some(Duration::from_millis(700));
        c.resume = ResumePolicy::default()
            .max_resumes(1000)
            .max_recoveries(1000);
    });
    let started = std::time::Instant::now();
    let (events, err, resumes) = items(
        c.stream_process_text(PhrasalRequest::from_text(common::story()))
            .await,
        "deadline",
    )
    .await;
    assert!(
        matches!(&err, Some(BookWyrmClientError::Timeout(t)) if t.kind() == bookwyrm::TimeoutKind::StreamDeadline),
        "{err:?}"
    );
    assert!(resumes >= 2, "{resumes}");
    let n = events.len() as u32;
    assert!(
        n >= 2 * resumes && n <= 2 * (resumes + 1),
        "two spans an answer: {n}, {resumes}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_retries_of_resume_requests_are_paid_from_the_budget() {
    // One span then a reset; then every connection is closed before an answer.
    let mut replies = vec![(sse(&[&span(0, 4, "One.")]), true)];
    replies.extend((0..20).map(|_| (String::new(), true)));
    let (c, accepted) = scripted_counted(replies).await;
    let c = c.with_config(|c| c.resume = ResumePolicy::default().max_recoveries(4));
    let (events, err, resumes) = items(
        c.stream_process_text(PhrasalRequest::from_text("One. Two."))
            .await,
        "budget",
    )
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(reason(&err, "budget"), InterruptReason::BudgetSpent);
    // The first resume and its 2 retries, the second resume with none left: 1 + 4 requests.
    assert_eq!(resumes, 2);
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_stream_whose_spans_go_back_is_delivered_whole() {
    // Nothing is cut: the spans go back (a server that chunks the text twice, say).
    let spans = [span(0, 4, "One."), span(5, 9, "Two."), span(0, 4, "One.")];
    let spans: Vec<&str> = spans.iter().map(String::as_str).collect();
    let c = scripted(vec![(sse(&spans) + "0\r\n\r\n", false)]).await;
    let (events, err, resumes) = items(
        c.stream_process_text(PhrasalRequest::from_text("One. Two."))
            .await,
        "back",
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!((events.len(), resumes), (3, 0));
    // The same, then a break: not resumable, and the error says why (nothing was resumed).
    let c = scripted(vec![(sse(&spans), true)]).await;
    let (events, err, resumes) = items(
        c.stream_process_text(PhrasalRequest::from_text("One. Two."))
            .await,
        "back, then a break",
    )
    .await;
    assert_eq!((events.len(), resumes), (3, 0));
    match reason(&err, "back") {
        InterruptReason::NotResumable(why) => assert!(why.contains("goes back"), "{why}"),
        other => panic!("{other:?}"),
    }
    let message = err.unwrap().to_string();
    assert!(!message.contains("resumed answer"), "{message}");
    assert!(message.contains("it stopped at character 9"), "{message}");
}
