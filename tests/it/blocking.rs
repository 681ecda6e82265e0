//! The blocking client through the same scenarios as the async one, from a program with no
//! runtime of its own (the emulator runs on a runtime in the background).
#![cfg(feature = "blocking")]

use crate::common;

use std::time::{Duration, Instant};

use bookwyrm::blocking::BookWyrmClient;
use bookwyrm::{
    AsyncBookWyrmClient, BookWyrmClientError, CitationRequest, ClassifyRequest, PdfExtractRequest,
    PdfStreamEvent, PhrasalRequest, PhrasalStreamEvent, ResumePolicy, RetryPolicy,
    SummarizeRequest, TextSpan, TimeoutKind,
};

struct Env {
    emu: bookwyrm_emulator::Emulator,
    _rt: tokio::runtime::Runtime,
}

fn env() -> Env {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(common::emulator());
    Env { emu, _rt: rt }
}

fn client(env: &Env, fault: Option<&str>) -> BookWyrmClient {
    client_idle(env, fault, Duration::from_secs(10))
}

fn client_idle(env: &Env, fault: Option<&str>, idle: Duration) -> BookWyrmClient {
    client_with(env, fault, idle, ResumePolicy::default())
}

fn client_with(
    env: &Env,
    fault: Option<&str>,
    idle: Duration,
    resume: ResumePolicy,
) -> BookWyrmClient {
    let mut b = AsyncBookWyrmClient::builder()
        .resume_policy(resume)
        .base_url(env.emu.base_url())
        .api_key(common::KEY)
        .retry_policy(RetryPolicy::default().initial_backoff(Duration::from_millis(10)))
        .stream_idle_timeout(idle);
    if let Some(f) = fault {
        b = b.header("x-bookwyrm-fault", f);
    }
    b.build_blocking().unwrap()
}

#[test]
fn every_operation_works_without_a_runtime() {
    let env = env();
    let c = client(&env, None);
    let phrases = c
        .stream_process_text(PhrasalRequest::from_text(common::story()).chunk_size(2000))
        .unwrap()
        .collect_phrases()
        .unwrap();
    assert!(phrases.len() > 10);
    // The same phrases through collect_with, an observer counting the events it saw.
    struct Count(usize);
    impl bookwyrm::Observer<PhrasalStreamEvent> for Count {
        type Error = BookWyrmClientError;
        fn event(&mut self, _: &PhrasalStreamEvent) -> Result<(), Self::Error> {
            self.0 += 1;
            Ok(())
        }
    }
    let mut seen = Count(0);
    let again: Vec<TextSpan> = c
        .stream_process_text(PhrasalRequest::from_text(common::story()).chunk_size(2000))
        .unwrap()
        .collect_with(Vec::new(), &mut seen)
        .unwrap();
    assert_eq!(again, phrases);
    assert!(seen.0 >= phrases.len(), "{} events", seen.0);
    let cites = c
        .get_citations(CitationRequest::from_chunks(
            phrases.clone(),
            "Who is blind?",
        ))
        .unwrap();
    let streamed = c
        .stream_citations(CitationRequest::from_chunks(
            phrases.clone(),
            "Who is blind?",
        ))
        .unwrap()
        .collect_citations()
        .unwrap();
    assert_eq!(cites.citations, streamed.citations);
    let summary = c
        .summarize(SummarizeRequest::from_phrases(phrases.clone()))
        .unwrap();
    let streamed = c
        .stream_summarize(SummarizeRequest::from_phrases(phrases))
        .unwrap()
        .final_summary()
        .unwrap();
    assert_eq!(summary, streamed);
    assert_eq!(
        c.classify(ClassifyRequest::from_bytes(common::pdf()))
            .unwrap()
            .classification
            .format_type,
        "pdf"
    );
    assert_eq!(
        c.stream_classify(ClassifyRequest::from_text("{\"a\":1}"))
            .unwrap()
            .classification()
            .unwrap()
            .classification
            .content_type,
        "json_data"
    );
    assert_eq!(
        c.extract_pdf(PdfExtractRequest::from_bytes(common::pdf()).num_pages(2))
            .unwrap()
            .total_pages,
        2
    );
    let events: Vec<_> = c
        .stream_extract_pdf(PdfExtractRequest::from_bytes(common::pdf()).num_pages(1))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            PdfStreamEvent::Metadata(_) => Some("metadata"),
            PdfStreamEvent::Page(p) => {
                assert_eq!(p.document_page, 1);
                Some("page")
            }
            PdfStreamEvent::Complete(_) => Some("complete"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["metadata", "page", "complete"], "{events:?}");
}

