//! The emulator's byte-offset faults against the client: a response cut after N bytes (its
//! head included), by a reset or a clean close, at every offset of a short stream. Whatever
//! the offset: the events delivered are a prefix of the uncut stream's, each once; a cut
//! before the end is an error that ends the stream; nothing hangs.

use crate::common;

use std::time::Duration;

use bookwyrm::{BookWyrmClientError, PhrasalRequest, RetryPolicy, StreamExt};

const TEXT: &str = "One small step. Two more steps. Three steps home.";

/// The events of one stream under `fault`, and the error that ended it (`None`: it ended
/// cleanly); no events when the request failed before the stream.
async fn run(
    emu: &bookwyrm_emulator::Emulator,
    fault: &str,
) -> (Vec<String>, Option<BookWyrmClientError>) {
    let client = common::no_resume(common::faulty(emu, fault, RetryPolicy::none()));
    let fut = async {
        let mut s = match client
            .stream_process_text(PhrasalRequest::from_text(TEXT))
            .await
        {
            Ok(s) => s,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut events = Vec::new();
        while let Some(item) = s.next().await {
            match item {
                Ok(e) => events.push(format!("{e:?}")),
                Err(e) => {
                    assert!(e.ends_stream(), "{fault}: {e:?}");
                    assert!(s.next().await.is_none(), "{fault}: fused after the error");
                    return (events, Some(e));
                }
            }
        }
        (events, None)
    };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .unwrap_or_else(|_| panic!("{fault}: hung"))
}

#[tokio::test]
async fn a_response_cut_at_every_byte_is_a_prefix_then_an_error() {
    let emu = common::emulator().await;
    let (full, error) = run(&emu, "tag=uncut").await;
    assert!(error.is_none() && full.len() >= 3, "{full:?} {error:?}");
    for mode in ["reset-after-bytes", "close-after-bytes"] {
        let (mut cut_before_end, mut with_events) = (0, 0);
        let mut n = 0;
        loop {
            let fault = format!("{mode}={n}");
            let (events, error) = run(&emu, &fault).await;
            // Whatever the cut: the events delivered are the first ones of the uncut stream.
            assert!(events.len() <= full.len(), "{fault}: {events:?}");
            assert_eq!(events, full[..events.len()], "{fault}");
            let Some(e) = error else {
                // Cut at or past the end: the whole stream.
                assert_eq!(events, full, "{fault}");
                break;
            };
            assert!(
                matches!(
                    e,
                    BookWyrmClientError::Transport(_) | BookWyrmClientError::Decode(_)
                ),
                "{fault}: {e:?}"
            );
            cut_before_end += 1;
            with_events += usize::from(!events.is_empty());
            n += 1;
            assert!(n < 5_000, "{mode}: never reached the end");
        }
        assert!(
            cut_before_end > 100,
            "{mode}: the answer was cut {cut_before_end} ways"
        );
        // Cuts inside the body (not only in the head) were among them, and events came
        // through before them.
        assert!(
            with_events > 10,
            "{mode}: {with_events} cuts after an event"
        );
    }
}

#[tokio::test]
async fn a_cut_leaves_a_prefix_of_the_events_and_times_applies() {
    let emu = common::emulator().await;
    let (full, _) = run(&emu, "tag=uncut").await;
    // The events delivered before a cut are the first events of the uncut stream: cuts every
    // 40 bytes, by reset this time, up to the first that lets the whole stream through.
    let mut delivered = Vec::new();
    for n in (0..5_000u64).step_by(40) {
        let fault = format!("reset-after-bytes={n}");
        let (got, error) = run(&emu, &fault).await;
        assert_eq!(got, full[..got.len()], "{fault}");
        if error.is_none() {
            assert_eq!(got, full, "{fault}");
            break;
        }
        delivered.push(got.len());
    }
    // Some cuts fell inside the body, after some events and before others.
    let inside = delivered
        .iter()
        .filter(|&&n| n > 0 && n < full.len())
        .count();
    assert!(inside >= 2, "{delivered:?}");
    // times=1: only the first request is cut; a retry before the first event gets it all.
    let client = common::faulty(
        &emu,
        "reset-after-bytes=10;times=1",
        RetryPolicy::default().initial_backoff(Duration::from_millis(10)),
    );
    let events = client
        .stream_process_text(PhrasalRequest::from_text(TEXT))
        .await
        .unwrap()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(events.len(), full.len());
    assert!(events.iter().all(Result::is_ok));
}

/// A byte cut applies to the answer of the request that carried it only: when that answer is
/// shorter than N, the next request on the same kept-alive connection is whole (it was cut,
/// and retried on a new connection, when the cut armed the connection instead).
#[tokio::test]
async fn a_byte_cut_longer_than_its_answer_does_not_reach_the_next_request() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let short = bookwyrm::SummarizeRequest::from_content("One. Two.");
    let long = bookwyrm::SummarizeRequest::from_content(common::story());
    // The faulted answer is short (it would be cut itself otherwise): 2000 bytes are not
    // reached within it, but would be within the next, long, answer.
    c.with_header("x-bookwyrm-fault", "reset-after-bytes=2000;tag=leak")
        .unwrap()
        .summarize(short)
        .await
        .expect("the short answer is under the cut");
    let summary = c.summarize(long).await.expect("the next request is whole");
    assert!(
        serde_json::to_string(&summary).unwrap().len() > 2000,
        "the second answer is long enough to be cut"
    );
    assert_eq!(emu.stats().faults_applied(), 1);
    assert_eq!(emu.stats().requests(), 2, "no retry");
    assert_eq!(emu.stats().connections(), 1, "the connection was kept");
}

/// `times=N` counts the requests carrying exactly that header value, from any client; a
/// `tag=` of its own keeps a test's count apart from another's.
#[tokio::test]
async fn fault_counts_are_per_header_value_and_a_tag_keeps_them_apart() {
    let emu = common::emulator().await;
    let status = |r: Result<bookwyrm::types::SummaryResponse, BookWyrmClientError>| {
        r.map_or_else(|e| e.status_code(), |_| None)
    };
    let call = |fault: &str| {
        let c = common::faulty(&emu, fault, RetryPolicy::none());
        async move {
            c.summarize(bookwyrm::SummarizeRequest::from_content("One."))
                .await
        }
    };
    // Two clients with their own tags: each gets its one fault.
    assert_eq!(status(call("status=503;times=1;tag=a").await), Some(503));
    assert_eq!(status(call("status=503;times=1;tag=b").await), Some(503));
    // A third client with the first one's exact value shares its count: already spent.
    assert_eq!(status(call("status=503;times=1;tag=a").await), None);
    assert_eq!(emu.stats().faults_applied(), 2);
}
