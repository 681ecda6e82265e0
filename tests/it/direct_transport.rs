//! The direct stream transport (streams read their socket in the polling task): the same
//! events as through reqwest, in every runtime shape; and whatever a server sends on the wire
//! (chunk extensions, trailers, a length-delimited or close-delimited body, 1xx answers, broken
//! framing, garbage) becomes events or a typed error, never a panic or a hang.

use crate::common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bookwyrm::{AsyncBookWyrmClient, BookWyrmClientError, PhrasalRequest, PhrasalStreamEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn events_of(client: &AsyncBookWyrmClient, text: &str) -> Vec<String> {
    let mut s = client
        .stream_process_text(PhrasalRequest::from_text(text).chunk_size(300))
        .await
        .expect("stream opens");
    let mut out = Vec::new();
    while let Some(e) = s.next().await {
        out.push(serde_json::to_string(&e.expect("event")).unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_transports_deliver_the_same_events() {
    let emu = common::emulator().await;
    let story = common::story();
    let direct = common::client(&emu);
    let via_reqwest = AsyncBookWyrmClient::builder()
        .base_url(emu.base_url())
        .api_key(common::KEY)
        .direct_streams(false)
        .build()
        .unwrap();
    let a = events_of(&direct, &story).await;
    let b = events_of(&via_reqwest, &story).await;
    assert!(a.len() > 100, "{} events", a.len());
    assert_eq!(a, b);
    // Each client's stream went over its own path (a proxy variable in the environment would
    // silently send both through reqwest: this fails then, instead of comparing reqwest with
    // itself).
    let d = direct.transport_stats();
    assert_eq!(
        (d.direct, d.general),
        (1, 0),
        "the default client streams directly"
    );
    let r = via_reqwest.transport_stats();
    assert_eq!(
        (r.direct, r.general),
        (0, 1),
        "direct_streams(false) streams via reqwest"
    );
    // One byte per millisecond: every chunk boundary falls inside an event.
    let text = "One. Two. Three. Four, and five.";
    let dripping = common::faulty(&emu, "drip-ms=0", bookwyrm::RetryPolicy::none());
    let plain = events_of(&direct, text).await;
    assert!(plain.len() >= 2);
    assert_eq!(events_of(&dripping, text).await, plain);
    assert_eq!(dripping.transport_stats().direct, 1);
    assert_eq!(direct.transport_stats().direct, 2);
}

#[test]
fn a_stream_in_every_runtime_shape() {
    let shapes: Vec<tokio::runtime::Runtime> = vec![
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    ];
    for rt in shapes {
        let (inline, spawned, direct_count) = rt.block_on(async {
            let emu = common::emulator().await;
            let client = common::client(&emu);
            let story = common::story();
            let inline = events_of(&client, &story).await;
            let spawned = {
                let client = client.clone();
                tokio::spawn(async move { events_of(&client, &story).await })
                    .await
                    .unwrap()
            };
            (inline, spawned, client.transport_stats().direct)
        });
        assert!(inline.len() > 100);
        assert_eq!(inline, spawned);
        assert_eq!(
            direct_count, 2,
            "both streams went over the direct transport"
        );
    }
}

/// A one-connection server that reads a request head and body, then writes `reply` and
/// closes (or, with `hold`, keeps the connection open without writing more).
async fn raw_server(reply: Vec<u8>, hold: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                if !common::read_request(&mut sock, &mut Vec::new()).await {
                    return;
                }
                let _ = sock.write_all(&reply).await;
                if hold {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            });
        }
    });
    url
}

