//! Client CPU and peak memory of consuming event streams, in the program shapes users write.
//!
//! ```sh
//! cargo bench --bench stream_cpu                 # all cases, 3 rounds
//! BENCH_EVENTS=200000 BENCH_ROUNDS=5 cargo bench --bench stream_cpu
//! BENCH_PYTHON=/path/to/venv/bin/python cargo bench --bench stream_cpu   # + the Python client
//! BENCH_ONLY=tokio-main,cli-json cargo bench --bench stream_cpu          # some cases only
//! BENCH_BASELINE=/path/to/old/stream_cpu-bin cargo bench --bench stream_cpu  # + our own best
//! ```
//!
//! `BENCH_BASELINE` names the bench binary of an older commit (built in a `git worktree` with
//! `cargo bench --no-run --bench stream_cpu`): its `tokio-main`, `current-thread` and `spawned`
//! children run in the same rounds as `base-*` cases, and each of ours is printed with its
//! ratio to the base (the median of per-round ratios).
//!
//! Cases: `floor` (a blocking socket, hand-written de-chunking, serde_json: no runtime, no
//! hyper), `python` (the reference client 0.1.21 on asyncio), `tokio-main` (the stream consumed
//! in `block_on` of a multi-thread runtime, the body of `#[tokio::main]`), `tokio-main-hyper`
//! (the same through reqwest/hyper: `direct_streams(false)`), `current-thread`, `spawned`
//! (consumer in a spawned task), `blocking` (the blocking client), `cli-json` and `cli-table`
//! (`bookwyrm phrasal`, stdout a pipe), `1000-streams` (1,000 concurrent phrasal streams of the
//! story on one client, resume on, the text shared by the tasks and given to the SDK as shared
//! text; `1000-streams-cloned`: each task given its own copy up front; `python-1000-streams`: the same with the Python client), `1m-events` and
//! `1m-events-slow` (one million events; the slow consumer sleeps 1 ms every 1,000 events),
//! `2000-calls-{tokio-main,current-thread,spawned,blocking}` (2,000 small `get_citations` calls one
//! after another; `python-2000-calls`: the same with the Python client).
//!
//! A plain bench binary (no criterion): it builds and starts the release emulator in another
//! process with the fault `synthetic-events=N` (one HTTP chunk per event, as a FastAPI server
//! sends them), then runs every case in a child process of its own and reads that child's CPU
//! (user + system) and peak RSS from `wait4`, so only the client is counted. `BENCH_ROUNDS`
//! rounds run every case in turn (a slow spell of a shared machine then falls on all cases
//! alike); each case's median is printed with its ratio to its Python baseline (the median of
//! the ratios taken round by round), next to the floor measured in the same run:
//! a blocking socket with hand-written HTTP/1.1 de-chunking and `serde_json` (no runtime, no
//! hyper). It prints figures and asserts only that every event arrived.
//!
//! The Python cases run `benches/python/stream_phrasal.py` and `thousand_streams.py` with the
//! interpreter named by `BENCH_PYTHON` (a virtualenv with `pip install bookwyrm==0.1.21`).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bookwyrm::{AsyncBookWyrmClient, PhrasalRequest, PhrasalStreamEvent};

#[path = "support/mod.rs"]
mod support;
use support::{build_binaries, release_dir, Server};

/// The text sent with every synthetic request (the server ignores it).
const PROMPT: &str = "Synthetic load.";
/// Small calls in the `2000-calls-*` cases.
const CALLS: u64 = 2_000;

