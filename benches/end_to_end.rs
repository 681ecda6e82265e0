//! End-to-end streaming throughput over loopback: the client decoding phrasal streams of the
//! story from the in-process emulator, one at a time and many at once.
//!
//! `cargo bench --bench end_to_end` (a plain timing binary: it prints figures, asserts nothing
//! about speed).

use std::time::Instant;

use bookwyrm::{AsyncBookWyrmClient, PhrasalRequest, PhrasalStreamEvent};

const ROUNDS: usize = 5;

async fn one_stream(client: AsyncBookWyrmClient, text: String) -> (usize, u64) {
    let mut s = client
        .stream_process_text(PhrasalRequest::from_text(text))
        .await
        .unwrap();
    let (mut events, mut bytes) = (0usize, 0u64);
    while let Some(e) = s.next().await {
        if let PhrasalStreamEvent::TextSpan(span) = e.unwrap() {
            bytes += span.text.len() as u64;
        }
        events += 1;
    }
    (events, bytes)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let story = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/country-of-the-blind.txt")).unwrap();
        let emu = bookwyrm_emulator::Emulator::builder().start().await.unwrap();
        let client = AsyncBookWyrmClient::builder().base_url(emu.base_url()).build().unwrap();
        // Warm up (connection, caches).
        one_stream(client.clone(), story.clone()).await;
        for concurrency in [1usize, 8, 32] {
            let mut best = f64::MAX;
            let mut total_events = 0;
            for _ in 0..ROUNDS {
                let started = Instant::now();
                let tasks: Vec<_> = (0..concurrency)
                    .map(|_| tokio::spawn(one_stream(client.clone(), story.clone())))
                    .collect();
                total_events = 0;
                for t in tasks {
                    total_events += t.await.unwrap().0;
                }
                best = best.min(started.elapsed().as_secs_f64());
            }
            println!(
                "{concurrency:>3} concurrent phrasal streams of the story: {total_events} events in {:.1} ms (best of {ROUNDS}): {:.0} events/s, {:.1} streams/s",
                best * 1000.0,
                total_events as f64 / best,
                concurrency as f64 / best
            );
        }
        emu.stop().await;
    });
}
