//! Retries that never duplicate, the concurrency cap, and logs that never show the key,
//! through the emulator's fault injection.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bookwyrm::{
    AsyncBookWyrmClient, BookWyrmClientError, ClassifyRequest, PhrasalRequest, PhrasalStreamEvent,
    RetryPolicy, SummarizeRequest,
};
use futures_util::StreamExt;

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(40))
}

fn summarize() -> SummarizeRequest {
    SummarizeRequest::from_content("One. Two.")
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_succeeds() {
    let emu = common::emulator().await;
    let c = common::faulty(&emu, "status=429;retry-after=1;times=1", fast());
    let started = Instant::now();
    c.summarize(summarize()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After was honoured"
    );
    assert_eq!(emu.stats().requests(), 2);

    let c = common::faulty(&emu, "status=503;retry-after-ms=300;times=1", fast());
    let started = Instant::now();
    c.summarize(summarize()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(280),
        "retry-after-ms was honoured"
    );
}

#[tokio::test]
async fn two_503s_then_success() {
    let emu = common::emulator().await;
    let c = common::faulty(&emu, "status=503;times=2", fast());
    let s = c.summarize(summarize()).await.unwrap();
    assert!(!s.summary.is_empty());
    assert_eq!(emu.stats().requests(), 3);
}

#[tokio::test]
async fn exhausted_retries_return_the_last_status_and_the_attempt_count() {
    let emu = common::emulator().await;
    let c = common::faulty(&emu, "status=502", fast());
    match c.summarize(summarize()).await.unwrap_err() {
        BookWyrmClientError::Api(api) => {
            assert_eq!(api.status_code(), 502);
            assert_eq!(api.attempts(), 3);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.stats().requests(), 3);
    // Streams too, before their first event.
    let err = c
        .stream_process_text(PhrasalRequest::from_text("A."))
        .await
        .unwrap_err();
    assert_eq!(err.as_api_error().unwrap().attempts(), 3);
    // Not retried: 4xx other than 408/429.
    let c = common::faulty(&emu, "status=400", fast());
    assert_eq!(
        c.summarize(summarize())
            .await
            .unwrap_err()
            .as_api_error()
            .unwrap()
            .attempts(),
        1
    );
}

#[tokio::test]
async fn a_long_retry_after_is_returned_at_once() {
    let emu = common::emulator().await;
    let c = common::faulty(&emu, "status=429;retry-after=120", fast());
    let started = Instant::now();
    let err = c.summarize(summarize()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let api = err.as_api_error().unwrap();
    assert_eq!(
        (api.status_code(), api.retry_after()),
        (429, Some(Duration::from_secs(120)))
    );
    assert_eq!(api.attempts(), 1);
    assert_eq!(emu.stats().requests(), 1);
}

#[tokio::test]
async fn a_reset_before_headers_is_retried() {
    let emu = common::emulator().await;
    let c = common::faulty(&emu, "reset-before-headers;times=1", fast());
    c.summarize(summarize()).await.unwrap();
    assert_eq!(emu.stats().requests(), 2);
    let c = common::faulty(&emu, "reset-before-headers;times=1;tag=stream", fast());
    let phrases = c
        .stream_process_text(PhrasalRequest::from_text("One. Two."))
        .await
        .unwrap()
        .collect_phrases()
        .await
        .unwrap();
    assert_eq!(phrases.len(), 2);
}

#[tokio::test]
async fn multipart_bodies_are_rebuilt_for_each_attempt() {
    let emu = common::emulator().await;
    let c = common::faulty(&emu, "status=503;times=1", fast());
    let answer = c
        .classify(ClassifyRequest::from_bytes(b"name,age\nann,3\n".to_vec()).filename("p.csv"))
        .await
        .unwrap();
    assert_eq!(answer.classification.mime_type, "text/csv");
    let log = emu.recorded(true);
    assert_eq!(log.len(), 2);
    for r in &log {
        assert!(
            String::from_utf8_lossy(&r.body).contains("name,age\nann,3\n"),
            "the file is in every attempt"
        );
    }
    let c = common::faulty(&emu, "status=503;times=1;tag=pdf", fast());
    let pdf = c
        .extract_pdf(bookwyrm::PdfExtractRequest::from_bytes(common::pdf()).num_pages(1))
        .await
        .unwrap();
    assert_eq!(pdf.total_pages, 1);
    let log = emu.recorded(true);
    assert_eq!(log.len(), 2);
    // Each attempt is a new multipart form (its own boundary), carrying the same parts: with
    // the boundary taken out, the two attempts sent the same bytes, and the PDF whole.
    let without_boundary = |r: &bookwyrm_emulator::RecordedRequest| {
        let ct = r.header("content-type").expect("a content type");
        let boundary = ct.split("boundary=").nth(1).expect("a boundary");
        String::from_utf8_lossy(&r.body).replace(boundary, "BOUNDARY")
    };
    assert_eq!(without_boundary(&log[0]), without_boundary(&log[1]));
    let pdf = common::pdf();
    for r in &log {
        assert!(
            r.body.windows(pdf.len()).any(|w| w == &pdf[..]),
            "the whole PDF is in every attempt"
        );
    }
}

#[tokio::test]
async fn a_stream_reset_after_events_is_an_error_and_nothing_is_delivered_twice() {
    let emu = common::emulator().await;
    let c = common::no_resume(common::faulty(&emu, "reset-after=2", fast()));
    let items: Vec<_> = c
        .stream_process_text(PhrasalRequest::from_text("One. Two. Three. Four."))
        .await
        .unwrap()
        .collect()
        .await;
    let texts: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            Ok(PhrasalStreamEvent::TextSpan(s)) => Some(s.text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["One.", "Two."], "the two events, once each");
    assert!(matches!(
        items.last(),
        Some(Err(BookWyrmClientError::Transport(_)))
    ));
    assert_eq!(
        emu.stats().requests(),
        1,
        "no retry once events were delivered"
    );
}

#[tokio::test]
async fn a_stream_reset_before_its_first_event_is_retried_transparently() {
    let emu = common::emulator().await;
    let c = common::faulty(&emu, "reset-after=0;times=1", fast());
    let mut s = c
        .stream_process_text(PhrasalRequest::from_text("One. Two."))
        .await
        .unwrap();
    let mut texts = Vec::new();
    while let Some(item) = s.next().await {
        if let PhrasalStreamEvent::TextSpan(t) = item.unwrap() {
            texts.push(t.text);
        }
    }
    assert_eq!(texts, ["One.", "Two."]);
    assert_eq!(emu.stats().requests(), 2);
}

#[tokio::test]
async fn retries_are_configurable_per_call_and_off() {
    let emu = common::emulator().await;
    let c = common::faulty(&emu, "status=503", fast());
    let once = c.with_config(|cfg| cfg.retry = RetryPolicy::none());
    assert_eq!(
        once.summarize(summarize())
            .await
            .unwrap_err()
            .as_api_error()
            .unwrap()
            .attempts(),
        1
    );
    let five = c.with_config(|cfg| cfg.retry.max_retries = 5);
    assert_eq!(
        five.summarize(summarize())
            .await
            .unwrap_err()
            .as_api_error()
            .unwrap()
            .attempts(),
        6
    );
    assert_eq!(emu.stats().requests(), 7);
}

#[tokio::test]
async fn the_concurrency_cap_is_never_exceeded() {
    let emu = common::emulator().await;
    let c = AsyncBookWyrmClient::builder()
        .base_url(emu.base_url())
        .api_key(common::KEY)
        .header("x-bookwyrm-fault", "delay-ms=100")
        .max_concurrent_requests(3)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.summarize(summarize()).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(emu.stats().requests(), 12);
    assert_eq!(
        emu.stats().max_in_flight(),
        3,
        "a burst of 12 ran 3 at a time"
    );

    // Streams hold their slot until dropped.
    let emu = common::emulator().await;
    let c = AsyncBookWyrmClient::builder()
        .base_url(emu.base_url())
        .api_key(common::KEY)
        .max_concurrent_requests(1)
        .build()
        .unwrap();
    let stream = c
        .stream_process_text(PhrasalRequest::from_text("One."))
        .await
        .unwrap();
    let waiting = tokio::spawn({
        let c = c.clone();
        async move { c.summarize(summarize()).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "the second call waits for the stream's slot"
    );
    drop(stream);
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(emu.stats().max_in_flight(), 1);
}

/// A writer into a shared buffer, for capturing logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What `run` logs at every level (as text, without colours), and what it returned.
fn logged<T>(run: impl std::future::Future<Output = T>) -> (String, T) {
    common::quiet_global_subscriber();
    let buffer = Captured::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let value = tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run)
    });
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    (logs, value)
}

#[test]
fn logs_show_retries_and_never_the_key() {
    let (logs, ()) = logged(async {
        let emu = common::emulator().await;
        let c = common::faulty(&emu, "status=503;times=1", fast());
        c.summarize(summarize()).await.unwrap();
        c.stream_process_text(PhrasalRequest::from_text("One."))
            .await
            .unwrap()
            .collect_phrases()
            .await
            .unwrap();
        let wrong = AsyncBookWyrmClient::builder()
            .base_url(emu.base_url())
            .api_key("sk-wrong-key-42")
            .build()
            .unwrap();
        let _ = wrong.summarize(summarize()).await;
        let deprecated = common::faulty(&emu, "deprecation=Please upgrade", fast());
        deprecated.summarize(summarize()).await.unwrap();
    });
    assert!(logs.contains("retrying"), "{logs}");
    assert!(logs.contains("status 503"), "the reason is logged");
    assert!(logs.contains("delay_ms="), "the delay is logged");
    assert!(
        logs.contains("bookwyrm.attempt") && logs.contains("attempt=2"),
        "spans name the attempt"
    );
    assert!(logs.contains("Please upgrade"), "the deprecation warning");
    assert!(logs.contains("One. Two."), "bodies at debug level");
    assert!(!logs.contains(common::KEY), "the key never appears in logs");
    assert!(!logs.contains("sk-wrong-key-42"), "nor a wrong key");
}

/// A stream's retries (before its first event) and resumes (after) are logged in its call's
/// span, with the attempt and the request id of the answer that broke, as retries while the
/// call opens are; the resume request opens under the same span.
#[test]
fn stream_recoveries_are_logged_in_the_call_span() {
    let (logs, opened) = logged(async {
        let emu = common::emulator().await;
        let text = "One. Two. Three.";
        // Cut before the first event once: retried inside the stream.
        let mut retried = common::faulty(&emu, "reset-after=0;times=1;tag=r", fast())
            .stream_process_text(PhrasalRequest::from_text(text))
            .await
            .unwrap();
        retried.collect_phrases().await.unwrap();
        // Cut after two events once: resumed.
        let mut resumed = common::faulty(&emu, "truncate-after=2;times=1;tag=s", fast())
            .stream_process_text(PhrasalRequest::from_text(text))
            .await
            .unwrap();
        let opened = resumed.request_id().unwrap().to_string();
        resumed.collect_phrases().await.unwrap();
        assert_eq!(resumed.resumes(), 1);
        opened
    });
    let line = |what: &str| {
        let found: Vec<&str> = logs.lines().filter(|l| l.contains(what)).collect();
        assert_eq!(found.len(), 1, "one `{what}` line in:\n{logs}");
        found[0].to_string()
    };
    let call = "bookwyrm.call{operation=\"stream_process_text\" streaming=true}";
    let retry = line("retrying the stream");
    assert!(retry.contains(call), "{retry}");
    assert!(retry.contains("attempt=1"), "{retry}");
    assert!(retry.contains("request_id=\"emu-"), "{retry}");
    let resume = line("resuming the stream");
    assert!(resume.contains(call), "{resume}");
    assert!(
        resume.contains(&format!("request_id=\"{opened}\"")),
        "the id of the answer that broke: {resume}"
    );
    assert!(
        resume.contains("attempt=1") && resume.contains("resume=1"),
        "{resume}"
    );
}
