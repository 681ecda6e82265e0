//! Connections kept between requests: a stream or call read to its end gives its connection
//! back to the client's pool and the next request takes it; a dropped stream closes its own;
//! a pooled connection the server closed costs a new connection, never an error or a request
//! seen twice; `close()` empties the pool.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bookwyrm::{
    AsyncBookWyrmClient, CitationRequest, PhrasalRequest, SummarizeRequest, TextSpan,
    TransportStats,
};
use tokio::io::AsyncWriteExt;

async fn phrases(client: &AsyncBookWyrmClient, text: &str) -> usize {
    client
        .stream_process_text(PhrasalRequest::from_text(text))
        .await
        .unwrap()
        .collect_phrases()
        .await
        .unwrap()
        .len()
}

/// Waits (bounded) until `done` holds.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} did not happen");
}

fn counts(s: TransportStats) -> (u64, u64, u64, u64) {
    (s.direct, s.connections, s.reused, s.idle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_and_calls_one_after_another_share_one_connection() {
    let emu = common::emulator().await;
    let client = common::client(&emu);
    for _ in 0..3 {
        assert_eq!(phrases(&client, "One. Two. Three.").await, 3);
    }
    // A JSON call and a stream of another operation take the same connection.
    let summary = client
        .summarize(SummarizeRequest::from_content("One. Two."))
        .await
        .unwrap();
    assert!(!summary.summary.is_empty());
    let cited = client
        .stream_citations(CitationRequest::from_chunks(
            vec![TextSpan::new(0, "Blind men see nothing.")],
            "Who is blind?",
        ))
        .await
        .unwrap()
        .collect_citations()
        .await
        .unwrap();
    assert_eq!(cited.citations.len(), 1);
    assert_eq!(emu.stats().requests(), 5);
    assert_eq!(
        emu.stats().connections(),
        1,
        "one connection for five requests"
    );
    // direct requests, connections opened, requests on a kept connection, idle now
    assert_eq!(counts(client.transport_stats()), (5, 1, 4, 1));
    assert_eq!(client.transport_stats().general, 0);
    // close() empties the pool: the server sees the connection go.
    client.close();
    assert_eq!(client.transport_stats().idle, 0);
    eventually("the server seeing the pooled connection closed", || {
        emu.stats().connections_open() == 0
    })
    .await;
}

#[tokio::test]
async fn a_dropped_stream_closes_its_connection_and_the_next_opens_one() {
    let emu = common::emulator().await;
    let client = common::client(&emu);
    let mut s = client
        .stream_process_text(PhrasalRequest::from_text(common::story()))
        .await
        .unwrap();
    assert!(s.next().await.unwrap().is_ok());
    drop(s);
    eventually("the server seeing the cancel", || {
        emu.stats().streams_cancelled() == 1
    })
    .await;
    assert_eq!(client.transport_stats().idle, 0, "not pooled mid-body");
    assert_eq!(phrases(&client, "One. Two.").await, 2);
    assert_eq!(emu.stats().connections(), 2);
    assert_eq!(counts(client.transport_stats()), (2, 2, 0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_streams_each_take_a_connection_and_all_are_kept() {
    let emu = common::emulator().await;
    // Each event 150 ms after the last: the three streams are surely open at once (an answer
    // that ended before the third stream started would give it its connection).
    let client = common::faulty(&emu, "pause-ms=150", bookwyrm::RetryPolicy::default());
    // Three at once, twice: the second three reuse the first three's connections.
    for round in 1..=2 {
        let (a, b, c) = tokio::join!(
            phrases(&client, "Alpha one. Beta two."),
            phrases(&client, "Gamma three. Delta four."),
            phrases(&client, "Epsilon five. Zeta six.")
        );
        assert_eq!((a, b, c), (2, 2, 2), "round {round}");
        assert_eq!(emu.stats().connections(), 3, "round {round}");
        assert_eq!(client.transport_stats().idle, 3, "round {round}");
    }
    assert_eq!(counts(client.transport_stats()), (6, 3, 3, 3));
}

/// A server that answers every request with one phrasal event and keeps the connection open
/// for `keep`, then closes it; it counts connections and requests.
async fn closing_server(keep: Duration) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (c, r) = (connections.clone(), requests.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let r = r.clone();
            tokio::spawn(async move {
                let event =
                    "event: text_span\ndata: {\"text\":\"A.\",\"start_char\":0,\"end_char\":2}\n\n";
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\r\n{event}",
                    event.len()
                );
                let mut seen = Vec::new();
                let served = async {
                    // One answer per request, as long as requests come.
                    while common::read_request(&mut sock, &mut seen).await {
                        r.fetch_add(1, Ordering::SeqCst);
                        if sock.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                };
                let _ = tokio::time::timeout(keep, served).await;
                // Dropping the socket closes the connection.
            });
        }
    });
    (url, connections, requests)
}

#[tokio::test]
async fn a_pooled_connection_the_server_closed_costs_a_new_connection_not_an_error() {
    let (url, connections, requests) = closing_server(Duration::from_millis(200)).await;
    let client = AsyncBookWyrmClient::builder()
        .base_url(&url)
        .api_key("sk-raw")
        .retry_policy(bookwyrm::RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(phrases(&client, "x").await, 1);
    assert_eq!(client.transport_stats().idle, 1);
    // The server closes the idle connection; the next request finds it closed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(phrases(&client, "x").await, 1);
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    assert_eq!(
        requests.load(Ordering::SeqCst),
        2,
        "no request was sent twice"
    );
    assert_eq!(counts(client.transport_stats()), (2, 2, 0, 1));
    // Within the server's keep time the connection is reused.
    assert_eq!(phrases(&client, "x").await, 1);
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    assert_eq!(client.transport_stats().reused, 1);
}
