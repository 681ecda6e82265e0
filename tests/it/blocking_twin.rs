//! The blocking client is the async client's twin: every public method of
//! `AsyncBookWyrmClient` and of `EventStream` has a method of the same name on
//! `blocking::BookWyrmClient` and `BlockingStream`, or is listed below with the reason it has
//! none. Read from `src/` (comments aside), so a new async method without a twin fails here.

use std::collections::BTreeSet;
use std::path::Path;

/// Async client methods without a blocking method of the same name, and why.
const CLIENT_WITHOUT_TWIN: &[(&str, &str)] = &[(
    "builder",
    "`AsyncBookWyrmClient::builder().build_blocking()` builds the blocking client",
)];

/// Stream methods without a blocking method of the same name, and why.
const STREAM_WITHOUT_TWIN: &[(&str, &str)] = &[
    (
        "next",
        "`BlockingStream` is an `Iterator`: `Iterator::next`",
    ),
    (
        "from_byte_stream",
        "decodes an async byte stream; `BlockingStream` is made by the blocking client",
    ),
];

/// Every `.rs` file under `src/`, comments removed.
fn sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code: Vec<&str> = text
                    .lines()
                    .map(|l| l.split("//").next().unwrap_or(""))
                    .collect();
                out.push((path.display().to_string(), code.join("\n")));
            }
        }
    }
    out
}

/// The `pub fn` / `pub async fn` names directly inside the inherent `impl` blocks of `code`
/// whose header (the text between `impl` and `{`) satisfies `is_target`.
fn methods(code: &str, is_target: impl Fn(&str) -> bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("\nimpl") {
        rest = &rest[at + 1..];
        let Some(open) = rest.find('{') else { break };
        let header = &rest["impl".len()..open];
        let mut depth = 0usize;
        let mut end = rest.len();
        for (i, c) in rest.char_indices().skip(open) {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        if is_target(header) && !header.contains(" for ") {
            let body = &rest[open..end];
            for line in body.lines() {
                let line = line.trim_start();
                let name = line
                    .strip_prefix("pub fn ")
                    .or_else(|| line.strip_prefix("pub async fn "));
                if let Some(name) = name {
                    let name: String = name
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    out.insert(name);
                }
            }
        }
        rest = &rest[end..];
    }
    out
}

/// The methods the blocking stream's `accumulator!` invocations define (their second
/// argument).
fn accumulators(code: &str) -> BTreeSet<String> {
    code.split("\naccumulator!(")
        .skip(1)
        .filter_map(|call| call.split(',').nth(1))
        .map(|name| name.trim().to_string())
        .collect()
}

/// Names that `async_side` has and `blocking` lacks, less the listed exceptions; and the
/// exceptions that are stale (a twin exists, or the async method is gone).
fn missing(
    async_side: &BTreeSet<String>,
    blocking: &BTreeSet<String>,
    without: &[(&str, &str)],
) -> (Vec<String>, Vec<String>) {
    let listed: BTreeSet<&str> = without.iter().map(|(n, _)| *n).collect();
    let missing = async_side
        .iter()
        .filter(|n| !blocking.contains(*n) && !listed.contains(n.as_str()))
        .cloned()
        .collect();
    let stale = listed
        .iter()
        .filter(|n| blocking.contains(**n) || !async_side.contains(**n))
        .map(|n| n.to_string())
        .collect();
    (missing, stale)
}

#[test]
fn every_async_method_has_a_blocking_twin_or_a_reason() {
    let sources = sources();
    let (mut client, mut stream) = (BTreeSet::new(), BTreeSet::new());
    let (mut blocking_client, mut blocking_stream) = (BTreeSet::new(), BTreeSet::new());
    for (path, code) in &sources {
        if path.ends_with("blocking.rs") {
            blocking_client.extend(methods(code, |h| h.trim() == "BookWyrmClient"));
            blocking_stream.extend(methods(code, |h| h.contains("BlockingStream<")));
            blocking_stream.extend(accumulators(code));
            continue;
        }
        client.extend(methods(code, |h| h.trim() == "AsyncBookWyrmClient"));
        stream.extend(methods(code, |h| h.contains("EventStream<")));
    }
    // The reading found what is there (a scan that finds nothing would pass everything).
    for known in ["stream_citations", "summarize", "close_now", "with_header"] {
        assert!(client.contains(known), "{known} not found in {client:?}");
    }
    for known in ["canceller", "collect_phrases", "resumes", "skip_malformed"] {
        assert!(stream.contains(known), "{known} not found in {stream:?}");
    }
    let (c_missing, c_stale) = missing(&client, &blocking_client, CLIENT_WITHOUT_TWIN);
    let (s_missing, s_stale) = missing(&stream, &blocking_stream, STREAM_WITHOUT_TWIN);
    assert!(
        c_missing.is_empty() && s_missing.is_empty(),
        "async methods without a blocking twin (add one, or list it with a reason): \
         client {c_missing:?}, stream {s_missing:?}"
    );
    assert!(
        c_stale.is_empty() && s_stale.is_empty(),
        "listed without a twin, but they have one or are gone: {c_stale:?} {s_stale:?}"
    );
}
