//! The `bookwyrm` command against the emulator: every command and option group, and every
//! error path, with exit codes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;

const KEY: &str = "sk-cli-7a7a7a";

struct Env {
    emu: bookwyrm_emulator::Emulator,
    dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

fn env() -> Env {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt
        .block_on(
            bookwyrm_emulator::Emulator::builder()
                .api_key(KEY)
                .allow_faults(true)
                .start(),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        data("country-of-the-blind.txt"),
        dir.path().join("story.txt"),
    )
    .unwrap();
    std::fs::copy(
        data("nasa-smallsat-excerpt.pdf"),
        dir.path().join("report.pdf"),
    )
    .unwrap();
    Env { emu, dir, _rt: rt }
}

impl Env {
    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("bookwyrm").unwrap();
        c.env("BOOKWYRM_API_URL", self.emu.base_url())
            .env("BOOKWYRM_API_KEY", KEY)
            .env_remove("BOOKWYRM_LOG")
            .current_dir(self.dir.path());
        c
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, content: &str) {
        std::fs::write(self.path(name), content).unwrap();
    }

    /// `phrases.jsonl`: the `text_span` lines of a `--json phrasal` output, as cite chunks.
    fn write_phrases(&self, phrasal_json: &str) {
        let chunks: String = phrasal_json
            .lines()
            .filter(|l| l.contains("\"text_span\""))
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let chunk = serde_json::json!({"text": v["text"], "start_char": v["start_char"], "end_char": v["end_char"]});
                format!("{chunk}\n")
            })
            .collect();
        self.write("phrases.jsonl", &chunks);
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn phrasal_summarize_cite_pipeline_on_the_story() {
    let e = env();
    let out = e
        .cmd()
        .args([
            "phrasal",
            "-f",
            "story.txt",
            "--chunk-size",
            "1000",
            "-o",
            "phrases.jsonl",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let story: Vec<char> = e.read("story.txt").chars().collect();
    let lines: Vec<serde_json::Value> = e
        .read("phrases.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 40);
    for l in &lines {
        let (s, t) = (
            l["start_char"].as_u64().unwrap() as usize,
            l["end_char"].as_u64().unwrap() as usize,
        );
        assert!(t - s <= 1000);
        assert_eq!(
            story[s..t].iter().collect::<String>(),
            l["text"].as_str().unwrap()
        );
        assert_eq!(l["type"], "text_span");
    }
    assert!(stdout(&out).ends_with(&format!("{} results\n", lines.len())));

    let out = e
        .cmd()
        .args([
            "summarize",
            "phrases.jsonl",
            "--max-tokens",
            "4000",
            "-o",
            "summary.json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&e.read("summary.json")).unwrap();
    assert!(doc["summary"].as_str().unwrap().len() > 200);
    assert!(doc["levels_used"].as_i64().unwrap() >= 2);
    assert_eq!(stdout(&out).trim(), doc["summary"].as_str().unwrap());

    let out = e
        .cmd()
        .args([
            "cite",
            "phrases.jsonl",
            "-q",
            "Where does the protagonist experience life threatening situations?",
            "-o",
            "citations.jsonl",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let citations: Vec<serde_json::Value> = e
        .read("citations.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!citations.is_empty());
    assert!(stdout(&out).contains(&format!(
        "{} citations in {} chunks",
        citations.len(),
        lines.len()
    )));
    for c in &citations {
        let i = c["start_chunk"].as_u64().unwrap() as usize;
        assert_eq!(c["text"], lines[i]["text"]);
    }
}

#[test]
fn human_output_of_each_command() {
    let e = env();
    e.write("chunks.jsonl", "{\"text\":\"Nunez fell from the mountain into the valley.\"}\n{\"text\":\"The blind men did not believe in sight.\"}\n{\"text\":\"Snow covered the pass.\"}\n");
    e.write(
        "data.json",
        "{\"name\": \"valley\", \"people\": [\"Nunez\", \"Medina-saroté\"]}",
    );
    let run = |args: &[&str]| {
        let out = e.cmd().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    insta::assert_snapshot!(
        "phrasal_human",
        run(&[
            "phrasal",
            "One sentence here. Café in the valley! And a third?"
        ])
    );
    insta::assert_snapshot!(
        "phrasal_chunks_human",
        run(&["phrasal", "One. Two. Three. Four.", "--chunk-size", "10"])
    );
    insta::assert_snapshot!(
        "cite_human",
        run(&[
            "cite",
            "chunks.jsonl",
            "-q",
            "Who fell from the mountain?",
            "-q",
            "What covered the pass?"
        ])
    );
    insta::assert_snapshot!(
        "summarize_human",
        run(&["summarize", "chunks.jsonl", "--include-debug"])
    );
    insta::assert_snapshot!("classify_human", run(&["classify", "data.json"]));
    insta::assert_snapshot!(
        "extract_pdf_human",
        run(&[
            "extract-pdf",
            "report.pdf",
            "--num-pages",
            "2",
            "-o",
            "pages.json"
        ])
    );
    insta::assert_snapshot!("pdf_to_text_human", run(&["pdf-to-text", "pages.json"]));
    insta::assert_snapshot!(
        "pdf_query_range_human",
        run(&["pdf-query-range", "pages_mapping.json", "10", "60"])
    );
}

#[test]
fn json_output_is_one_object_per_event() {
    let e = env();
    let out = e
        .cmd()
        .args(["--json", "phrasal", "Alpha. Beta."])
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!("phrasal_json", stdout(&out));
    let out = e
        .cmd()
        .args(["classify", "--json", "story.txt"])
        .output()
        .unwrap();
    let types: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(types.last().map(String::as_str), Some("classification"));
    assert!(types
        .iter()
        .all(|t| t == "progress" || t == "classification"));
    // pdf-query-range --json is one document.
    e.cmd()
        .args([
            "extract-pdf",
            "report.pdf",
            "--num-pages",
            "1",
            "-o",
            "p.json",
        ])
        .assert()
        .success();
    e.cmd().args(["pdf-to-text", "p.json"]).assert().success();
    let out = e
        .cmd()
        .args(["--json", "pdf-query-range", "p_mapping.json", "0", "5"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["query"]["character_count"], 5);
    assert_eq!(doc["results"]["pages"], serde_json::json!([1]));
}

#[test]
fn output_files_truncate_unless_append() {
    let e = env();
    e.write("out.jsonl", "old content that must go\n");
    e.cmd()
        .args(["phrasal", "One. Two.", "-o", "out.jsonl"])
        .assert()
        .success();
    assert_eq!(e.read("out.jsonl").lines().count(), 2);
    e.cmd()
        .args(["phrasal", "Three. Four.", "-o", "out.jsonl", "--append"])
        .assert()
        .success();
    let lines: Vec<String> = e.read("out.jsonl").lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[3].contains("Four."));
}

#[test]
fn stdin_inputs_and_completions() {
    let e = env();
    let out = e
        .cmd()
        .args(["--json", "phrasal", "-"])
        .write_stdin("From stdin. Twice.")
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out)
            .lines()
            .filter(|l| l.contains("text_span"))
            .count(),
        2
    );
    let out = e
        .cmd()
        .args(["--json", "classify", "-"])
        .write_stdin("a,b\n1,2\n3,4\n")
        .output()
        .unwrap();
    assert!(stdout(&out).contains("text/csv"));
    let out = e.cmd().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("_bookwyrm()"));
}

#[test]
fn the_key_is_never_printed() {
    let e = env();
    let out = e
        .cmd()
        .env("BOOKWYRM_API_KEY", "sk-super-secret")
        .args(["--help"])
        .output()
        .unwrap();
    assert!(!stdout(&out).contains("sk-super-secret"));
    let out = e
        .cmd()
        .env("BOOKWYRM_API_KEY", "sk-super-secret")
        .args(["cite", "--help"])
        .output()
        .unwrap();
    assert!(!stdout(&out).contains("sk-super-secret"));
    let out = e.cmd().args(["-vv", "phrasal", "One."]).output().unwrap();
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("sending"),
        "debug logs on stderr: {}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains(KEY) && !stdout(&out).contains(KEY));
}

fn fails(e: &Env, args: &[&str], code: i32, needle: &str) -> String {
    let out = e.cmd().args(args).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: `{needle}` not in: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    assert!(
        err.lines().filter(|l| l.starts_with("error:")).count() == 1,
        "one error line: {err}"
    );
    err
}

#[test]
fn error_paths_and_exit_codes() {
    let e = env();
    // Authentication: missing and rejected.
    let out = e
        .cmd()
        .env_remove("BOOKWYRM_API_KEY")
        .args(["phrasal", "One."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("error: no API key"));
    for cmd in [
        vec!["summarize", "story.txt"],
        vec!["classify", "story.txt"],
        vec!["extract-pdf", "report.pdf"],
    ] {
        let out = e
            .cmd()
            .env_remove("BOOKWYRM_API_KEY")
            .args(&cmd)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(4),
            "every command checks the key: {cmd:?}"
        );
    }
    fails(
        &e,
        &["--api-key", "sk-wrong", "phrasal", "One."],
        4,
        "status 401",
    );
    // Server error (after the client's retries).
    fails(
        &e,
        &[
            "--header",
            "x-bookwyrm-fault: status=500",
            "summarize",
            "story.txt",
        ],
        1,
        "status 500",
    );
    // Nothing listening: the message carries the cause (the OS's words), then the hint.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = fails(
        &e,
        &["--base-url", &closed, "phrasal", "One."],
        1,
        "could not connect",
    );
    let first = err.lines().find(|l| l.starts_with("error:")).unwrap();
    assert!(
        first.to_lowercase().contains("refused"),
        "the cause is printed: {err}"
    );
    assert!(err.contains("hint: is the server reachable?"), "{err}");
    // An error event: a corrupt PDF.
    e.write("corrupt.pdf", "%PDF-1.7\nnot really\n%%EOF");
    fails(&e, &["extract-pdf", "corrupt.pdf"], 1, "invalid_pdf");
    // Malformed and missing input files.
    e.write("bad.jsonl", "{\"text\":\"ok\"}\nnot json\n");
    fails(
        &e,
        &["cite", "bad.jsonl", "-q", "Why?"],
        1,
        "bad.jsonl: line 2:",
    );
    fails(
        &e,
        &["phrasal", "-f", "missing.txt"],
        1,
        "cannot read missing.txt",
    );
    e.write("pages.json", "{\"not_pages\": []}");
    fails(&e, &["pdf-to-text", "pages.json"], 1, "no \"pages\"");
    // Usage errors: conflicting inputs, missing inputs, bad ranges, bad values.
    fails(
        &e,
        &["phrasal", "text", "--url", "http://x/y.txt"],
        2,
        "only one input may be given, but 2 were: TEXT `text` and --url `http://x/y.txt`",
    );
    fails(&e, &["cite", "story.txt"], 2, "--question");
    fails(
        &e,
        &["phrasal", "One.", "--chunk-size", "0"],
        2,
        "'--chunk-size <CHUNK_SIZE>': 0 is not in 1..",
    );
    fails(
        &e,
        &["summarize", "story.txt", "--max-tokens", "200000"],
        2,
        "'--max-tokens <MAX_TOKENS>': 200000 is not in 1..=131072",
    );
    fails(
        &e,
        &["--timeout=-3", "phrasal", "x"],
        2,
        "not a positive number",
    );
    // Timeouts are honoured for every command.
    fails(
        &e,
        &[
            "--timeout",
            "0.3",
            "--header",
            "x-bookwyrm-fault: delay-ms=5000",
            "summarize",
            "story.txt",
        ],
        1,
        "the server sent nothing for too long",
    );
    fails(
        &e,
        &[
            "--no-resume",
            "--timeout",
            "0.3",
            "--header",
            "x-bookwyrm-fault: stall-after=1",
            "phrasal",
            "One. Two. Three.",
        ],
        1,
        "sent nothing for too long",
    );
    // An interrupted stream, not resumed.
    fails(
        &e,
        &[
            "--no-resume",
            "--header",
            "x-bookwyrm-fault: reset-after=1",
            "phrasal",
            "One. Two. Three.",
        ],
        1,
        "the connection broke",
    );
    // Malformed events are reported and fail the command, the rest still arrives.
    let err = fails(
        &e,
        &[
            "--header",
            "x-bookwyrm-fault: malformed-json",
            "phrasal",
            "One. Two.",
        ],
        1,
        "could not decode",
    );
    assert!(err.contains("warning:"));
}

#[test]
fn verbose_pdf_extraction_works() {
    // The reference CLI crashed on the first page with --verbose.
    let e = env();
    let out = e
        .cmd()
        .args([
            "-v",
            "extract-pdf",
            "report.pdf",
            "--num-pages",
            "2",
            "--layout",
            "-o",
            "v.json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("Document has 8 pages; extracting 2 from page 1"));
    let doc: serde_json::Value = serde_json::from_str(&e.read("v.json")).unwrap();
    assert_eq!(doc["total_pages"], 2);
    let sent = e.emu.stats().requests();
    assert_eq!(sent, 1);
}

#[test]
fn pdf_query_range_looks_up_by_character() {
    let e = env();
    e.cmd()
        .args([
            "extract-pdf",
            "report.pdf",
            "--start-page",
            "2",
            "--num-pages",
            "2",
            "-o",
            "x.json",
        ])
        .assert()
        .success();
    e.cmd()
        .args([
            "pdf-to-text",
            "x.json",
            "-o",
            "x.txt",
            "--mapping",
            "x.map.json",
        ])
        .assert()
        .success();
    let raw: Vec<char> = e.read("x.txt").chars().collect();
    let mapping: serde_json::Value = serde_json::from_str(&e.read("x.map.json")).unwrap();
    let entries = mapping["character_mappings"].as_array().unwrap();
    assert_eq!(entries.len(), raw.len(), "exactly one entry per character");
    for (i, m) in entries.iter().enumerate() {
        assert_eq!(m["char_index"].as_u64().unwrap() as usize, i);
    }
    let out = e
        .cmd()
        .args(["--json", "pdf-query-range", "x.map.json", "100", "150"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        doc["results"]["sample_text"].as_str().unwrap(),
        raw[100..150].iter().collect::<String>()
    );
    fails(
        &e,
        &["pdf-query-range", "x.map.json", "50", "50"],
        2,
        "end_char must be > start_char",
    );
    let beyond = raw.len().to_string();
    fails(
        &e,
        &["pdf-query-range", "x.map.json", &beyond, "999999"],
        2,
        "beyond text length",
    );
    let out = e
        .cmd()
        .args(["pdf-query-range", "x.map.json", "10", "99999999"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(stderr(&out).contains("beyond the text"));
}

/// Runs `bookwyrm [args] phrasal One.` over `spans` synthetic spans, reads one line of stdout
/// and closes it, like `| head -1`.
fn close_stdout_after_one_line(e: &Env, spans: usize, args: &[&str]) -> std::process::Output {
    let fault = format!("x-bookwyrm-fault: synthetic-events={spans}");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("bookwyrm"))
        .args(["--header", &fault])
        .args(args)
        .args(["phrasal", "One."])
        .env("BOOKWYRM_API_URL", e.emu.base_url())
        .env("BOOKWYRM_API_KEY", KEY)
        .env_remove("BOOKWYRM_LOG")
        .current_dir(e.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert!(!first.is_empty(), "a first line arrived");
    drop(reader);
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_pipe_exits_quietly() {
    let e = env();
    // JSON Lines are written as events arrive: the closed pipe ends the command while the
    // stream is still running, and the server sees the stream cancelled. 200,000 spans are
    // several MB, more than the pipe and both sockets hold, so the stream cannot have ended
    // before the pipe closed.
    let out = close_stdout_after_one_line(&e, 200_000, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "nothing said about the closed pipe");
    let started = std::time::Instant::now();
    while e.emu.stats().streams_cancelled() == 0
        && started.elapsed() < std::time::Duration::from_secs(10)
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(e.emu.stats().streams_cancelled(), 1);
    assert_eq!(e.emu.stats().streams_completed(), 0);
    // The table is written once its columns are known (after the stream); its 20,000 rows
    // (about 20 times what a pipe holds: 64 KiB) then meet the closed pipe the same way.
    let out = close_stdout_after_one_line(&e, 20_000, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "nothing said about the closed pipe");
    assert_eq!(e.emu.stats().streams_completed(), 1);
}

#[cfg(unix)]
#[test]
fn ctrl_c_exits_130() {
    let e = env();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("bookwyrm"))
        .args([
            "--header",
            "x-bookwyrm-fault: stall-after=1",
            "phrasal",
            "One. Two. Three.",
        ])
        .env("BOOKWYRM_API_URL", e.emu.base_url())
        .env("BOOKWYRM_API_KEY", KEY)
        .current_dir(e.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the stream is open (the emulator has seen the request), then interrupt.
    let started = std::time::Instant::now();
    while e.emu.stats().streams_started() == 0
        && started.elapsed() < std::time::Duration::from_secs(20)
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("error: interrupted"));
}

/// Output is buffered while events arrive back to back, but every line is out before the
/// program waits on the network: with the stream stalled after 2 events, both lines reach the
/// pipe while the command is still running.
#[test]
fn lines_reach_a_pipe_before_the_program_waits() {
    let e = env();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("bookwyrm"))
        .args([
            "--header",
            "x-bookwyrm-fault: stall-after=2",
            "--json",
            "phrasal",
            "--chunk-size",
            "5",
            "One. Two. Three. Four.",
        ])
        .env("BOOKWYRM_API_URL", e.emu.base_url())
        .env("BOOKWYRM_API_KEY", KEY)
        .current_dir(e.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        for _ in 0..2 {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    for _ in 0..2 {
        match rx.recv_timeout(std::time::Duration::from_secs(20)) {
            Ok(line) => lines.push(line),
            Err(_) => break,
        }
    }
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(lines.len(), 2, "got {lines:?}");
    assert!(
        lines.iter().all(|l| l.contains("\"type\":\"text_span\"")),
        "{lines:?}"
    );
    assert!(
        still_running,
        "the stream was stalled: the command must still be waiting"
    );
}

/// The check never drops a keyword silently: an `enum` beside the `$ref` of a request field
/// (3.1) restricts what the server takes, so it is a change, not "identical"; a keyword the
/// model does not hold (`multipleOf`) is named as not checked, and "identical" is not said.
#[test]
fn contract_check_never_drops_a_keyword_silently() {
    let e = env();
    let published = bookwyrm_contract::as_published();
    // The first field of a request body that is a `$ref`.
    let (schema, field) = published["components"]["schemas"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| name.ends_with("Request"))
        .find_map(|(name, s)| {
            let props = s["properties"].as_object()?;
            let (field, _) = props.iter().find(|(_, p)| p.get("$ref").is_some())?;
            Some((name.clone(), field.clone()))
        })
        .expect("a field that is a $ref");
    let mut restricted = published.clone();
    restricted["components"]["schemas"][&schema]["properties"][&field]["enum"] =
        serde_json::json!(["a", "b"]);
    std::fs::write(e.dir.path().join("enum.json"), restricted.to_string()).unwrap();
    let out = e
        .cmd()
        .args(["contract", "check", "enum.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "breaking: {}", stdout(&out));
    assert!(!stdout(&out).contains("identical"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(&field),
        "the change names the field: {}",
        stdout(&out)
    );
    // A keyword outside the model: said, and not identical.
    let mut multiple = published.clone();
    multiple["components"]["schemas"][&schema]["properties"][&field]["multipleOf"] =
        serde_json::json!(2);
    std::fs::write(e.dir.path().join("multiple.json"), multiple.to_string()).unwrap();
    let out = e
        .cmd()
        .args(["contract", "check", "multiple.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let at = format!("/components/schemas/{schema}/properties/{field}/multipleOf");
    assert!(
        stdout(&out).contains(&format!("not checked: {at}")),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("identical"), "{}", stdout(&out));
    // A property *named* like a keyword is not one.
    let mut named = published.clone();
    named["components"]["schemas"][&schema]["properties"]["not"] =
        serde_json::json!({"type": "string"});
    let c = bookwyrm_contract::Contract::from_value(&named).unwrap();
    assert!(c.unchecked.is_empty(), "{:?}", c.unchecked);
    assert!(bookwyrm_contract::Contract::embedded().unchecked.is_empty());
}

#[test]
fn contract_check_reports_changes_with_exit_codes() {
    let e = env();
    // The emulator publishes the contract this SDK was built from: nothing changes.
    let out = e.cmd().args(["contract", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let p = bookwyrm_contract::Provenance::of_sdk();
    let identical = format!(
        "identical to the contract of this SDK (fingerprint {}, version {}, 9 operations)",
        p.fingerprint, p.version
    );
    assert!(stdout(&out).contains(&identical), "{}", stdout(&out));
    // Our own YAML contract, read as a file.
    let yaml = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/bookwyrm.yaml");
    let out = e
        .cmd()
        .args(["contract", "check"])
        .arg(&yaml)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A server without /cite and with a new operation: one breaking, one additive.
    let mut doc = bookwyrm_contract::as_published();
    let paths = doc["paths"].as_object_mut().unwrap();
    paths.remove("/cite");
    paths.insert(
        "/translate".into(),
        serde_json::json!({"post": {"responses": {}}}),
    );
    e.write("theirs.json", &doc.to_string());
    let out = e
        .cmd()
        .args(["contract", "check", "theirs.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("breaking  /paths/~1cite/post"), "{text}");
    assert!(text.contains("additive  /paths/~1translate/post"), "{text}");
    assert!(text.contains("1 breaking, 0 warning, 1 additive"), "{text}");
    let out = e
        .cmd()
        .args(["--json", "contract", "check", "theirs.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["breaking"], 1);
    assert_eq!(report["verdict"], "breaking");
    assert_eq!(report["changes"][0]["kind"], "breaking");
    // Accepted with a reason: exit 0, the change listed as ignored; a stale entry is a warning.
    e.write(
        "ignore.yaml",
        "- pointer: /paths/~1cite/post\n  reason: we moved to /cite/sse\n- pointer: /paths/~1gone\n  reason: an old entry\n",
    );
    let out = e
        .cmd()
        .args([
            "--json",
            "contract",
            "check",
            "theirs.json",
            "--ignore",
            "ignore.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ignored"][0]["reason"], "we moved to /cite/sse");
    assert_eq!(report["stale_ignores"][0]["pointer"], "/paths/~1gone");
    assert_eq!(report["counts"]["warning"], 1);
    let out = e
        .cmd()
        .args([
            "contract",
            "check",
            "theirs.json",
            "--ignore",
            "ignore.yaml",
            "--fail-on",
            "warning",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("this --ignore entry matches nothing"));
    e.write(
        "no-reason.yaml",
        "- pointer: /paths/~1cite/post\n  reason: ''\n",
    );
    let out = e
        .cmd()
        .args([
            "contract",
            "check",
            "theirs.json",
            "--ignore",
            "no-reason.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("has no reason"));
    // Documents that cannot be compared: exit 2, saying why.
    e.write("swagger.json", r#"{"swagger": "2.0", "paths": {}}"#);
    e.write("garbage.txt", "{{{ not [ json");
    for (file, needle) in [
        ("swagger.json", "Swagger 2.0"),
        ("garbage.txt", "neither JSON"),
    ] {
        let out = e.cmd().args(["contract", "check", file]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
    }
    // No server there: a clear failure.
    let out = e
        .cmd()
        .args(["--base-url", "http://127.0.0.1:9", "contract", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot fetch http://127.0.0.1:9/openapi.json"));
}

/// A FastAPI app built from the reference client's pydantic models
/// (`tests/fixtures/fastapi/app.py`, its `openapi.json` as FastAPI wrote it): nothing breaks,
/// the streams' events are said to be unchecked, and the report's JSON shape is stable.
#[test]
fn contract_check_against_a_faithful_fastapi_server() {
    let e = env();
    let doc =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fastapi/openapi.json");
    std::fs::copy(&doc, e.dir.path().join("fastapi.json")).unwrap();
    let out = e
        .cmd()
        .args(["--json", "contract", "check", "fastapi.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["breaking"], 0);
    assert_eq!(report["unchecked_events"].as_array().unwrap().len(), 6);
    insta::assert_json_snapshot!("contract_check_fastapi", report);
    // Its warnings (loosened limits, defaults) fail a stricter check.
    let out = e
        .cmd()
        .args(["contract", "check", "fastapi.json", "--fail-on", "warning"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// The reference CLI's habits: stdin when no input is named, numbers (negative ones too) read
/// as values and checked against their range, optional settings shown as optional, local
/// problems before credentials, and conflicting inputs named.
#[test]
fn the_reference_cli_conventions() {
    let e = env();
    // Standard input when nothing is named (and it is not a terminal).
    let out = e
        .cmd()
        .arg("classify")
        .write_stdin("Hello, plain world.\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("text/plain"), "{}", stdout(&out));
    let out = e
        .cmd()
        .args(["--json", "phrasal"])
        .write_stdin("One. Two.")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("\"text\":\"One.\""),
        "{}",
        stdout(&out)
    );
    for cmd in ["classify", "phrasal", "summarize", "extract-pdf"] {
        let out = e.cmd().arg(cmd).write_stdin("").output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        assert!(
            stderr(&out).contains("no content on standard input"),
            "{cmd}: {}",
            stderr(&out)
        );
    }
    // Negative numbers are values, rejected with the option and its range.
    for (args, needle) in [
        (
            vec!["phrasal", "--chunk-size", "-1", "text"],
            "'--chunk-size <CHUNK_SIZE>': -1 is not in 1..",
        ),
        (
            vec!["summarize", "--max-tokens", "-3", "story.txt"],
            "-3 is not in 1..=131072",
        ),
        (
            vec!["cite", "-q", "Who?", "--limit", "-2", "x.jsonl"],
            "'--limit <LIMIT>': -2 is not in 1..",
        ),
        (
            vec!["extract-pdf", "--start-page", "-1", "report.pdf"],
            "'--start-page <START_PAGE>': -1 is not in 1..",
        ),
    ] {
        fails(&e, &args, 2, needle);
    }
    // The usage line shows the settings that come from the environment as optional (inside
    // [OPTIONS]), not as required arguments.
    let out = e.cmd().args(["phrasal", "--bogus"]).output().unwrap();
    let err = stderr(&out);
    let usage = err
        .lines()
        .find(|l| l.starts_with("Usage: "))
        .unwrap_or_else(|| panic!("a usage line: {err}"));
    assert_eq!(usage, "Usage: bookwyrm phrasal [OPTIONS] [TEXT]", "{err}");
    // A conflict of inputs is ours, not clap's: one error line, no usage.
    let out = e
        .cmd()
        .args(["phrasal", "a", "--file", "b"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(err.contains("only one input may be given"), "{err}");
    assert!(!err.contains("Usage:"), "{err}");
    // Local problems before credentials.
    for (args, needle) in [
        (
            vec!["phrasal", "--file", "missing.txt"],
            "cannot read missing.txt",
        ),
        (vec!["classify", "missing.bin"], "cannot read missing.bin"),
        (
            vec!["cite", "--questions-file", "empty.txt", "x.jsonl"],
            "the questions file has no questions",
        ),
    ] {
        e.write("empty.txt", "\n\n");
        let out = e
            .cmd()
            .env_remove("BOOKWYRM_API_KEY")
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    // Conflicting inputs are named.
    fails(
        &e,
        &["classify", "story.txt", "--file", "report.pdf"],
        2,
        "only one input may be given, but 2 were: a file `story.txt` and --file `report.pdf`",
    );
}

/// A server that fails at the same point every time, or ignores what a resume asks for: the
/// command ends with one typed error, within the budget, and no line of its output twice.
#[test]
fn failing_servers_end_the_command_with_nothing_repeated() {
    let e = env();
    let run = |fault: &str, args: &[&str], needle: &str| {
        let before = e.emu.stats().requests();
        let out = e
            .cmd()
            .args(["--header", &format!("x-bookwyrm-fault: {fault}")])
            .args(args)
            .output()
            .unwrap();
        let (code, out, err) = (out.status.code(), stdout(&out), stderr(&out));
        assert_eq!(code, Some(1), "{fault}: {err}");
        assert!(err.contains(needle), "{fault}: `{needle}` not in: {err}");
        let errors = err.lines().filter(|l| l.starts_with("error:")).count();
        assert!(errors == 1 && !err.contains("panicked"), "{err}");
        let lines: Vec<&str> = out.lines().filter(|l| !l.contains("progress")).collect();
        let unique: std::collections::BTreeSet<_> = lines.iter().collect();
        assert_eq!(unique.len(), lines.len(), "{fault}: a line twice: {out}");
        // The first request and at most 10 more.
        let requests = e.emu.stats().requests() - before;
        assert!(requests <= 11, "{fault}: {requests} requests: {err}");
        lines.len()
    };
    // phrasal, cut after two spans every time: the budget of 10 resumes, 22 spans, once each.
    // (A PDF cut after its metadata every time, no progress, is in tests/resume.rs: here its
    // five growing backoffs would take 15 s.)
    let phrasal = ["--json", "phrasal", "-f", "story.txt"];
    let spans = run(
        "truncate-after=2",
        &phrasal,
        "budget of retries and resumes is spent",
    );
    assert_eq!(spans, 22);
    // cite, answered with the first answer whatever the resume asks for: diverged.
    let uncut = stdout(&e.cmd().args(phrasal).output().unwrap());
    e.write_phrases(&uncut);
    let cite = [
        "--json",
        "cite",
        "phrases.jsonl",
        "-q",
        "What did Nunez see in the valley?",
    ];
    run(
        "replay-first;truncate-after=3",
        &cite,
        "not what was asked for",
    );
}

/// A stream cut part-way goes on where it stopped: the same pages and phrases as an uncut
/// run, the citations delivered before the cut and every later one once (the rest is scored
/// against the remaining chunks), one `-v` note per resume; with `--no-resume` the cut is the
/// error.
#[test]
fn cut_streams_resume_and_say_so() {
    let e = env();
    let run = |fault: Option<&str>, args: &[&str]| {
        let mut cmd = e.cmd();
        if let Some(f) = fault {
            cmd.args(["-v", "--header", &format!("x-bookwyrm-fault: {f}")]);
        }
        let out = cmd.args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let resumes = stderr(&out).matches("resuming the stream").count();
        (stdout(&out), resumes)
    };
    // extract-pdf: the pages file equals the uncut one (the timing aside).
    let pages = |name: &str| {
        let mut doc: serde_json::Value = serde_json::from_str(&e.read(name)).unwrap();
        doc.as_object_mut().unwrap().remove("processing_time");
        doc
    };
    let pdf = |out: &'static str| ["extract-pdf", "report.pdf", "--num-pages", "3", "-o", out];
    run(None, &pdf("uncut.json"));
    let (_, resumes) = run(Some("truncate-after=3;times=1"), &pdf("cut.json"));
    assert_eq!(resumes, 1);
    assert_eq!(pages("cut.json"), pages("uncut.json"));
    assert_eq!(pages("uncut.json")["pages"].as_array().unwrap().len(), 3);
    // phrasal: the same spans.
    let spans = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.contains("\"text_span\""))
            .map(str::to_string)
            .collect()
    };
    let phrasal = ["--json", "phrasal", "-f", "story.txt"];
    let (uncut, _) = run(None, &phrasal);
    let (cut, resumes) = run(Some("truncate-after=40;times=1"), &phrasal);
    assert_eq!(resumes, 1);
    assert!(spans(&uncut).len() > 400);
    assert_eq!(spans(&cut), spans(&uncut));
    e.write_phrases(&uncut);
    // cite: every citation once, the summary counting all chunks.
    let cite = [
        "--json",
        "cite",
        "phrases.jsonl",
        "-q",
        "What did Nunez see in the valley?",
    ];
    let (uncut, _) = run(None, &cite);
    let lines = |out: &str, kind: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.contains(kind))
            .map(str::to_string)
            .collect()
    };
    // Cut one event after the uncut run's second citation (each event is one line).
    let second = uncut
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("\"citation\""))
        .nth(1)
        .map(|(i, _)| i + 1)
        .expect("two citations");
    let (cut, resumes) = run(
        Some(&format!("truncate-after={};times=1", second + 1)),
        &cite,
    );
    assert_eq!(resumes, 1);
    // The citations delivered before the cut are the uncut run's; the rest (scored by the
    // server against the remaining chunks only, so their scores may differ) come after them,
    // each once.
    let (citations, all) = (lines(&cut, "\"citation\""), lines(&uncut, "\"citation\""));
    assert_eq!(citations[..2], all[..2]);
    let chunk = |l: &String| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        v["citation"]["start_chunk"].as_u64().unwrap()
    };
    let starts: Vec<u64> = citations.iter().map(chunk).collect();
    assert!(
        starts.windows(2).all(|w| w[0] < w[1]),
        "in order, once each: {starts:?}"
    );
    assert!(citations.len() > 2, "citations after the resume: {cut}");
    // One summary, counting every chunk and citation of both requests.
    let summary = |out: &str| -> serde_json::Value {
        let summaries = lines(out, "\"summary\"");
        assert_eq!(summaries.len(), 1, "{out}");
        serde_json::from_str(&summaries[0]).unwrap()
    };
    let (cut_summary, uncut_summary) = (summary(&cut), summary(&uncut));
    let chunks = e.read("phrases.jsonl").lines().count() as u64;
    assert_eq!(cut_summary["chunks_processed"], chunks);
    assert_eq!(cut_summary["total_citations"], citations.len() as u64);
    assert_eq!(cut_summary["start_offset"], uncut_summary["start_offset"]);
    // --no-resume: the cut is the error.
    fails(
        &e,
        &[
            "--no-resume",
            "--header",
            "x-bookwyrm-fault: truncate-after=3",
            "extract-pdf",
            "report.pdf",
            "--num-pages",
            "3",
        ],
        1,
        "ended in the middle of an event",
    );
}

/// `contract update`: from a server that publishes our contract (the emulator's
/// `/openapi.json`, OpenAPI 3.1) the contract file keeps every byte; bad input is a clear
/// error with exit 2, and the contract is left as it was.
#[test]
fn contract_update_round_trips_and_refuses_bad_input() {
    let e = env();
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/bookwyrm.yaml");
    let original = std::fs::read_to_string(&ours).unwrap();
    e.write("bookwyrm.yaml", &original);
    let out = e
        .cmd()
        .args(["contract", "update", "--write", "bookwyrm.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(e.path("bookwyrm.yaml")).unwrap(),
        original,
        "byte-identical"
    );
    assert!(
        stderr(&out).contains("unchanged: 9 operation(s)"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("unchanged: "), "{}", stderr(&out));

    let update = |file: &str| {
        e.cmd()
            .args(["contract", "update", file, "--write", "bookwyrm.yaml"])
            .output()
            .unwrap()
    };
    let untouched = || {
        assert_eq!(
            std::fs::read_to_string(e.path("bookwyrm.yaml")).unwrap(),
            original
        )
    };

    // A part with no OpenAPI 3.0 form, where the update would take it: exit 2, named.
    let mut doc = bookwyrm_contract::as_published();
    doc["components"]["schemas"]["TextSpan"]["properties"]["tag"] =
        serde_json::json!({"type": ["string", "integer"]});
    e.write("theirs.json", &doc.to_string());
    let out = update("theirs.json");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "/components/schemas/TextSpan/properties/tag/type: a `type` list of string, integer non-null types"
        ),
        "{}",
        stderr(&out)
    );
    untouched();

    // A document of another API.
    e.write(
        "other.json",
        r#"{"openapi": "3.1.0", "paths": {"/pets": {"get": {"responses": {"200": {"description": "ok"}}}}}}"#,
    );
    let out = update("other.json");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not this API: none of its 1 operation(s) (GET /pets)"),
        "{}",
        stderr(&out)
    );
    // Unreadable, Swagger 2.0, missing.
    e.write("garbage.json", "{\"openapi\": [");
    e.write("swagger.json", r#"{"swagger": "2.0", "paths": {}}"#);
    for (file, says) in [
        ("garbage.json", "is neither JSON"),
        ("swagger.json", "not an OpenAPI 3.0 or 3.1 document"),
        ("missing.json", "cannot read missing.json"),
    ] {
        let out = update(file);
        assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{file}: {}", stderr(&out));
    }
    untouched();

    // A --write path that cannot be written (its parent is a file): nothing written.
    e.write(
        "theirs.json",
        &bookwyrm_contract::as_published().to_string(),
    );
    let out = e
        .cmd()
        .args([
            "contract",
            "update",
            "theirs.json",
            "--contract",
            "bookwyrm.yaml",
            "--write",
            "bookwyrm.yaml/inside.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot write bookwyrm.yaml/inside.yaml"),
        "{}",
        stderr(&out)
    );
    untouched();
    let leftovers: Vec<_> = std::fs::read_dir(e.dir.path())
        .unwrap()
        .filter_map(|f| f.ok())
        .filter(|f| f.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
