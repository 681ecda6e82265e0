//! Error paths of the client against the emulator: API errors with status and body, transport
//! failures, timeouts, the closed client, the scoped helper, secrets.

use crate::common;

use std::time::{Duration, Instant};

use bookwyrm::{
    AsyncBookWyrmClient, BookWyrmClientError, CitationRequest, ClassifyRequest, PdfExtractRequest,
    PhrasalRequest, SummarizeRequest, TextSpan, TimeoutKind,
};

fn request() -> CitationRequest {
    CitationRequest::from_chunks(vec![TextSpan::new(0, "Nunez fell.")], "Who fell?")
}

fn faulty(emu: &bookwyrm_emulator::Emulator, fault: &str) -> AsyncBookWyrmClient {
    common::faulty(emu, fault, bookwyrm::RetryPolicy::none())
}

fn api(err: BookWyrmClientError) -> Box<bookwyrm::BookWyrmApiError> {
    match err {
        BookWyrmClientError::Api(api) => api,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn wrong_or_missing_key_is_401_with_body() {
    let emu = common::emulator().await;
    for key in [Some("sk-wrong"), None] {
        let mut b = AsyncBookWyrmClient::builder().base_url(emu.base_url());
        if let Some(k) = key {
            b = b.api_key(k);
        }
        let c = b.build().unwrap();
        let err = c.get_citations(request()).await.unwrap_err();
        assert_eq!(err.status_code(), Some(401));
        assert!(!err.is_retryable());
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("sk-wrong"),
            "the key never appears: {shown}"
        );
        let api = api(err);
        assert_eq!(api.message(), "Invalid or missing API key");
        assert_eq!(api.json().unwrap()["detail"], "Invalid or missing API key");
        assert!(api.request_id().unwrap().starts_with("emu-"));
        // Streams fail the same way, before the first item.
        let err = c
            .stream_process_text(PhrasalRequest::from_text("A."))
            .await
            .unwrap_err();
        assert_eq!(err.status_code(), Some(401));
    }
}

#[tokio::test]
async fn unknown_path_is_404() {
    let emu = common::emulator().await;
    let c = AsyncBookWyrmClient::builder()
        .base_url(format!("{}/v9", emu.base_url()))
        .api_key(common::KEY)
        .build()
        .unwrap();
    let api = api(c
        .summarize(SummarizeRequest::from_content("x"))
        .await
        .unwrap_err());
    assert_eq!(api.status_code(), 404);
    assert_eq!(api.body(), r#"{"detail":"Not Found"}"#);
}

#[tokio::test]
async fn server_validation_is_422_with_detail_list() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let err = c
        .get_citations(CitationRequest::from_jsonl_content(
            "this is not json\n",
            "q",
        ))
        .await
        .unwrap_err();
    let api = api(err);
    assert_eq!(api.status_code(), 422);
    let detail = &api.json().unwrap()["detail"][0];
    assert_eq!(detail["loc"], serde_json::json!(["body", "jsonl"]));
    assert!(
        api.message().starts_with("body.jsonl: line 1:"),
        "{}",
        api.message()
    );
    assert!(api
        .to_string()
        .starts_with("API request failed with status 422: body.jsonl"));
}

#[tokio::test]
async fn status_faults_carry_status_body_and_retry_after() {
    let emu = common::emulator().await;
    let cases = [
        (
            "status=429;retry-after=7",
            429,
            Some(Duration::from_secs(7)),
        ),
        (
            "status=429;retry-after-ms=1500",
            429,
            Some(Duration::from_millis(1500)),
        ),
        ("status=503", 503, None),
        ("status=500", 500, None),
    ];
    for (fault, status, retry_after) in cases {
        let c = faulty(&emu, fault);
        let err = c.get_citations(request()).await.unwrap_err();
        assert!(err.is_retryable(), "{fault}");
        // The top-level error says it too.
        assert_eq!(err.retry_after(), retry_after, "{fault}");
        let api = api(err);
        assert_eq!(api.status_code(), status, "{fault}");
        assert_eq!(api.retry_after(), retry_after, "{fault}");
        assert_eq!(api.message(), format!("injected fault: status {status}"));
        // A stream gets the same error before its first item.
        let err = c.stream_citations(request()).await.unwrap_err();
        assert_eq!(err.status_code(), Some(status));
    }
    // An HTTP date in Retry-After.
    let api = api(faulty(&emu, "status=429;retry-after-date")
        .get_citations(request())
        .await
        .unwrap_err());
    let wait = api.retry_after().expect("a date parses");
    assert!(wait <= Duration::from_secs(3), "{wait:?}");
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    // Bind then drop a listener: nothing listens on that port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = AsyncBookWyrmClient::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(bookwyrm::RetryPolicy::none())
        .build()
        .unwrap();
    for err in [
        c.get_citations(request()).await.unwrap_err(),
        c.classify(ClassifyRequest::from_text("x"))
            .await
            .unwrap_err(),
        c.stream_process_text(PhrasalRequest::from_text("A."))
            .await
            .unwrap_err(),
        c.stream_extract_pdf(PdfExtractRequest::from_bytes(b"%PDF-".to_vec()))
            .await
            .unwrap_err(),
    ] {
        match &err {
            BookWyrmClientError::Transport(t) => {
                assert!(
                    t.to_string()
                        .starts_with("could not connect to http://127.0.0.1:"),
                    "{t}"
                );
                assert!(
                    std::error::Error::source(&err).is_some(),
                    "the cause is chained"
                );
                // One line for a log: the message, then the causes (Display leaves them out).
                let report = err.report().to_string();
                assert!(report.starts_with(&format!("{err}: ")), "{report}");
                assert!(report.contains("Connection refused"), "{report}");
                assert!(!err.to_string().contains("Connection refused"));
                assert!(!report.contains('\n') && !report.contains("(request"));
            }
            other => panic!("expected a transport error, got {other:?}"),
        }
        assert!(err.is_retryable());
        assert_eq!(err.status_code(), None);
    }
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let emu = common::emulator().await;
    let c = faulty(&emu, "delay-ms=30000").with_config(|cfg| {
        cfg.timeout = Some(Duration::from_millis(300));
        cfg.stream_idle_timeout = Some(Duration::from_millis(300));
    });
    let started = Instant::now();
    let err = c
        .summarize(SummarizeRequest::from_content("x"))
        .await
        .unwrap_err();
    match &err {
        BookWyrmClientError::Timeout(t) => assert_eq!(t.kind(), TimeoutKind::Total),
        other => panic!("{other:?}"),
    }
    let err = c
        .classify(ClassifyRequest::from_text("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BookWyrmClientError::Timeout(t) if t.kind() == TimeoutKind::Total),
        "{err:?}"
    );
    let err = c
        .stream_process_text(PhrasalRequest::from_text("A."))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BookWyrmClientError::Timeout(t) if t.kind() == TimeoutKind::Idle),
        "{err:?}"
    );
    assert!(err.is_timeout() && err.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "three 300 ms deadlines, not 30 s waits"
    );
}