fn client_for(url: &str) -> AsyncBookWyrmClient {
    AsyncBookWyrmClient::builder()
        .base_url(url)
        .api_key("sk-raw")
        .retry_policy(bookwyrm::RetryPolicy::none())
        .resume_policy(bookwyrm::ResumePolicy::none())
        .stream_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// Opens a phrasal stream on a server that answers `reply`; returns the items (events as
/// their text) and the final error, if any.
async fn outcome(reply: &[u8]) -> (Vec<String>, Option<BookWyrmClientError>) {
    let url = raw_server(reply.to_vec(), false).await;
    let client = client_for(&url);
    let run = async {
        let mut s = match client
            .stream_process_text(PhrasalRequest::from_text("x"))
            .await
        {
            Ok(s) => s,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut texts = Vec::new();
        while let Some(item) = s.next().await {
            match item {
                Ok(PhrasalStreamEvent::TextSpan(t)) => texts.push(t.text),
                Ok(other) => texts.push(format!("{other:?}")),
                Err(e) => return (texts, Some(e)),
            }
        }
        (texts, None)
    };
    let out = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("no hang");
    let stats = client.transport_stats();
    assert_eq!(
        (stats.direct, stats.general),
        (1, 0),
        "the direct transport read this reply"
    );
    out
}

const SPAN_A: &str =
    "event: text_span\ndata: {\"text\":\"A.\",\"start_char\":0,\"end_char\":2}\n\n";
const SPAN_B: &str =
    "event: text_span\ndata: {\"text\":\"B.\",\"start_char\":3,\"end_char\":5}\n\n";

fn chunked(parts: &[&str], tail: &str) -> Vec<u8> {
    let mut out = String::from(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    for p in parts {
        out.push_str(&format!("{:x}\r\n{p}\r\n", p.len()));
    }
    out.push_str(tail);
    out.into_bytes()
}

#[tokio::test]
async fn chunk_extensions_trailers_and_split_events() {
    // SPAN_B is cut in three chunks; extensions and a trailer are allowed by HTTP/1.1.
    let (b1, rest) = SPAN_B.split_at(10);
    let (b2, b3) = rest.split_at(20);
    let mut reply = chunked(&[SPAN_A, b1, b2, b3], "0\r\nx-trailer: 1\r\n\r\n");
    let ext = String::from_utf8(reply.clone()).unwrap().replacen(
        &format!("{:x}\r\n", SPAN_A.len()),
        &format!("{:x};name=value\r\n", SPAN_A.len()),
        1,
    );
    reply = ext.into_bytes();
    let (texts, err) = outcome(&reply).await;
    assert_eq!(texts, ["A.", "B."]);
    assert!(err.is_none(), "{err:?}");
}

#[tokio::test]
async fn length_delimited_close_delimited_and_informational_answers() {
    let body = format!("{SPAN_A}{SPAN_B}");
    let with_length = format!(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let (texts, err) = outcome(with_length.as_bytes()).await;
    assert_eq!(texts, ["A.", "B."]);
    assert!(err.is_none(), "{err:?}");
    let until_close = format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n{body}");
    let (texts, err) = outcome(until_close.as_bytes()).await;
    assert_eq!(texts, ["A.", "B."]);
    assert!(err.is_none(), "{err:?}");
}

#[tokio::test]
async fn broken_framing_is_a_transport_error_after_the_good_events() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("bad chunk size", chunked(&[SPAN_A], "zz\r\nhello\r\n")),
        ("missing CRLF after data", {
            let mut r = chunked(&[SPAN_A], "");
            r.extend_from_slice(b"3\r\nabcX\r\n");
            r
        }),
        ("closed mid-chunk", chunked(&[SPAN_A], "ff\r\nevent: tex")),
        ("closed before the last chunk", chunked(&[SPAN_A], "")),
        ("endless chunk-size line", {
            let mut r = chunked(&[SPAN_A], "");
            r.extend(std::iter::repeat_n(b'1', 10_000));
            r
        }),
    ];
    for (name, reply) in cases {
        let (texts, err) = outcome(&reply).await;
        assert_eq!(texts, ["A."], "{name}");
        let err = err.unwrap_or_else(|| panic!("{name}: no error"));
        assert!(
            matches!(err, BookWyrmClientError::Transport(_)),
            "{name}: {err:?}"
        );
    }
}

#[tokio::test]
async fn garbage_and_oversized_heads_are_typed_errors() {
    let huge = format!(
        "HTTP/1.1 200 OK\r\nx-big: {}\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let many: String = (0..500).map(|i| format!("x-h{i}: v\r\n")).collect();
    let many = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
    let replies: Vec<(&str, Vec<u8>)> = vec![
        ("not HTTP", b"SSH-2.0-OpenSSH\r\n\r\n".to_vec()),
        ("random bytes", (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect()),
        ("closed before an answer", Vec::new()),
        ("head too large", huge.into_bytes()),
        ("too many headers", many.into_bytes()),
        (
            "conflicting lengths",
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabc"
                .to_vec(),
        ),
    ];
    for (name, reply) in replies {
        let (texts, err) = outcome(&reply).await;
        assert!(texts.is_empty(), "{name}");
        let err = err.unwrap_or_else(|| panic!("{name}: no error"));
        assert!(
            matches!(err, BookWyrmClientError::Transport(_)),
            "{name}: {err:?}"
        );
    }
}

#[tokio::test]
async fn error_statuses_keep_their_body_on_the_direct_transport() {
    let body = r#"{"detail":"Invalid or missing API key"}"#;
    let reply = format!(
        "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nx-request-id: raw-1\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let (_, err) = outcome(reply.as_bytes()).await;
    match err {
        Some(BookWyrmClientError::Api(api)) => {
            assert_eq!(api.status_code(), 401);
            assert_eq!(api.message(), "Invalid or missing API key");
            assert_eq!(api.request_id(), Some("raw-1"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_silent_server_ends_in_an_idle_timeout() {
    let head =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    let url = raw_server(head.to_vec(), true).await;
    let client = client_for(&url);
    let mut s = client
        .stream_process_text(PhrasalRequest::from_text("x"))
        .await
        .unwrap();
    let item = tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .expect("no hang");
    assert!(
        matches!(item, Some(Err(ref e)) if e.is_timeout()),
        "{item:?}"
    );
}

/// A server that answers every request with `head`, then writes `[` and `{"x":1},` forever
/// (until the client goes away); it returns the bytes it managed to write.
async fn endless_json_server(head: &'static str) -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let written = Arc::new(AtomicU64::new(0));
    let w = written.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let w = w.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await; // the request (small)
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunked = head.contains("chunked");
                let piece = "{\"x\":1},".repeat(1000);
                let piece = if chunked {
                    format!("{:x}\r\n{piece}\r\n", piece.len())
                } else {
                    piece
                };
                let _ = sock
                    .write_all(if chunked { b"1\r\n[\r\n" } else { b"[" })
                    .await;
                while sock.write_all(piece.as_bytes()).await.is_ok() {
                    w.fetch_add(piece.len() as u64, Ordering::SeqCst);
                }
            });
        }
    });
    (url, written)
}

#[tokio::test]
async fn json_answers_are_read_under_a_cap() {
    for direct in [true, false] {
        answers_are_capped(direct).await;
    }
}

/// The cap on the direct transport (`direct`) or through reqwest.
async fn answers_are_capped(direct: bool) {
    use bookwyrm::{CitationRequest, TextSpan, TransportKind};
    let call = |url: String, cap: Option<usize>| async move {
        let mut b = AsyncBookWyrmClient::builder()
            .base_url(url)
            .api_key("sk-raw")
            .direct_streams(direct)
            .retry_policy(bookwyrm::RetryPolicy::none());
        if let Some(cap) = cap {
            b = b.max_response_body(cap);
        }
        let client = b.build().unwrap();
        let request = CitationRequest::from_chunks(vec![TextSpan::new(0, "x")], "q");
        let err = tokio::time::timeout(Duration::from_secs(20), client.get_citations(request))
            .await
            .expect("no hang")
            .expect_err("refused");
        let stats = client.transport_stats();
        assert_eq!((stats.direct > 0, stats.general > 0), (direct, !direct));
        err
    };
    // 1.5 GB announced: refused from the head, before the body is read (the default cap).
    let (url, written) = endless_json_server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1500000000\r\n\r\n",
    )
    .await;
    let err = call(url, None).await;
    match &err {
        BookWyrmClientError::Transport(t) => assert_eq!(t.kind(), TransportKind::TooLarge),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains(&format!("cap of {} bytes", 64 << 20)),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert!(
        written.load(Ordering::SeqCst) < 64 << 20,
        "the client stopped reading at once"
    );
    // No length announced (chunked, never ending): cut off at the cap.
    let (url, written) = endless_json_server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
    )
    .await;
    let err = call(url, Some(1 << 20)).await;
    match &err {
        BookWyrmClientError::Transport(t) => assert_eq!(t.kind(), TransportKind::TooLarge),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("cap of 1048576 bytes"), "{err}");
    let sent = written.load(Ordering::SeqCst);
    assert!(sent >= 1 << 20, "read up to the cap: {sent}");
    assert!(sent < 16 << 20, "stopped near the cap: {sent}");
}

#[tokio::test]
async fn a_reset_mid_stream_says_so_and_how_many_events_had_arrived() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let reply = chunked(&[SPAN_A], "");
        sock.write_all(&reply).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Linger 0: closing sends a TCP reset instead of a clean end.
        sock.set_zero_linger().unwrap();
        drop(sock);
    });
    let client = client_for(&url);
    let mut s = client
        .stream_process_text(PhrasalRequest::from_text("x"))
        .await
        .unwrap();
    assert!(matches!(
        s.next().await,
        Some(Ok(PhrasalStreamEvent::TextSpan(_)))
    ));
    let err = s.next().await.unwrap().unwrap_err();
    assert!(matches!(err, BookWyrmClientError::Transport(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the connection was reset after 1 event of the stream had arrived"
    );
}

#[tokio::test]
async fn a_json_answer_that_does_not_decode_carries_its_request_id() {
    let body = "{\"total_citations\": \"many\"}";
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: raw-9\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    for direct in [true, false] {
        let url = raw_server(reply.clone().into_bytes(), false).await;
        let client = AsyncBookWyrmClient::builder()
            .base_url(&url)
            .api_key("sk-raw")
            .direct_streams(direct)
            .build()
            .unwrap();
        let err = client
            .get_citations(bookwyrm::CitationRequest::from_chunks(
                vec![bookwyrm::TextSpan::new(0, "x")],
                "q",
            ))
            .await
            .unwrap_err();
        assert!(matches!(err, BookWyrmClientError::Decode(_)), "{err:?}");
        assert_eq!(err.request_id(), Some("raw-9"), "direct: {direct}");
        assert_eq!(err.attempts(), 1);
        // The path asked for is the one the call took.
        let stats = client.transport_stats();
        let expected = if direct { (1, 0) } else { (0, 1) };
        assert_eq!((stats.direct, stats.general), expected, "direct: {direct}");
    }
}

/// A waker that counts the wakes made on the polling thread while it polls: the task waking
/// itself through a channel it feeds (on a multi-thread runtime, a running task woken is
/// queued again and another worker is woken to take it).
struct SelfWakes {
    thread: std::thread::Thread,
    polling: std::sync::atomic::AtomicBool,
    count: AtomicU64,
}

impl std::task::Wake for SelfWakes {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.polling.load(Ordering::SeqCst) && std::thread::current().id() == self.thread.id() {
            self.count.fetch_add(1, Ordering::SeqCst);
        }
        self.thread.unpark();
    }
}

/// Runs `fut` to its end on this thread (inside `rt`'s context, its I/O driven by `rt`'s
/// workers), with its wakes counted by `wakes`.
fn poll_watched<F: std::future::Future>(
    rt: &tokio::runtime::Runtime,
    wakes: &Arc<SelfWakes>,
    fut: F,
) -> F::Output {
    let _entered = rt.enter();
    let waker = std::task::Waker::from(wakes.clone());
    let mut cx = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        wakes.polling.store(true, Ordering::SeqCst);
        let polled = fut.as_mut().poll(&mut cx);
        wakes.polling.store(false, Ordering::SeqCst);
        if let std::task::Poll::Ready(out) = polled {
            return out;
        }
        std::thread::park_timeout(Duration::from_millis(100));
    }
}

#[test]
fn calls_and_streams_do_not_wake_their_own_task() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let emu = rt.block_on(common::emulator());
    // Answers come 20 ms after each request: each is read in the step after the socket's
    // wake, never in the instant between the step without a waker and the one with it (an
    // answer landing just then still leaves the task's waker with hyper's body channel: one
    // wasted wake, which the stream part below allows now and then).
    let (client, delayed) = {
        let _entered = rt.enter();
        (
            common::client(&emu),
            common::faulty(&emu, "delay-ms=20", bookwyrm::RetryPolicy::none()),
        )
    };
    let wakes = || {
        Arc::new(SelfWakes {
            thread: std::thread::current(),
            polling: false.into(),
            count: AtomicU64::new(0),
        })
    };
    let calls = wakes();
    for _ in 0..20 {
        let answer = poll_watched(
            &rt,
            &calls,
            delayed.get_citations(bookwyrm::CitationRequest::from_chunks(
                vec![bookwyrm::TextSpan::new(0, "The sky is blue.")],
                "What colour is the sky?",
            )),
        )
        .unwrap();
        assert_eq!(answer.total_citations, 1);
    }
    let stats = delayed.transport_stats();
    assert_eq!(
        (stats.direct, stats.connections),
        (20, 1),
        "every call went directly, over one connection"
    );
    assert_eq!(
        calls.count.load(Ordering::SeqCst),
        0,
        "a call woke its own task while it ran"
    );

    let stream = wakes();
    let story = common::story();
    let events = poll_watched(&rt, &stream, events_of(&client, &story)).len() as u64;
    assert!(events > 100, "{events} events");
    // Each event taken would wake the task if the connection were driven with its waker.
    let woke = stream.count.load(Ordering::SeqCst);
    assert!(
        woke * 20 < events,
        "the stream woke its own task {woke} times for {events} events"
    );
}

