//! The emulator's HTTP surface: status codes, FastAPI-shaped 422s, 413, 404, faults, and no
//! crash on hostile bodies.

use bookwyrm_emulator::Emulator;
use serde_json::Value;

async fn post(base: &str, path: &str, body: Vec<u8>, content_type: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

const PATHS: &[&str] = &[
    "/cite",
    "/cite/sse",
    "/summarize",
    "/summarize/sse",
    "/phrasal/sse",
    "/classify/sse",
    "/extract-structure-json/sse",
];

#[tokio::test]
async fn invalid_bodies_are_422_in_fastapi_shape() {
    let emu = Emulator::builder().start().await.unwrap();
    let base = emu.base_url();
    for path in PATHS {
        for body in [
            "",
            "not json",
            "[]",
            "{}",
            r#"{"question": 3}"#,
            r#"{"text": "", "text_url": ""}"#,
        ] {
            let (status, text) =
                post(&base, path, body.as_bytes().to_vec(), "application/json").await;
            assert_eq!(status, 422, "{path} {body}: {text}");
            let v: Value = serde_json::from_str(&text).unwrap();
            let detail = v["detail"].as_array().expect("detail is a list");
            assert!(
                detail[0]["loc"].is_array() && detail[0]["msg"].is_string(),
                "{text}"
            );
        }
    }
    for path in ["/classify", "/extract-structure/sse"] {
        let (status, _) = post(
            &base,
            path,
            b"junk".to_vec(),
            "multipart/form-data; boundary=x",
        )
        .await;
        assert!(status == 422 || status == 400, "{path}: {status}");
    }
}

#[tokio::test]
async fn unknown_paths_are_404_and_oversized_uploads_413() {
    let emu = Emulator::builder().max_upload(1024).start().await.unwrap();
    let (status, body) = post(&emu.base_url(), "/nowhere", Vec::new(), "application/json").await;
    assert_eq!((status, body.as_str()), (404, r#"{"detail":"Not Found"}"#));
    let big = serde_json::json!({"text": "x".repeat(4096)})
        .to_string()
        .into_bytes();
    let (status, _) = post(&emu.base_url(), "/phrasal/sse", big, "application/json").await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn keys_are_enforced_only_when_given() {
    let emu = Emulator::builder()
        .api_key("k1")
        .api_key("k2")
        .start()
        .await
        .unwrap();
    let c = reqwest::Client::new();
    let url = format!("{}/phrasal/sse", emu.base_url());
    let body = r#"{"text":"Hi."}"#;
    for (auth, want) in [
        (None, 401),
        (Some("Bearer nope"), 401),
        (Some("Bearer k2"), 200),
    ] {
        let mut r = c
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        assert_eq!(r.send().await.unwrap().status().as_u16(), want);
    }
}

#[tokio::test]
async fn faults_only_when_allowed_and_times_counts() {
    let off = Emulator::builder().start().await.unwrap();
    let on = Emulator::builder()
        .allow_faults(true)
        .start()
        .await
        .unwrap();
    let c = reqwest::Client::new();
    let send = |base: String, fault: &'static str| {
        let c = c.clone();
        async move {
            c.post(format!("{base}/summarize"))
                .header("content-type", "application/json")
                .header("x-bookwyrm-fault", fault)
                .body(r#"{"content":"Hi."}"#)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        send(off.base_url(), "status=503").await,
        200,
        "ignored without --allow-faults"
    );
    assert_eq!(send(on.base_url(), "status=503;times=2").await, 503);
    assert_eq!(send(on.base_url(), "status=503;times=2").await, 503);
    assert_eq!(
        send(on.base_url(), "status=503;times=2").await,
        200,
        "only the first two"
    );
    assert_eq!(
        send(on.base_url(), "bogus").await,
        400,
        "a bad fault header is named"
    );
    assert!(
        c.post(format!("{}/summarize", on.base_url()))
            .header("x-bookwyrm-fault", "reset-before-headers")
            .body("{}")
            .send()
            .await
            .is_err(),
        "the connection is closed without an answer"
    );
    assert_eq!(on.stats().faults_applied(), 3);
}

#[tokio::test]
async fn hostile_bodies_never_crash_the_server() {
    let emu = Emulator::builder().start().await.unwrap();
    let base = emu.base_url();
    let mut seed: u64 = 0x2545F4914F6CDD1D;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let fragments = [
        r#"{"text":"#,
        r#""a. b.""#,
        r#","chunk_size":"#,
        "0",
        "-1",
        "1e99",
        r#""question":["#,
        "null",
        "]",
        "}",
        r#"{"chunks":[{"text":"x","start_char":5,"end_char":1}],"question":"q"}"#,
        r#"{"content_base64":"%%%","filename":null}"#,
        r#"{"pdf_url":"file:///etc/passwd"}"#,
        r#"{"content":"x","max_tokens":131073}"#,
        r#"{"content":"x","model_name":"M","model_schema_json":"{\"type\":\"array\"}"}"#,
        "\u{0}",
        "é",
        "{",
        r#"{"jsonl_content":"{\"text\":1}","question":"q"}"#,
    ];
    for _ in 0..300 {
        let n = (next() % 5 + 1) as usize;
        let body: String = (0..n)
            .map(|_| fragments[(next() % fragments.len() as u64) as usize])
            .collect();
        let path = PATHS[(next() % PATHS.len() as u64) as usize];
        let (status, _) = post(&base, path, body.clone().into_bytes(), "application/json").await;
        assert!(status < 500, "{path} {body}: {status}");
    }
    // Still serving.
    let (status, _) = post(
        &base,
        "/phrasal/sse",
        br#"{"text":"Still here."}"#.to_vec(),
        "application/json",
    )
    .await;
    assert_eq!(status, 200);
}

/// A tiny file server on loopback for URL inputs.
async fn file_server() -> String {
    use axum::routing::get;
    let story = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/country-of-the-blind.txt"
    ))
    .unwrap();
    let pdf = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/nasa-smallsat-excerpt.pdf"
    ))
    .unwrap();
    let jsonl =
        "{\"text\":\"Nunez fell from the mountain.\"}\n{\"text\":\"The valley was green.\"}\n";
    let app = axum::Router::new()
        .route("/story.txt", get(move || async move { story }))
        .route("/report.pdf", get(move || async move { pdf }))
        .route("/chunks.jsonl", get(move || async move { jsonl }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn url_inputs_are_fetched_and_failures_are_4xx() {
    let emu = Emulator::builder().start().await.unwrap();
    let files = file_server().await;
    let base = emu.base_url();
    let body = |v: Value| v.to_string().into_bytes();
    let (status, text) = post(&base, "/cite", body(serde_json::json!({"jsonl_url": format!("{files}/chunks.jsonl"), "question": "Who fell?"})), "application/json").await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["citations"][0]["text"], "Nunez fell from the mountain.");
    let (status, text) = post(
        &base,
        "/phrasal/sse",
        body(serde_json::json!({"text_url": format!("{files}/story.txt")})),
        "application/json",
    )
    .await;
    assert_eq!(status, 200);
    assert!(text.matches("event: text_span").count() > 300);
    let (status, text) = post(
        &base,
        "/summarize",
        body(serde_json::json!({"url": format!("{files}/story.txt")})),
        "application/json",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let (status, text) = post(
        &base,
        "/extract-structure-json/sse",
        body(serde_json::json!({"pdf_url": format!("{files}/report.pdf"), "num_pages": 1})),
        "application/json",
    )
    .await;
    assert_eq!(status, 200);
    assert!(text.contains("event: page\n") && text.contains("event: complete\n"));
    for (path, field, url) in [
        ("/summarize", "url", format!("{files}/missing.txt")),
        (
            "/summarize",
            "url",
            "http://127.0.0.1:9/unreachable".to_string(),
        ),
        ("/summarize", "url", "file:///etc/passwd".to_string()),
        ("/phrasal/sse", "text_url", format!("{files}/report.pdf")),
    ] {
        let (status, text) = post(
            &base,
            path,
            body(serde_json::json!({ field: url })),
            "application/json",
        )
        .await;
        assert_eq!(status, 422, "{url}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["detail"][0]["loc"][1], field);
    }
}

/// The `/extract-structure/sse` answer to `pdf` (pages `range`, as form fields), with the
/// processing time (which varies) taken out.
async fn extract(base: &str, pdf: &[u8], range: &[(&'static str, &'static str)]) -> String {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(pdf.to_vec()).file_name("f.pdf"),
    );
    for (name, value) in range {
        form = form.text(*name, *value);
    }
    let r = reqwest::Client::new()
        .post(format!("{base}/extract-structure/sse"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let at = text.find("\"processing_time\"").expect("a complete event");
    let end = at + text[at..].find(['}', ',']).unwrap();
    format!("{}{}", &text[..at], &text[end..])
}

#[tokio::test]
async fn a_pdf_sent_again_is_parsed_once_and_answered_the_same() {
    let emu = Emulator::builder().start().await.unwrap();
    let base = emu.base_url();
    let pdf = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/nasa-smallsat-excerpt.pdf"
    ))
    .unwrap();
    let first = extract(&base, &pdf, &[]).await;
    assert!(first.matches("event: page").count() >= 2, "{first}");
    assert_eq!(emu.stats().pdfs_parsed(), 1);
    // The same file again, whole and for a range: read from the cache, the same answer.
    assert_eq!(extract(&base, &pdf, &[]).await, first);
    let rest = extract(&base, &pdf, &[("start_page", "2")]).await;
    let page2 = |s: &str| -> Value {
        s.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .find(|v| v["document_page"] == 2 && v["page_data"].is_object())
            .map(|v| v["page_data"].clone())
            .expect("page 2")
    };
    assert_eq!(page2(&rest), page2(&first));
    assert_eq!(emu.stats().pdfs_parsed(), 1);
    // A file of the same length that differs in one byte (its last end of line) is another.
    let mut other = pdf.clone();
    assert_eq!(other.last(), Some(&b'\n'));
    *other.last_mut().unwrap() = b' ';
    extract(&base, &other, &[]).await;
    assert_eq!(emu.stats().pdfs_parsed(), 2);
}