#[tokio::test]
async fn calls_after_close_fail_closed() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let clone = c.clone();
    c.close();
    c.close(); // idempotent
    assert!(clone.is_closed());
    let errs = [
        clone.get_citations(request()).await.unwrap_err(),
        clone
            .get_citations(CitationRequest::from_chunks(vec![], "q"))
            .await
            .unwrap_err(),
        clone
            .summarize(SummarizeRequest::from_content("x"))
            .await
            .unwrap_err(),
        clone
            .classify(ClassifyRequest::from_text("x"))
            .await
            .unwrap_err(),
        clone.stream_citations(request()).await.unwrap_err(),
        clone
            .stream_summarize(SummarizeRequest::from_content("x"))
            .await
            .unwrap_err(),
        clone
            .stream_process_text(PhrasalRequest::from_text("x"))
            .await
            .unwrap_err(),
        clone
            .stream_classify(ClassifyRequest::from_text("x"))
            .await
            .unwrap_err(),
        clone
            .stream_extract_pdf(PdfExtractRequest::from_bytes(b"%PDF-".to_vec()))
            .await
            .unwrap_err(),
        clone
            .stream_extract_pdf(PdfExtractRequest::from_url("http://x/y.pdf"))
            .await
            .unwrap_err(),
    ];
    for e in errs {
        assert!(
            matches!(&e, BookWyrmClientError::Closed(c) if !c.was_in_flight()),
            "{e:?}"
        );
        assert_eq!(
            (e.request_id(), e.attempts()),
            (None, 0),
            "no request went out"
        );
        assert_eq!(e.to_string(), "the client is closed");
    }
    assert_eq!(emu.stats().requests(), 0);
}