/// Proxies are decided per destination by hyper-util's matcher (as reqwest decides them): a
/// request that a proxy intercepts goes through reqwest to the proxy; one that `NO_PROXY`
/// exempts goes direct. The environment is the process's, so each case runs in a child
/// process of this test binary ([`proxy_case`]).
#[test]
fn a_proxy_takes_what_it_intercepts_and_no_proxy_goes_direct() {
    let run = |no_proxy: &str| {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "direct_transport::proxy_case",
                "--ignored",
                "--nocapture",
            ])
            .env("HTTP_PROXY", "http://127.0.0.1:9") // nothing listens: reqwest's connect fails
            .env("NO_PROXY", no_proxy)
            .env_remove("http_proxy")
            .env_remove("no_proxy")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text.lines()
            .find_map(|l| l.strip_prefix("proxy case: "))
            .unwrap_or_else(|| panic!("no result: {text}"))
            .to_string()
    };
    assert_eq!(run(""), "direct 0, reqwest 1, failed: connect");
    assert_eq!(run("127.0.0.1"), "direct 1, reqwest 0, failed: no");
}

/// One call to the emulator under the proxy settings of the environment (run by
/// [`a_proxy_takes_what_it_intercepts_and_no_proxy_goes_direct`]).
#[tokio::test]
#[ignore = "run by a_proxy_takes_what_it_intercepts_and_no_proxy_goes_direct in a child process"]
async fn proxy_case() {
    let emu = common::emulator().await;
    let client = common::client(&emu).with_config(|c| c.retry = bookwyrm::RetryPolicy::none());
    let result = client
        .get_citations(bookwyrm::CitationRequest::from_chunks(
            vec![bookwyrm::TextSpan::new(0, "Nunez fell.")],
            "Who fell?",
        ))
        .await;
    let failed = match &result {
        Ok(_) => "no",
        Err(BookWyrmClientError::Transport(t)) if t.kind() == bookwyrm::TransportKind::Connect => {
            "connect"
        }
        Err(e) => panic!("{e:?}"),
    };
    let stats = client.transport_stats();
    println!(
        "proxy case: direct {}, reqwest {}, failed: {failed}",
        stats.direct, stats.general
    );
}
