//! The emulator's byte-offset faults against the client: a response cut after N bytes (its
//! head included), by a reset or a clean close, at every offset of a short stream. Whatever
//! the offset: the events delivered are a prefix of the uncut stream's, each once; a cut
//! before the end is an error that ends the stream; nothing hangs.

mod common;

use std::time::Duration;

use bookwyrm::{BookWyrmClientError, PhrasalRequest, RetryPolicy, StreamExt};

const TEXT: &str = "One small step. Two more steps. Three steps home.";

/// The items of one stream under `fault` (`None`: the request failed before the stream).
async fn run(
    emu: &bookwyrm_emulator::Emulator,
    fault: &str,
) -> Result<Vec<String>, BookWyrmClientError> {
    let client = common::no_resume(common::faulty(emu, fault, RetryPolicy::none()));
    let fut = async {
        let mut s = client
            .stream_process_text(PhrasalRequest::from_text(TEXT))
            .await?;
        let mut events = Vec::new();
        while let Some(item) = s.next().await {
            match item {
                Ok(e) => events.push(format!("{e:?}")),
                Err(e) => {
                    assert!(e.ends_stream(), "{fault}: {e:?}");
                    assert!(s.next().await.is_none(), "{fault}: fused after the error");
                    return Err(e);
                }
            }
        }
        Ok(events)
    };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .unwrap_or_else(|_| panic!("{fault}: hung"))
}

#[tokio::test]
async fn a_response_cut_at_every_byte_is_a_prefix_then_an_error() {
    let emu = common::emulator().await;
    let full = run(&emu, "tag=uncut").await.expect("the uncut stream");
    assert!(full.len() >= 3, "{full:?}");
    for mode in ["reset-after-bytes", "close-after-bytes"] {
        let mut cut_before_end = 0;
        let mut n = 0;
        loop {
            let fault = format!("{mode}={n}");
            match run(&emu, &fault).await {
                Ok(events) => {
                    // Cut at or past the end: the whole stream.
                    assert_eq!(events, full, "{fault}");
                    break;
                }
                Err(e) => {
                    assert!(
                        matches!(
                            e,
                            BookWyrmClientError::Transport(_) | BookWyrmClientError::Decode(_)
                        ),
                        "{fault}: {e:?}"
                    );
                    cut_before_end += 1;
                }
            }
            n += 1;
            assert!(n < 5_000, "{mode}: never reached the end");
        }
        assert!(
            cut_before_end > 100,
            "{mode}: the answer was cut {cut_before_end} ways"
        );
    }
}

#[tokio::test]
async fn a_cut_leaves_a_prefix_of_the_events_and_times_applies() {
    let emu = common::emulator().await;
    let full = run(&emu, "tag=uncut").await.expect("the uncut stream");
    // The events delivered before a cut are the first events of the uncut stream.
    for n in [150u64, 250, 350, 450] {
        let client = common::no_resume(common::faulty(
            &emu,
            &format!("reset-after-bytes={n}"),
            RetryPolicy::none(),
        ));
        let Ok(mut s) = client
            .stream_process_text(PhrasalRequest::from_text(TEXT))
            .await
        else {
            continue; // cut inside the head
        };
        let mut got = Vec::new();
        while let Some(Ok(e)) = s.next().await {
            got.push(format!("{e:?}"));
        }
        assert!(got.len() < full.len(), "{n}: {got:?}");
        assert_eq!(got, full[..got.len()], "{n}");
    }
    // times=1: only the first request is cut; a retry before the first event gets it all.
    let client = common::faulty(
        &emu,
        "reset-after-bytes=10;times=1",
        RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
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