fn main() {
    if let Ok(case) = std::env::var("BENCH_CHILD") {
        child(&case);
        return;
    }
    let events: u64 = env_num("BENCH_EVENTS", 200_000);
    let rounds: usize = env_num("BENCH_ROUNDS", 3);
    let only: Option<Vec<String>> = std::env::var("BENCH_ONLY")
        .ok()
        .map(|s| s.split(',').map(str::to_string).collect());
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));

    let release = release_dir();
    build_binaries();
    let synthetic = Server::start(
        &release,
        &["--fault", &format!("synthetic-events={events}")],
    );
    let million = Server::start(&release, &["--fault", "synthetic-events=1000000"]);
    let plain = Server::start(&release, &[]);

    let me = std::env::current_exe().expect("own path");
    let child_case = |case: &'static str| -> Maker {
        let me = me.clone();
        Box::new(move || {
            let mut c = Command::new(&me);
            c.env("BENCH_CHILD", case);
            c
        })
    };
    // A Python case: `BENCH_PYTHON` running `benches/python/<script>` with `env` (none when
    // `BENCH_PYTHON` is not set).
    let python = std::env::var("BENCH_PYTHON").ok();
    let python_case = |script: &str, env: Vec<(&'static str, std::ffi::OsString)>| {
        let python = python.clone()?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("python")
            .join(script);
        Some(Box::new(move || {
            let mut c = Command::new(&python);
            c.arg(&script).envs(env.iter().map(|(k, v)| (k, v)));
            c
        }) as Maker)
    };
    // Each case: its name, server, the count it must reach, how to start it, and the Python
    // case it is compared with.
    let mut cases: Vec<Case> = Vec::new();
    let mut add = |name: &'static str,
                   url: &str,
                   expected: u64,
                   make: Maker,
                   baseline: Option<&'static str>| {
        if wanted(name) {
            cases.push(Case {
                name,
                url: url.to_string(),
                expected,
                make,
                baseline,
                results: Vec::new(),
            });
        }
    };
    add(
        "floor",
        &synthetic.url,
        events,
        child_case("floor"),
        Some("python"),
    );
    if let Some(make) = python_case("stream_phrasal.py", vec![]) {
        add("python", &synthetic.url, events, make, None);
    }
    for (name, case) in [
        ("tokio-main", "tokio-main"),
        ("tokio-main-hyper", "tokio-main-via-hyper"),
        ("current-thread", "current-thread"),
        ("spawned", "spawned"),
        ("blocking", "blocking"),
    ] {
        add(
            name,
            &synthetic.url,
            events,
            child_case(case),
            Some("python"),
        );
    }
    let cli = release.join("bookwyrm");
    for (name, args) in [
        ("cli-json", vec!["phrasal", "--json", PROMPT]),
        ("cli-table", vec!["phrasal", PROMPT]),
    ] {
        let cli = cli.clone();
        add(
            name,
            &synthetic.url,
            events,
            Box::new(move || {
                let mut c = Command::new(&cli);
                c.args(&args);
                c
            }),
            Some("python"),
        );
    }
    // 2,000 small JSON calls one after another (get_citations of one short chunk), in each
    // shape; the count printed is of calls, each checked.
    if let Some(make) = python_case(
        "small_calls.py",
        vec![("BENCH_CALLS", CALLS.to_string().into())],
    ) {
        add("python-2000-calls", &plain.url, CALLS, make, None);
    }
    for (name, case) in [
        ("2000-calls-tokio-main", "calls-tokio-main"),
        ("2000-calls-current-thread", "calls-current-thread"),
        ("2000-calls-spawned", "calls-spawned"),
        ("2000-calls-blocking", "calls-blocking"),
    ] {
        add(
            name,
            &plain.url,
            CALLS,
            child_case(case),
            Some("python-2000-calls"),
        );
    }
    // 1,000 concurrent streams of the story: every event counted (the child checks the count
    // against one stream's), none failed.
    add(
        "1000-streams",
        &plain.url,
        0,
        child_case("concurrent"),
        Some("python-1000-streams"),
    );
    let story = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/country-of-the-blind.txt");
    if let Some(make) = python_case("thousand_streams.py", vec![("BENCH_STORY", story.into())]) {
        add("python-1000-streams", &plain.url, 0, make, None);
    }
    add(
        "1000-streams-cloned",
        &plain.url,
        0,
        child_case("concurrent-cloned"),
        Some("python-1000-streams"),
    );
    // Our own best, built from an older commit: the same children in its binary.
    if let Ok(base) = std::env::var("BENCH_BASELINE") {
        for (label, name) in [
            ("base-tokio-main", "tokio-main"),
            ("base-current-thread", "current-thread"),
            ("base-spawned", "spawned"),
        ] {
            let base = base.clone();
            let make = Box::new(move || {
                let mut c = Command::new(&base);
                c.env("BENCH_CHILD", name);
                c
            });
            add(label, &synthetic.url, events, make, Some("python"));
        }
    }
    add(
        "1m-events",
        &million.url,
        1_000_000,
        child_case("tokio-main"),
        None,
    );
    add(
        "1m-events-slow",
        &million.url,
        1_000_000,
        child_case("slow"),
        None,
    );

    // Round after round of every case, so that a slow spell of this shared machine falls on
    // all of them alike; each case's ratio to its Python baseline is taken within a round.
    for _ in 0..rounds {
        for case in &mut cases {
            let mut cmd = (case.make)();
            cmd.env("BOOKWYRM_API_URL", &case.url)
                .env("BOOKWYRM_API_KEY", "sk-bench");
            case.results.push(measure(cmd, case.expected));
        }
    }
    println!(
        "client CPU (user+sys) and peak RSS, median of {rounds} interleaved rounds; {events} events, one chunk each"
    );
    println!(
        "{:<28} {:>8} {:>11} {:>10} {:>9}  vs Python (median of per-round ratios)",
        "case", "CPU s", "us/event", "peak RSS", "events"
    );
    let versus_base = |case: &Case| {
        let base = format!("base-{}", case.name);
        let base = cases.iter().find(|c| c.name == base)?;
        let mut r: Vec<f64> = case
            .results
            .iter()
            .zip(&base.results)
            .map(|(c, b)| c.cpu / b.cpu)
            .collect();
        Some(format!("  {:.2}x base", median(&mut r)))
    };
    for case in &cases {
        let mut cpu: Vec<f64> = case.results.iter().map(|r| r.cpu).collect();
        let m = median(&mut cpu);
        let events = case.results.last().map_or(0, |r| r.events);
        let peak = case
            .results
            .iter()
            .map(|r| r.peak_rss_kb)
            .max()
            .unwrap_or(0);
        let ratio = case
            .baseline
            .and_then(|b| cases.iter().find(|c| c.name == b))
            .map(|b| {
                let mut r: Vec<f64> = b
                    .results
                    .iter()
                    .zip(&case.results)
                    .map(|(b, c)| b.cpu / c.cpu)
                    .collect();
                format!("1/{:.1}", median(&mut r))
            })
            .unwrap_or_default();
        println!(
            "{:<28} {:>8.3} {:>11.3} {:>7.1} MB {:>9}  {}{}",
            case.name,
            m,
            m * 1e6 / events.max(1) as f64,
            peak as f64 / 1024.0,
            events,
            ratio,
            versus_base(case).unwrap_or_default()
        );
    }
}