#[test]
fn retries_and_their_limits() {
    let env = env();
    // (fault, requests the server sees for one call, least time the call takes: Retry-After,
    // else the backoffs waited, 10 ms then 20 ms less at most a quarter of jitter)
    for (fault, attempts, at_least) in [
        (
            "status=429;retry-after=1;times=1",
            2,
            Duration::from_millis(900),
        ),
        ("status=503;times=2", 3, Duration::from_micros(22_500)),
        (
            "reset-before-headers;times=1",
            2,
            Duration::from_micros(7_500),
        ),
    ] {
        let before = env.emu.stats().requests();
        let started = Instant::now();
        let answer = client(&env, Some(fault))
            .summarize(SummarizeRequest::from_content("One. Two."))
            .unwrap();
        assert!(!answer.summary.is_empty(), "{fault}");
        assert!(
            started.elapsed() >= at_least,
            "{fault}: Retry-After or the backoff honoured"
        );
        assert_eq!(env.emu.stats().requests() - before, attempts, "{fault}");
    }
    let err = client(&env, Some("status=503"))
        .summarize(SummarizeRequest::from_content("x"))
        .unwrap_err();
    assert_eq!(
        err.as_api_error().map(|a| (a.status_code(), a.attempts())),
        Some((503, 3))
    );
    let started = Instant::now();
    let err = client(&env, Some("status=429;retry-after=300"))
        .summarize(SummarizeRequest::from_content("x"))
        .unwrap_err();
    assert_eq!(err.as_api_error().unwrap().attempts(), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn stream_failures_as_iterator_items() {
    let env = env();
    let off = || ResumePolicy::none();
    let items: Vec<_> = client_with(&env, Some("reset-after=2"), Duration::from_secs(10), off())
        .stream_process_text(PhrasalRequest::from_text("One. Two. Three."))
        .unwrap()
        .collect();
    assert_eq!(items.len(), 3);
    assert!(matches!(items[0], Ok(PhrasalStreamEvent::TextSpan(_))));
    assert!(matches!(items[2], Err(BookWyrmClientError::Transport(_))));

    // Resumed (the default): every span once, the rest of the text asked for.
    env.emu.recorded(true);
    let items: Vec<_> = client(&env, Some("truncate-after=2;times=1"))
        .stream_process_text(PhrasalRequest::from_text("One. Two. Three."))
        .unwrap()
        .map(|e| match e.unwrap() {
            PhrasalStreamEvent::TextSpan(s) => {
                format!("{}..{} {}", s.start_char, s.end_char, s.text)
            }
            other => format!("{other:?}"),
        })
        .filter(|e| !e.starts_with("Progress"))
        .collect();
    assert_eq!(items, ["0..4 One.", "5..9 Two.", "10..16 Three."]);
    let texts: Vec<String> = env
        .emu
        .recorded(true)
        .iter()
        .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["text"].to_string())
        .collect();
    assert_eq!(texts, [r#""One. Two. Three.""#, r#"" Three.""#]);

    let mut stalled = client_with(
        &env,
        Some("stall-after=1"),
        Duration::from_millis(800),
        off(),
    )
    .stream_process_text(PhrasalRequest::from_text("One. Two."))
    .unwrap();
    assert!(stalled.next().unwrap().is_ok());
    match stalled.next() {
        Some(Err(BookWyrmClientError::Timeout(t))) => assert_eq!(t.kind(), TimeoutKind::Idle),
        other => panic!("{other:?}"),
    }
    assert!(stalled.next().is_none());
}

#[test]
fn dropping_a_stream_closes_its_connection_on_both_paths() {
    // The runtime runs only inside the client's calls: the drop itself must let it close the
    // connection (on reqwest's path a connection task does that), not the next call.
    let env = env();
    for (n, direct) in [(1, true), (2, false)] {
        let c = AsyncBookWyrmClient::builder()
            .base_url(env.emu.base_url())
            .api_key(common::KEY)
            .header("x-bookwyrm-fault", "stall-after=1")
            .direct_streams(direct)
            .build_blocking()
            .unwrap();
        let mut s = c
            .stream_process_text(PhrasalRequest::from_text("A. B. C."))
            .unwrap();
        assert!(s.next().unwrap().is_ok());
        assert_eq!(env.emu.stats().streams_cancelled(), n - 1);
        drop(s);
        let started = Instant::now();
        while env.emu.stats().streams_cancelled() < n && started.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            env.emu.stats().streams_cancelled(),
            n,
            "the server saw the disconnect (direct: {direct}) with the client idle"
        );
        // And the path asked for is the one the stream took.
        let stats = c.transport_stats();
        let expected = if direct { (1, 0) } else { (0, 1) };
        assert_eq!((stats.direct, stats.general), expected, "direct: {direct}");
    }
}

#[test]
fn the_concurrency_cap_holds_for_threads() {
    let env = env();
    let c = AsyncBookWyrmClient::builder()
        .base_url(env.emu.base_url())
        .api_key(common::KEY)
        .header("x-bookwyrm-fault", "delay-ms=100")
        .max_concurrent_requests(2)
        .build_blocking()
        .unwrap();
    std::thread::scope(|s| {
        for _ in 0..6 {
            let c = c.clone();
            s.spawn(move || c.summarize(SummarizeRequest::from_content("x")).unwrap());
        }
    });
    assert_eq!(env.emu.stats().requests(), 6);
    // Six threads at once against a cap of two: two in flight at a time, never more.
    assert_eq!(env.emu.stats().max_in_flight(), 2);

    // Streams read on three threads at once, their events dripping: the threads take turns
    // driving the client's runtime, and each gets its whole stream.
    let c = AsyncBookWyrmClient::builder()
        .base_url(env.emu.base_url())
        .api_key(common::KEY)
        .header("x-bookwyrm-fault", "drip-ms=1")
        .build_blocking()
        .unwrap();
    let text = "One. Two. Three. Four.";
    let alone = c
        .stream_process_text(PhrasalRequest::from_text(text))
        .unwrap()
        .collect_phrases()
        .unwrap();
    assert_eq!(alone.len(), 4);
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let c = c.clone();
                s.spawn(move || {
                    c.stream_process_text(PhrasalRequest::from_text(text))
                        .unwrap()
                        .collect_phrases()
                        .unwrap()
                })
            })
            .collect();
        for r in readers {
            assert_eq!(r.join().unwrap(), alone);
        }
    });
    assert_eq!(
        env.emu.stats().max_in_flight(),
        3,
        "the three streams overlapped"
    );
}