#[tokio::test]
async fn scoped_closes_on_success_and_on_error() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let kept = c.clone();
    let summary = c
        .scoped(|client| async move {
            client
                .summarize(SummarizeRequest::from_content("One. Two."))
                .await
        })
        .await
        .unwrap();
    assert!(!summary.summary.is_empty());
    assert!(kept.is_closed());

    let c = common::client(&emu);
    let kept = c.clone();
    let result: Result<(), BookWyrmClientError> = c
        .scoped(|client| async move {
            client
                .get_citations(CitationRequest::from_chunks(
                    vec![TextSpan::new(0, "x")],
                    "",
                ))
                .await?;
            Ok(())
        })
        .await;
    assert!(matches!(result, Err(BookWyrmClientError::Validation(_))));
    assert!(kept.is_closed(), "closed although the body failed");

    // Cancelled (dropped) before completion: still closed.
    let c = common::client(&emu);
    let kept = c.clone();
    let fut = c.scoped(|client| async move {
        std::future::pending::<()>().await;
        drop(client)
    });
    let _ = tokio::time::timeout(Duration::from_millis(20), fut).await;
    assert!(kept.is_closed());
}

#[tokio::test]
async fn structured_summary_round_trip() {
    #[derive(serde::Deserialize, schemars::JsonSchema, Debug)]
    struct Summary {
        title: Option<String>,
        author: Option<String>,
        plot: Option<String>,
        important_characters: Option<Vec<String>>,
        page_count: Option<u32>,
    }
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let s = c
        .summarize_structured::<Summary>(SummarizeRequest::from_content(common::story()))
        .await
        .unwrap();
    assert_eq!(
        s.value.title.as_deref(),
        Some("The Country of the Blind, and Other Stories")
    );
    assert_eq!(s.value.author.as_deref(), Some("H. G. Wells"));
    assert!(s.value.plot.unwrap().len() > 100);
    assert!(s
        .value
        .important_characters
        .unwrap()
        .contains(&"Nunez".to_string()));
    assert_eq!(s.value.page_count, None, "unknowable fields are null");
    assert!(s.response.levels_used >= 1);

    // A summary that does not parse into the type is a decode error with the raw text.
    // The schema promises a string; the Rust type wants a number.
    #[derive(serde::Deserialize, schemars::JsonSchema, Debug)]
    #[allow(dead_code)]
    struct Strict {
        #[schemars(with = "String")]
        title: u64,
    }
    let err = c
        .summarize_structured::<Strict>(SummarizeRequest::from_content("Title: Words\n\nText."))
        .await
        .unwrap_err();
    match err {
        BookWyrmClientError::Decode(d) => {
            assert!(d.raw_text().contains("title"), "{}", d.raw_text())
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn debug_never_shows_the_key() {
    let c = AsyncBookWyrmClient::builder()
        .api_key("sk-very-secret-123")
        .build()
        .unwrap();
    let shown = format!("{c:?} {:?}", c.config());
    assert!(!shown.contains("sk-very-secret-123"), "{shown}");
    assert!(shown.contains("<redacted>"));
    let b = AsyncBookWyrmClient::builder().api_key("sk-very-secret-123");
    assert!(!format!("{b:?}").contains("sk-very-secret-123"));
}

#[tokio::test]
async fn deprecation_is_visible_to_the_caller() {
    let emu = common::emulator().await;
    let c = faulty(&emu, "deprecation=Upgrade to 2026-01-01");
    assert_eq!(c.deprecation_notice(), None);
    c.summarize(SummarizeRequest::from_content("x"))
        .await
        .unwrap();
    assert_eq!(
        c.deprecation_notice().as_deref(),
        Some("Upgrade to 2026-01-01")
    );
}

/// The request id the emulator gave its latest request but `back` (it numbers its answers
/// emu-1, emu-2, ... in the order requests arrive).
fn emulator_id(emu: &bookwyrm_emulator::Emulator, back: usize) -> String {
    format!("emu-{}", emu.stats().requests() as usize - back)
}

#[tokio::test]
async fn every_error_after_a_response_head_carries_its_request_id_and_attempts() {
    use bookwyrm::{PhrasalRequest, PhrasalStreamEvent, StreamExt};
    let emu = common::emulator().await;
    let fast = bookwyrm::RetryPolicy::default().initial_backoff(Duration::from_millis(10));
    // A wrong content type on a stream: a decode error, with the id of the answer that had it.
    let err = common::faulty(&emu, "content-type=text/plain", fast.clone())
        .stream_process_text(PhrasalRequest::from_text("One."))
        .await
        .unwrap_err();
    assert!(matches!(err, BookWyrmClientError::Decode(_)), "{err:?}");
    assert_eq!(err.request_id(), Some(emulator_id(&emu, 0).as_str()));
    assert_eq!(err.attempts(), 1);
    assert!(err.ends_stream());
    // A reset in the middle of a stream: a transport error with the stream's id.
    let c = common::no_resume(common::faulty(&emu, "reset-after=2", fast.clone()));
    let items: Vec<_> = c
        .stream_process_text(PhrasalRequest::from_text("A. B. C. D."))
        .await
        .unwrap()
        .collect()
        .await;
    let id = emulator_id(&emu, 0);
    assert_eq!(items.len(), 3, "two events, then the error: {items:?}");
    let err = items[2].as_ref().unwrap_err();
    assert!(matches!(err, BookWyrmClientError::Transport(_)), "{err:?}");
    assert_eq!((err.request_id(), err.attempts()), (Some(id.as_str()), 1));
    assert!(err.ends_stream());
    let report = err.report().to_string();
    assert!(report.starts_with(&format!("{err}: ")), "{report}");
    assert!(report.ends_with(&format!(" (request {id})")), "{report}");
    // A malformed event: an item the stream goes on after, with the id; then good events.
    let c = common::faulty(&emu, "malformed-json", fast.clone());
    let items: Vec<_> = c
        .stream_process_text(PhrasalRequest::from_text("One. Two."))
        .await
        .unwrap()
        .collect()
        .await;
    let id = emulator_id(&emu, 0);
    let err = items[0].as_ref().unwrap_err();
    assert!(!err.ends_stream(), "{err:?}");
    assert_eq!(err.request_id(), Some(id.as_str()));
    let good = items
        .iter()
        .filter(|i| matches!(i, Ok(PhrasalStreamEvent::TextSpan(_))))
        .count();
    assert_eq!((items.len(), good), (4, 2), "{items:?}");
    // A stalled stream: the idle timeout carries the id of the answer that went silent.
    let c = AsyncBookWyrmClient::builder()
        .base_url(emu.base_url())
        .api_key(common::KEY)
        .header("x-bookwyrm-fault", "stall-after=0;tag=s")
        .stream_idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let mut s = c
        .stream_process_text(PhrasalRequest::from_text("One."))
        .await
        .unwrap();
    let id = emulator_id(&emu, 0);
    let err = s.next().await.unwrap().unwrap_err();
    assert!(matches!(err, BookWyrmClientError::Timeout(_)), "{err:?}");
    assert_eq!((err.request_id(), err.attempts()), (Some(id.as_str()), 1));
    // No answer at all, retried: no id, and the attempts made.
    let err = common::faulty(&emu, "reset-before-headers", fast.clone())
        .summarize(bookwyrm::SummarizeRequest::from_content("One."))
        .await
        .unwrap_err();
    assert!(matches!(err, BookWyrmClientError::Transport(_)), "{err:?}");
    assert_eq!((err.request_id(), err.attempts()), (None, 3));
    // An error status, retried: the last answer's id, the attempts made.
    let err = common::faulty(&emu, "status=503", fast.clone())
        .summarize(bookwyrm::SummarizeRequest::from_content("One."))
        .await
        .unwrap_err();
    assert!(matches!(err, BookWyrmClientError::Api(_)), "{err:?}");
    let id = emulator_id(&emu, 0);
    assert_eq!((err.request_id(), err.attempts()), (Some(id.as_str()), 3));
    // A server error event, as an error: the id of the stream that carried it.
    let corrupt = b"%PDF-1.7\nnot really a pdf\n%%EOF".to_vec();
    let err = common::client(&emu)
        .stream_extract_pdf(bookwyrm::PdfExtractRequest::from_bytes(corrupt))
        .await
        .unwrap()
        .errors_as_err()
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, BookWyrmClientError::ServerEvent(_)),
        "{err:?}"
    );
    let id = emulator_id(&emu, 0);
    assert_eq!((err.request_id(), err.attempts()), (Some(id.as_str()), 1));
    // An interrupted stream (cut, and text-only: not resumable): its answer's id.
    let items: Vec<_> = common::faulty(&emu, "reset-after=2;tag=i", fast.clone())
        .stream_process_text(PhrasalRequest::from_text("One. Two. Three.").text_only())
        .await
        .unwrap()
        .collect()
        .await;
    let id = emulator_id(&emu, 0);
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert!(
        matches!(err, BookWyrmClientError::Interrupted(_)),
        "{err:?}"
    );
    assert_eq!((err.request_id(), err.attempts()), (Some(id.as_str()), 1));
    // Before any request: none.
    assert_eq!(
        BookWyrmClientError::Closed(Default::default()).attempts(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_now_ends_streams_and_calls_in_flight() {
    use bookwyrm::PhrasalRequest;
    let emu = common::emulator().await;
    // A stalled stream (would wait two minutes for its idle timeout), a slow call, and a call
    // queued behind them for the single slot.
    let c = AsyncBookWyrmClient::builder()
        .base_url(emu.base_url())
        .api_key(common::KEY)
        .max_concurrent_requests(2)
        .build()
        .unwrap();
    let stalled = common::faulty(&emu, "stall-after=1", bookwyrm::RetryPolicy::none());
    let mut s = stalled
        .stream_process_text(PhrasalRequest::from_text("One. Two."))
        .await
        .unwrap();
    assert!(s.next().await.unwrap().is_ok());
    let stream_id = s
        .request_id()
        .expect("the stream's head arrived")
        .to_string();
    let slow = {
        let c = c.clone();
        tokio::spawn(async move {
            c.with_header("x-bookwyrm-fault", "delay-ms=60000")
                .unwrap()
                .summarize(SummarizeRequest::from_content("One."))
                .await
        })
    };
    let slow2 = {
        let c = c.clone();
        tokio::spawn(async move {
            c.with_header("x-bookwyrm-fault", "delay-ms=60000;tag=2")
                .unwrap()
                .summarize(SummarizeRequest::from_content("One."))
                .await
        })
    };
    while emu.stats().in_flight() < 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let queued = {
        let c = c.clone();
        tokio::spawn(async move { c.summarize(SummarizeRequest::from_content("One.")).await })
    };
    let next = tokio::spawn(async move { (s.next().await, s.next().await) });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    stalled.close_now();
    c.close_now();
    let (item, end) = tokio::time::timeout(Duration::from_secs(5), next)
        .await
        .expect("the stream ended at once")
        .unwrap();
    // The stream's error says which request it ended, and that it was in flight.
    let Some(Err(e @ BookWyrmClientError::Closed(_))) = item else {
        panic!("{item:?}")
    };
    assert_eq!(
        (e.request_id(), e.attempts()),
        (Some(stream_id.as_str()), 1)
    );
    assert_eq!(
        e.to_string(),
        "the client was closed while the call was in flight"
    );
    assert!(end.is_none(), "fused after Closed");
    // The slow calls were sent (one attempt each, no head yet); the queued one never was.
    for (call, attempts) in [(slow, 1), (slow2, 1), (queued, 0)] {
        let r = tokio::time::timeout(Duration::from_secs(5), call)
            .await
            .expect("the call ended at once")
            .unwrap();
        let Err(BookWyrmClientError::Closed(closed)) = &r else {
            panic!("{r:?}")
        };
        assert_eq!(closed.was_in_flight(), attempts > 0, "{r:?}");
        let e = r.unwrap_err();
        assert_eq!((e.request_id(), e.attempts()), (None, attempts), "{e:?}");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // The server saw the stream and the slow calls go; the queued call never reached it.
    let mut waited = 0;
    while emu.stats().in_flight() > 0 && waited < 500 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    assert_eq!(emu.stats().in_flight(), 0);
    assert_eq!(emu.stats().requests(), 3);
}

#[tokio::test]
async fn slot_waits_and_stream_deadlines_are_their_own_timeouts() {
    use bookwyrm::PhrasalRequest;
    let emu = common::emulator().await;
    let c = AsyncBookWyrmClient::builder()
        .base_url(emu.base_url())
        .api_key(common::KEY)
        .max_concurrent_requests(1)
        .slot_timeout(Duration::from_millis(200))
        .stream_deadline(Duration::from_millis(600))
        .header("x-bookwyrm-fault", "stall-after=1")
        .build()
        .unwrap();
    // The stream holds the only slot; a call behind it gives up waiting for the slot.
    let mut s = c
        .stream_process_text(PhrasalRequest::from_text("One. Two."))
        .await
        .unwrap();
    assert!(s.next().await.unwrap().is_ok());
    // (Bounded: without a slot timeout the call would wait for the stream, which only ends
    // when polled.)
    let err = tokio::time::timeout(
        Duration::from_secs(5),
        c.summarize(SummarizeRequest::from_content("One.")),
    )
    .await
    .expect("the wait for a slot is bounded")
    .unwrap_err();
    match &err {
        BookWyrmClientError::Timeout(t) => {
            assert_eq!(t.kind(), TimeoutKind::Slot);
            assert_eq!(t.after(), Some(Duration::from_millis(200)));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("max_concurrent_requests"), "{err}");
    assert_eq!(emu.stats().requests(), 1, "the queued call sent nothing");
    // The stalled stream ends at its deadline (its idle timeout is two minutes).
    let started = Instant::now();
    match s.next().await {
        Some(Err(BookWyrmClientError::Timeout(t))) => {
            assert_eq!(t.kind(), TimeoutKind::StreamDeadline);
            assert_eq!(t.after(), Some(Duration::from_millis(600)));
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(s.next().await.is_none());
    // Its slot is free again: the next call goes through.
    let c = c.with_header("x-bookwyrm-fault", "tag=free").unwrap();
    c.summarize(SummarizeRequest::from_content("One. Two."))
        .await
        .unwrap();
}
