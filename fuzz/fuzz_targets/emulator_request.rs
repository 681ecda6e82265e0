//! The emulator's request parsing: any body, to any operation, as JSON or as a multipart
//! upload, is answered (a 4xx for what it cannot take), never a panic (libFuzzer aborts on one,
//! in any thread) and never a 5xx.
#![no_main]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 9] = [
    "/cite",
    "/cite/sse",
    "/summarize",
    "/summarize/sse",
    "/phrasal/sse",
    "/classify",
    "/classify/sse",
    "/extract-structure/sse",
    "/extract-structure-json/sse",
];

/// One emulator for the whole run, on a runtime of its own.
fn emulator() -> SocketAddr {
    static EMU: OnceLock<(tokio::runtime::Runtime, SocketAddr)> = OnceLock::new();
    EMU.get_or_init(|| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let emu = rt
            .block_on(
                bookwyrm_emulator::Emulator::builder()
                    .keepalive(Duration::from_secs(60))
                    .start(),
            )
            .unwrap();
        let addr = emu.addr();
        std::mem::forget(emu); // serves until the process ends
        (rt, addr)
    })
    .1
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else {
        return;
    };
    let path = PATHS[control as usize % PATHS.len()];
    let (content_type, body) = if control & 0x80 != 0 {
        let mut part =
            b"--fz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n"
                .to_vec();
        part.extend_from_slice(body);
        part.extend_from_slice(b"\r\n--fz--\r\n");
        ("multipart/form-data; boundary=fz", part)
    } else {
        ("application/json", body.to_vec())
    };
    let mut conn = TcpStream::connect(emulator()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: fuzz\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(&body).unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).unwrap();
    let status = answer
        .get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .unwrap_or("???");
    assert!(
        !status.starts_with('5'),
        "{path}: status {status}: {}",
        String::from_utf8_lossy(&answer[..answer.len().min(400)])
    );
});