/// How a case's process is made.
type Maker = Box<dyn Fn() -> Command>;

/// One case of the bench and its rounds.
struct Case {
    name: &'static str,
    url: String,
    expected: u64,
    make: Maker,
    /// The case it is compared with, when that one runs too.
    baseline: Option<&'static str>,
    results: Vec<Measured>,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Measured {
    cpu: f64,
    peak_rss_kb: i64,
    events: u64,
}

/// Runs a child to its end, its stdout drained by a thread (a pipe, as a user's `| tail`
/// would be); returns its CPU, peak RSS and the event count it printed last.
#[allow(clippy::zombie_processes)] // reaped by `wait4`, which also gives its resource usage
fn measure(mut cmd: Command, expected: u64) -> Measured {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the case");
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut lines = 0u64;
        let mut last = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = out.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
            last.extend_from_slice(&buf[..n]);
            if last.len() > 4096 {
                last.drain(..last.len() - 256);
            }
        }
        (lines, String::from_utf8_lossy(&last).into_owned())
    });
    let (status, usage) = wait4(&child);
    let (lines, tail) = reader.join().expect("reader");
    assert!(status == 0, "case exited with status {status}: {tail}");
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    // Bench children print `events N`; the CLI prints one line per event.
    let events = tail
        .lines()
        .rev()
        .find_map(|l| {
            l.strip_prefix("events ")
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(lines);
    if expected > 0 {
        assert!(
            events >= expected,
            "expected {expected} events, got {events} (after {:?})",
            started.elapsed()
        );
    }
    Measured {
        cpu,
        peak_rss_kb: usage.ru_maxrss,
        events,
    }
}

fn tv(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

fn wait4(child: &Child) -> (i32, libc::rusage) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child's, not yet waited for; both pointers are valid.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert!(pid > 0, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage)
}

// ---------------------------------------------------------------------------------------------
// The cases, each run in a child process.

fn child(case: &str) {
    let events = match case {
        "floor" => floor(),
        "tokio-main" => multi_thread().block_on(consume(false, true)),
        "tokio-main-via-hyper" => multi_thread().block_on(consume(false, false)),
        "slow" => multi_thread().block_on(consume(true, true)),
        "current-thread" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(consume(false, true)),
        "spawned" => multi_thread()
            .block_on(async { tokio::spawn(consume(false, true)).await.expect("task") }),
        "blocking" => blocking(),
        "calls-tokio-main" => multi_thread().block_on(small_calls()),
        "calls-current-thread" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(small_calls()),
        "calls-spawned" => {
            multi_thread().block_on(async { tokio::spawn(small_calls()).await.expect("task") })
        }
        "calls-blocking" => blocking_calls(),
        "concurrent" => multi_thread().block_on(concurrent(1000, false)),
        "concurrent-cloned" => multi_thread().block_on(concurrent(1000, true)),
        other => panic!("unknown case {other}"),
    };
    println!("events {events}");
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// What a user writes: one stream, every event matched. `direct: false` sends the stream
/// through reqwest/hyper, for comparison.
async fn consume(slow: bool, direct: bool) -> u64 {
    let client = AsyncBookWyrmClient::builder()
        .from_env()
        .direct_streams(direct)
        .build()
        .expect("client");
    let mut stream = client
        .stream_process_text(PhrasalRequest::from_text(PROMPT))
        .await
        .expect("stream");
    let mut n = 0u64;
    let mut chars = 0u64;
    while let Some(event) = stream.next().await {
        if let PhrasalStreamEvent::TextSpan(span) = event.expect("event") {
            chars += span.end_char - span.start_char;
        }
        n += 1;
        if slow && n.is_multiple_of(1000) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    std::hint::black_box(chars);
    n
}

/// [`CALLS`] small `get_citations` calls one after another on one client, each answer checked.
async fn small_calls() -> u64 {
    let client = AsyncBookWyrmClient::new().expect("client");
    for _ in 0..CALLS {
        let answer = client.get_citations(small_call()).await.expect("call");
        assert_eq!(answer.total_citations, 1);
    }
    CALLS
}

/// The request of the small-calls cases: one short chunk and a question.
fn small_call() -> bookwyrm::CitationRequest {
    bookwyrm::CitationRequest::from_chunks(
        vec![bookwyrm::TextSpan::new(
            0,
            "The sky is blue over the valley.",
        )],
        "What colour is the sky?",
    )
}

fn blocking_calls() -> u64 {
    let client = bookwyrm::blocking::BookWyrmClient::new().expect("client");
    for _ in 0..CALLS {
        let answer = client.get_citations(small_call()).expect("call");
        assert_eq!(answer.total_citations, 1);
    }
    CALLS
}

fn blocking() -> u64 {
    let client = bookwyrm::blocking::BookWyrmClient::new().expect("client");
    let stream = client
        .stream_process_text(PhrasalRequest::from_text(PROMPT))
        .expect("stream");
    let mut n = 0;
    for event in stream {
        event.expect("event");
        n += 1;
    }
    n
}

/// 1,000 phrasal streams of the story at once on one client; returns the events received
/// after checking that every stream got as many as the first. `cloned`: every task gets its
/// own copy of the text before any of them runs (1,000 copies at once) instead of sharing one.
async fn concurrent(streams: usize, cloned: bool) -> u64 {
    // One copy of the text, shared by the tasks and handed to the SDK as shared text (kept for
    // a resume without a copy); `cloned`: each task gives the SDK its own copy, made up front.
    let story: std::sync::Arc<str> = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/country-of-the-blind.txt"
    ))
    .expect("story")
    .into();
    let client = AsyncBookWyrmClient::new().expect("client");
    let tasks: Vec<_> = (0..streams)
        .map(|_| {
            let client = client.clone();
            let story = story.clone();
            let request = match cloned {
                true => PhrasalRequest::from_text(story.to_string()),
                false => PhrasalRequest::from_shared_text(story.clone()),
            };
            tokio::spawn(async move {
                let mut s = client.stream_process_text(request).await?;
                let mut n = 0u64;
                while let Some(e) = s.next().await {
                    e?;
                    n += 1;
                }
                Ok::<u64, bookwyrm::BookWyrmClientError>(n)
            })
        })
        .collect();
    let mut counts = Vec::new();
    let mut errors = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(n) => counts.push(n),
            Err(e) => {
                errors += 1;
                eprintln!("stream failed: {e}");
            }
        }
    }
    assert_eq!(errors, 0, "{errors} streams failed");
    assert!(
        counts.iter().all(|n| *n == counts[0] && *n > 0),
        "streams delivered different numbers of events"
    );
    counts.iter().sum()
}

