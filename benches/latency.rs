//! Latency over a real network: sequential short streams over HTTPS through a proxy that
//! delays each direction, this SDK beside the Python client in the same run.
//!
//! ```sh
//! cargo bench --bench latency                                    # 30 streams, 20 ms each way
//! BENCH_PYTHON=/path/to/venv/bin/python cargo bench --bench latency   # + the Python client
//! BENCH_STREAMS=30 BENCH_DELAY_MS=20 BENCH_ROUNDS=3 cargo bench --bench latency
//! ```
//!
//! A plain bench binary: it builds the release emulator, makes a private CA and a certificate
//! for 127.0.0.1 (rcgen), starts the emulator serving HTTPS in another process, and puts a TCP
//! proxy in front of it that holds every piece of data `BENCH_DELAY_MS` before passing it on,
//! in each direction (so a round trip costs twice that). Each case runs in a child process that
//! opens `BENCH_STREAMS` short phrasal streams one after another on one client and prints, per
//! stream, the time to the first event and to the end. The proxy counts the TCP connections
//! each case opened (each one is a TLS handshake). Cases: `rust` (this SDK, `#[tokio::main]`
//! shape), `rust-client-per-stream` (a new client for every stream: what reuse saves),
//! `python` (the reference client 0.1.21, `BENCH_PYTHON`, `SSL_CERT_FILE` naming the CA).
//! It prints medians and asserts only that every stream delivered its events.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bookwyrm::{AsyncBookWyrmClient, PhrasalRequest};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "support/mod.rs"]
mod support;
use support::{build_binaries, release_dir, Server};

/// The text of every stream: three phrases, three events.
const TEXT: &str = "One small step. Two more steps. Three steps home.";

fn main() {
    if let Ok(case) = std::env::var("BENCH_CHILD") {
        child(&case);
        return;
    }
    let streams: usize = env_num("BENCH_STREAMS", 30);
    let delay = Duration::from_millis(env_num("BENCH_DELAY_MS", 20));
    let rounds: usize = env_num("BENCH_ROUNDS", 3);
    let release = release_dir();
    build_binaries();
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = write_pki(dir.path());
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let server = Server::start(
        &release,
        &[
            "--tls-cert",
            cert.to_str().expect("path"),
            "--tls-key",
            key.to_str().expect("path"),
        ],
    );
    let upstream: std::net::SocketAddr = server
        .url
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .parse()
        .expect("emulator address");
    let proxy = Proxy::start(upstream, delay);
    let url = format!("https://{}", proxy.addr);
    println!(
        "{streams} sequential phrasal streams over HTTPS, {} ms each way ({} ms round trip); \
         medians over {rounds} rounds",
        delay.as_millis(),
        2 * delay.as_millis()
    );
    println!(
        "{:<26} {:>16} {:>16} {:>14}",
        "case", "first event ms", "per stream ms", "TLS handshakes"
    );
    let me = std::env::current_exe().expect("own path");
    let mut cases: Vec<(&str, Command)> = Vec::new();
    for case in ["rust", "rust-client-per-stream"] {
        let mut c = Command::new(&me);
        c.env("BENCH_CHILD", case);
        cases.push((case, c));
    }
    if let Ok(python) = std::env::var("BENCH_PYTHON") {
        let mut c = Command::new(python);
        c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("python/latency.py"));
        cases.push(("python", c));
    }
    for (name, mut cmd) in cases {
        let mut firsts = Vec::new();
        let mut totals = Vec::new();
        let mut handshakes = Vec::new();
        for _ in 0..rounds {
            let before = proxy.connections.load(Ordering::SeqCst);
            cmd.env("BOOKWYRM_API_URL", &url)
                .env("BOOKWYRM_API_KEY", "sk-bench")
                .env("BOOKWYRM_CA_CERT", &ca)
                .env("SSL_CERT_FILE", &ca)
                .env("BENCH_STREAMS", streams.to_string())
                .stdout(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn the case");
            let mut out = String::new();
            child
                .stdout
                .take()
                .expect("stdout")
                .read_to_string(&mut out)
                .expect("read");
            assert!(
                child.wait().expect("wait").success(),
                "{name} failed: {out}"
            );
            let mut n = 0;
            for line in out.lines() {
                let mut parts = line.split_whitespace();
                if parts.next() != Some("stream") {
                    continue;
                }
                let nums: Vec<f64> = parts.map(|p| p.parse().expect("number")).collect();
                assert_eq!(nums.len(), 3, "{line}");
                assert!(
                    nums[2] >= 3.0,
                    "{name}: a stream delivered {} events",
                    nums[2]
                );
                firsts.push(nums[0]);
                totals.push(nums[1]);
                n += 1;
            }
            assert_eq!(n, streams, "{name}: {out}");
            handshakes.push(proxy.connections.load(Ordering::SeqCst) - before);
        }
        println!(
            "{:<26} {:>16.1} {:>16.1} {:>14}",
            name,
            median(&mut firsts),
            median(&mut totals),
            median_u64(&mut handshakes)
        );
    }
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn median_u64(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Writes a CA, and a certificate and key for 127.0.0.1 signed by it, into `dir`; returns the
/// CA's path.
fn write_pki(dir: &Path) -> std::path::PathBuf {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // A name of its own: with rcgen's default name on both, OpenSSL takes the server's
    // certificate for a self-signed one.
    ca.distinguished_name
        .push(DnType::CommonName, "BookWyrm bench CA");
    let ca_pem = ca.self_signed(&ca_key).expect("CA").pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("certificate");
    std::fs::write(dir.join("cert.pem"), cert.pem()).expect("write");
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).expect("write");
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca_pem).expect("write");
    ca_path
}

/// A TCP proxy on loopback that passes each piece of data on `delay` after it arrived, in both
/// directions, keeping the order; it counts the connections it accepted.
struct Proxy {
    addr: std::net::SocketAddr,
    connections: Arc<AtomicU64>,
    _runtime: tokio::runtime::Runtime,
}

impl Proxy {
    fn start(upstream: std::net::SocketAddr, delay: Duration) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let connections = Arc::new(AtomicU64::new(0));
        let count = connections.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(delayed(cr, sw, delay), delayed(sr, cw, delay));
                });
            }
        });
        Self {
            addr,
            connections,
            _runtime: runtime,
        }
    }
}

/// Copies `from` to `to`, each piece `delay` after it was read.
async fn delayed(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((tokio::time::Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((due, data)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&data).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

// ---------------------------------------------------------------------------------------------
// The cases, each run in a child process.

fn child(case: &str) {
    let streams: usize = env_num("BENCH_STREAMS", 30);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let shared = AsyncBookWyrmClient::new().expect("client");
        for _ in 0..streams {
            let client = match case {
                "rust" => shared.clone(),
                "rust-client-per-stream" => AsyncBookWyrmClient::new().expect("client"),
                other => panic!("unknown case {other}"),
            };
            let started = Instant::now();
            let mut s = client
                .stream_process_text(PhrasalRequest::from_text(TEXT))
                .await
                .expect("stream");
            let mut first = None;
            let mut n = 0;
            while let Some(e) = s.next().await {
                e.expect("event");
                first.get_or_insert_with(|| started.elapsed());
                n += 1;
            }
            let total = started.elapsed();
            println!(
                "stream {:.3} {:.3} {n}",
                first.unwrap_or(total).as_secs_f64() * 1e3,
                total.as_secs_f64() * 1e3
            );
        }
    });
}