#[test]
fn inside_an_async_runtime_it_is_an_error_not_a_panic() {
    let env = env();
    let c = client(&env, None);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(async { c.summarize(SummarizeRequest::from_content("x")) })
        .unwrap_err();
    assert!(matches!(err, BookWyrmClientError::BlockingInAsyncContext));
    assert!(err.to_string().contains("AsyncBookWyrmClient"));
    // A stream made outside, iterated inside: an error item, then the end.
    let mut s = c
        .stream_process_text(PhrasalRequest::from_text("One."))
        .unwrap();
    let item = rt.block_on(async { s.next() });
    assert!(matches!(
        item,
        Some(Err(BookWyrmClientError::BlockingInAsyncContext))
    ));
    // Dropping the client inside a runtime does not panic either.
    rt.block_on(async move { drop(c) });
}

#[test]
fn close_and_scoped() {
    let env = env();
    let c = client(&env, None);
    let kept = c.clone();
    let n = c.scoped(|c| {
        c.get_citations(CitationRequest::from_chunks(
            vec![
                TextSpan::new(0, "The valley was hidden by mountains."),
                TextSpan::new(1, "Nobody in the valley could see."),
            ],
            "Who could see in the valley?",
        ))
        .map(|r| r.total_citations)
    });
    assert_eq!(n.unwrap(), 1, "the call inside the scope ran");
    assert_eq!(env.emu.stats().requests(), 1);
    assert!(matches!(
        kept.summarize(SummarizeRequest::from_content("x")),
        Err(BookWyrmClientError::Closed(_))
    ));
}
