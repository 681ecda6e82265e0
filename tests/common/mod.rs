//! Shared test setup: an in-process emulator and clients pointed at it.
#![allow(dead_code)]

use std::time::Duration;

use bookwyrm::AsyncBookWyrmClient;
use bookwyrm_emulator::{Emulator, RecordedRequest};

pub const KEY: &str = "sk-test-9f8e7d6c5b4a";

/// The step between the byte offsets an every-byte-offset sweep cuts at: 1 (every offset)
/// when `BOOKWYRM_EVERY_BYTE` is set, as `.ci/run` sets it; else 7, a prime (so the cuts
/// fall at every position relative to the events' boundaries), for a `cargo test` in
/// seconds. Set `BOOKWYRM_EVERY_BYTE=1` to run the whole sweep locally.
pub fn sweep_step() -> usize {
    if std::env::var_os("BOOKWYRM_EVERY_BYTE").is_some_and(|v| !v.is_empty() && v != "0") {
        1
    } else {
        7
    }
}

/// The test binary's global subscriber: interested in every callsite "sometimes" and enabled
/// for nothing. tracing caches a callsite's interest process-wide, from the dispatchers alive
/// when the callsite is first hit; a test without a subscriber hitting a span first, while a
/// log test (`with_default`, its own thread) installs its own, could leave that span "never"
/// for the log test too. With this one always alive no callsite is ever "never", and each
/// event asks the dispatcher of its own thread. Installed by `emulator()`, before any SDK code
/// runs, and by the log tests.
pub fn quiet_global_subscriber() {
    use tracing::level_filters::LevelFilter;
    use tracing::span::{Attributes, Id, Record};
    use tracing::subscriber::Interest;
    use tracing::{Event, Metadata};

    struct Quiet;
    impl tracing::Subscriber for Quiet {
        fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
            Interest::sometimes()
        }
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            false
        }
        fn max_level_hint(&self) -> Option<LevelFilter> {
            Some(LevelFilter::TRACE)
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, _: &Event<'_>) {}
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another global subscriber (a test binary's own) is as good: it stays alive too.
        let _ = tracing::subscriber::set_global_default(Quiet);
    });
}

/// An emulator that accepts [`KEY`], allows faults and records requests.
pub async fn emulator() -> Emulator {
    quiet_global_subscriber();
    Emulator::builder()
        .api_key(KEY)
        .allow_faults(true)
        .record_requests(true)
        .keepalive(Duration::from_millis(200))
        .start()
        .await
        .expect("the emulator starts")
}

/// A client for `emu` with the right key.
pub fn client(emu: &Emulator) -> AsyncBookWyrmClient {
    AsyncBookWyrmClient::builder()
        .base_url(emu.base_url())
        .api_key(KEY)
        .build()
        .expect("client builds")
}

/// A client for `emu` whose requests carry the fault header `fault`, with `policy`.
pub fn faulty(emu: &Emulator, fault: &str, policy: bookwyrm::RetryPolicy) -> AsyncBookWyrmClient {
    AsyncBookWyrmClient::builder()
        .base_url(emu.base_url())
        .api_key(KEY)
        .header("x-bookwyrm-fault", fault)
        .retry_policy(policy)
        .build()
        .expect("client builds")
}

/// `client` with resuming off: a stream that breaks after its first event ends with the error
/// that broke it (for tests of those errors themselves).
pub fn no_resume(client: AsyncBookWyrmClient) -> AsyncBookWyrmClient {
    client.with_config(|c| c.resume = bookwyrm::ResumePolicy::none())
}

/// The story shipped with the repository.
pub fn story() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/country-of-the-blind.txt"
    ))
    .expect("the story is in data/")
}

/// The PDF shipped with the repository.
pub fn pdf() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/nasa-smallsat-excerpt.pdf"
    ))
    .expect("the PDF is in data/")
}

/// A recorded request as stable text for a snapshot: secrets, ports, boundaries and versions
/// redacted; JSON bodies pretty-printed.
pub fn describe(r: &RecordedRequest) -> String {
    let mut out = format!("{} {}\n", r.method, r.path);
    let content_type = r.header("content-type").unwrap_or("").to_string();
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .map(|b| b.trim_matches('"').to_string());
    let mut headers: Vec<(String, String)> = r.headers.clone();
    headers.sort();
    for (name, value) in headers {
        let value = match name.as_str() {
            "authorization" => {
                assert_eq!(
                    value,
                    format!("Bearer {KEY}"),
                    "the bearer header carries the key"
                );
                "Bearer <redacted>".to_string()
            }
            "host" => "<host>".to_string(),
            "user-agent" => {
                assert!(
                    value.starts_with("bookwyrm-rust/"),
                    "user agent names the Rust client: {value}"
                );
                "bookwyrm-rust/<version> (rust; <os>)".to_string()
            }
            "content-type" => match &boundary {
                Some(b) => value.replace(b.as_str(), "<boundary>"),
                None => value,
            },
            "content-length" => "<length>".to_string(),
            _ => value,
        };
        out.push_str(&format!("{name}: {value}\n"));
    }
    out.push('\n');
    let body = String::from_utf8_lossy(&r.body).into_owned();
    let body = match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap(),
        Err(_) => match &boundary {
            Some(b) => body.replace(b.as_str(), "<boundary>").replace("\r\n", "\n"),
            None => body,
        },
    };
    out.push_str(&body);
    out
}

/// For raw test servers: reads from `sock` until `seen` holds one whole request (a head and a
/// `Content-Length` body), removes it from `seen` and returns `true`; `false` when the peer
/// closed first.
pub async fn read_request(sock: &mut tokio::net::TcpStream, seen: &mut Vec<u8>) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(seen).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + len {
                seen.drain(..end + 4 + len);
                return true;
            }
        }
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// A small PDF written by hand: one page per entry of `pages`, each a line of that text (ASCII,
/// no parentheses or backslashes).
pub fn small_pdf(pages: &[&str]) -> Vec<u8> {
    let n = pages.len();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {n} >>",
            (0..n)
                .map(|i| format!("{} 0 R", 3 + 2 * i))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    ];
    for (i, text) in pages.iter().enumerate() {
        let content = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R >>",
            4 + 2 * i
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{o}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for off in offsets {
        out.push_str(&format!("{off:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}