/// The floor: a blocking socket, the request written by hand, the chunked body de-chunked by
/// hand, events split on blank lines and their data parsed by serde_json.
fn floor() -> u64 {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Span {
        text: String,
        start_char: u64,
        end_char: u64,
    }
    let url = std::env::var("BOOKWYRM_API_URL").expect("url");
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut sock = std::net::TcpStream::connect(host).expect("connect");
    let body = format!(r#"{{"text":"{PROMPT}","response_format":"with_offsets"}}"#);
    write!(
        sock,
        "POST /phrasal/sse HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n\
         accept: text/event-stream\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut r = BufReader::with_capacity(1 << 16, sock);
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line).expect("head");
        if line == "\r\n" {
            break;
        }
    }
    let mut body = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        r.read_line(&mut line).expect("chunk size");
        let size = usize::from_str_radix(line.trim(), 16).expect("hex");
        if size == 0 {
            break;
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..]).expect("chunk");
        r.read_line(&mut line).expect("crlf");
        while let Some(end) = memchr::memmem::find(&body, b"\n\n") {
            for l in body[..end].split(|b| *b == b'\n') {
                if let Some(data) = l.strip_prefix(b"data: ") {
                    let span: Span = serde_json::from_slice(data).expect("json");
                    std::hint::black_box(&span);
                    n += 1;
                }
            }
            body.drain(..end + 2);
        }
    }
    n
}
