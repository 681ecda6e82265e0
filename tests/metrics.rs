//! Metrics through the `metrics` facade (feature `metrics`), read back with a debugging
//! recorder: durations with the operation and outcome, time to first event, events counted
//! once per stream, retries, waits for a slot.
#![cfg(feature = "metrics")]

mod common;

use std::time::Duration;

use bookwyrm::{AsyncBookWyrmClient, PhrasalRequest, StreamExt, SummarizeRequest};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::MetricKind;

/// What was recorded since the last snapshot (a snapshot drains the recorder).
type Seen = Vec<(
    metrics_util::CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)>;

fn take(snap: &Snapshotter) -> Seen {
    snap.snapshot().into_vec()
}

/// How many values (histograms) or how much (counters) `name` got, over its series whose
/// labels include all of `labels`.
fn find(seen: &Seen, kind: MetricKind, name: &str, labels: &[(&str, &str)]) -> u64 {
    seen.iter()
        .filter(|(key, _, _, _)| {
            key.kind() == kind
                && key.key().name() == name
                && labels
                    .iter()
                    .all(|(k, v)| key.key().labels().any(|l| l.key() == *k && l.value() == *v))
        })
        .map(|(_, _, _, value)| match value {
            DebugValue::Counter(n) => *n,
            DebugValue::Histogram(h) => h.len() as u64,
            DebugValue::Gauge(_) => 0,
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_and_streams_are_measured() {
    let recorder = DebuggingRecorder::new();
    let snap = recorder.snapshotter();
    recorder
        .install()
        .expect("the only recorder of this test binary");
    let emu = common::emulator().await;
    let fast = bookwyrm::RetryPolicy::default().initial_backoff(Duration::from_millis(10));
    let client = common::faulty(&emu, "status=503;times=1", fast);
    // A JSON call retried once, then a good one.
    for _ in 0..2 {
        client
            .summarize(SummarizeRequest::from_content("One. Two."))
            .await
            .unwrap();
    }
    use MetricKind::{Counter, Histogram};
    let d = "bookwyrm.client.request.duration";
    let seen = take(&snap);
    let summarize = [
        ("operation", "summarize"),
        ("streaming", "false"),
        ("outcome", "ok"),
    ];
    assert_eq!(find(&seen, Histogram, d, &summarize), 2);
    let retries = [("operation", "summarize")];
    assert_eq!(find(&seen, Counter, "bookwyrm.client.retries", &retries), 1);
    // A handwritten call (classify: a multipart upload) is measured as the generated ones.
    common::client(&emu)
        .classify(bookwyrm::ClassifyRequest::from_text("name,age\nAda,36\n"))
        .await
        .unwrap();
    let seen = take(&snap);
    let classify = [
        ("operation", "classify"),
        ("streaming", "false"),
        ("outcome", "ok"),
    ];
    assert_eq!(find(&seen, Histogram, d, &classify), 1);
    // A stream read to its end: its events counted once, its first event timed.
    let client = common::client(&emu);
    let events = client
        .stream_process_text(PhrasalRequest::from_text("One. Two. Three."))
        .await
        .unwrap()
        .collect::<Vec<_>>()
        .await;
    let seen = take(&snap);
    let op = [("operation", "stream_process_text")];
    let ok = [
        ("operation", "stream_process_text"),
        ("streaming", "true"),
        ("outcome", "ok"),
    ];
    assert_eq!(find(&seen, Histogram, d, &ok), 1);
    assert_eq!(
        find(&seen, Counter, "bookwyrm.client.stream.events", &op),
        events.len() as u64
    );
    let ttfe = "bookwyrm.client.stream.time_to_first_event";
    assert_eq!(find(&seen, Histogram, ttfe, &op), 1);
    // A stream dropped after one event: outcome `dropped`.
    let mut s = client
        .stream_process_text(PhrasalRequest::from_text(common::story()))
        .await
        .unwrap();
    s.next().await.unwrap().unwrap();
    drop(s);
    let seen = take(&snap);
    let dropped = [("operation", "stream_process_text"), ("outcome", "dropped")];
    assert_eq!(find(&seen, Histogram, d, &dropped), 1);
    // A stream cancelled by its caller: outcome `cancelled`, not `dropped`.
    let mut s = client
        .stream_process_text(PhrasalRequest::from_text(common::story()))
        .await
        .unwrap();
    s.next().await.unwrap().unwrap();
    s.canceller().cancel("the caller went away");
    assert!(matches!(
        s.next().await,
        Some(Err(bookwyrm::BookWyrmClientError::Cancelled(_)))
    ));
    drop(s);
    let seen = take(&snap);
    let cancelled = [
        ("operation", "stream_process_text"),
        ("outcome", "cancelled"),
    ];
    assert_eq!(find(&seen, Histogram, d, &cancelled), 1);
    assert_eq!(find(&seen, Histogram, d, &dropped), 0);
    // A stream cut once and resumed: one resume counted, its events counted once.
    let cut = common::faulty(
        &emu,
        "truncate-after=2;times=1",
        bookwyrm::RetryPolicy::default().initial_backoff(Duration::from_millis(1)),
    );
    let events = cut
        .stream_process_text(PhrasalRequest::from_text("One. Two. Three."))
        .await
        .unwrap()
        .collect::<Vec<_>>()
        .await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    // Three spans and a progress event, each once, as uncut.
    assert_eq!(events.len(), 4, "{events:?}");
    let seen = take(&snap);
    let resumes = "bookwyrm.client.stream.resumes";
    assert_eq!(find(&seen, Counter, resumes, &op), 1);
    assert_eq!(find(&seen, Histogram, d, &ok), 1);
    assert_eq!(
        find(&seen, Counter, "bookwyrm.client.stream.events", &op),
        events.len() as u64
    );
    // A call that waited for the only slot.
    let capped = AsyncBookWyrmClient::builder()
        .base_url(emu.base_url())
        .api_key(common::KEY)
        .header("x-bookwyrm-fault", "delay-ms=200")
        .max_concurrent_requests(1)
        .build()
        .unwrap();
    let (a, b) = tokio::join!(
        capped.summarize(SummarizeRequest::from_content("One.")),
        capped.summarize(SummarizeRequest::from_content("Two."))
    );
    a.unwrap();
    b.unwrap();
    let seen = take(&snap);
    let waits = find(&seen, Histogram, "bookwyrm.client.slot.wait.duration", &[]);
    assert_eq!(waits, 1, "one of the two waited");
}
