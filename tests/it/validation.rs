//! Every input rule is checked at call time, before any I/O, and names the field.

use crate::common;

use bookwyrm::{
    AsyncBookWyrmClient, BookWyrmClientError, CitationRequest, ClassifyRequest, ContentEncoding,
    PdfExtractRequest, PhrasalRequest, SummarizeRequest, TextSpan,
};
use futures_util::StreamExt;

fn field_of<T: std::fmt::Debug>(r: Result<T, BookWyrmClientError>) -> (String, String) {
    match r {
        Err(BookWyrmClientError::Validation(v)) => (v.field().to_string(), v.message().to_string()),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn chunk() -> Vec<TextSpan> {
    vec![TextSpan::new(0, "Some text.")]
}

#[tokio::test]
async fn citation_rules() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let cases: Vec<(CitationRequest, &str, &str)> = vec![
        (
            CitationRequest::from_chunks(chunk(), "  "),
            "question",
            "question cannot be empty",
        ),
        (
            CitationRequest::from_chunks(chunk(), Vec::<&str>::new()),
            "question",
            "question list cannot be empty",
        ),
        (
            CitationRequest::from_chunks(chunk(), vec!["q"; 21]),
            "question",
            "question list cannot contain more than 20 questions",
        ),
        (
            CitationRequest::from_chunks(chunk(), ["ok", " "]),
            "question",
            "question at index 1 cannot be empty",
        ),
        (
            CitationRequest::from_chunks(chunk(), "q").limit(0),
            "limit",
            "limit must be > 0",
        ),
        (
            CitationRequest::from_chunks(chunk(), "q").max_tokens_per_chunk(0),
            "max_tokens_per_chunk",
            "max_tokens_per_chunk must be > 0",
        ),
        (
            CitationRequest::from_jsonl_content("", "q"),
            "jsonl_content",
            "jsonl_content cannot be empty",
        ),
        (
            CitationRequest::from_jsonl_url(" ", "q"),
            "jsonl_url",
            "jsonl_url cannot be empty",
        ),
        (
            CitationRequest::from_chunks(
                vec![TextSpan {
                    start_char: 5,
                    end_char: 2,
                    text: "x".into(),
                }],
                "q",
            ),
            "chunks",
            "chunk 0: end_char 2 is before start_char 5",
        ),
        // The question is checked even when there are no chunks (the reference skipped it).
        (
            CitationRequest::from_chunks(vec![], ""),
            "question",
            "question cannot be empty",
        ),
    ];
    for (request, field, message) in cases {
        let expected = (field.to_string(), message.to_string());
        assert_eq!(field_of(c.get_citations(request.clone()).await), expected);
        assert_eq!(field_of(c.stream_citations(request).await), expected);
    }
    // Exactly 20 questions is fine.
    assert!(c
        .get_citations(CitationRequest::from_chunks(chunk(), vec!["q"; 20]))
        .await
        .is_ok());
    assert_eq!(
        emu.stats().requests(),
        1,
        "only the valid request reached the server"
    );
}

#[tokio::test]
async fn no_chunks_is_answered_locally() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let answer = c
        .get_citations(CitationRequest::from_chunks(vec![], "q"))
        .await
        .unwrap();
    assert_eq!((answer.citations.len(), answer.total_citations), (0, 0));
    let events: Vec<_> = c
        .stream_citations(CitationRequest::from_chunks(vec![], "q"))
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(events.len(), 1);
    match &events[0] {
        Ok(bookwyrm::CitationStreamEvent::Summary(s)) => assert_eq!(s.total_citations, 0),
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.stats().requests(), 0);
}

#[tokio::test]
async fn summarize_rules() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let base = || SummarizeRequest::from_content("Text.");
    let cases: Vec<(SummarizeRequest, &str, &str)> = vec![
        (
            base().max_tokens(0),
            "max_tokens",
            "max_tokens must be at least 1 (got 0)",
        ),
        (
            base().max_tokens(131_073),
            "max_tokens",
            "max_tokens cannot exceed 131,072 (got 131073)",
        ),
        (SummarizeRequest::from_url(""), "url", "url cannot be empty"),
        (
            base().structured("", "{}"),
            "model_name",
            "model_name is required when model_schema_json is provided",
        ),
        (
            base().structured("S", " "),
            "model_schema_json",
            "model_schema_json is required when model_name is provided",
        ),
        (
            base().structured("S", "[1]"),
            "model_schema_json",
            "model_schema_json must be a JSON Schema object",
        ),
        (
            base().custom_prompts("", "merge"),
            "chunk_prompt",
            "chunk_prompt is required when summary_of_summaries_prompt is provided",
        ),
        (
            base().custom_prompts("chunk", ""),
            "summary_of_summaries_prompt",
            "summary_of_summaries_prompt is required when chunk_prompt is provided",
        ),
    ];
    for (request, field, message) in cases {
        let expected = (field.to_string(), message.to_string());
        assert_eq!(field_of(c.summarize(request.clone()).await), expected);
        assert_eq!(field_of(c.stream_summarize(request).await), expected);
    }
    assert!(c.summarize(base().max_tokens(131_072)).await.is_ok());
    assert_eq!(emu.stats().requests(), 1);
}

#[tokio::test]
async fn phrasal_classify_pdf_rules() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    assert_eq!(
        field_of(c.stream_process_text(PhrasalRequest::from_text("")).await),
        ("text".into(), "text cannot be empty".into())
    );
    assert_eq!(
        field_of(c.stream_process_text(PhrasalRequest::from_url(" ")).await),
        ("text_url".into(), "text_url cannot be empty".into())
    );
    assert_eq!(
        field_of(
            c.stream_process_text(PhrasalRequest::from_text("x").chunk_size(0))
                .await
        ),
        ("chunk_size".into(), "chunk_size must be > 0".into())
    );
    let bad64 = ClassifyRequest::from_encoded("not base64!", ContentEncoding::Base64);
    assert_eq!(field_of(c.classify(bad64.clone()).await).0, "content");
    assert_eq!(field_of(c.stream_classify(bad64).await).0, "content");
    let pdf = || PdfExtractRequest::from_bytes(b"%PDF-1.4".to_vec());
    assert_eq!(
        field_of(c.stream_extract_pdf(pdf().start_page(0)).await),
        ("start_page".into(), "start_page must be >= 1".into())
    );
    assert_eq!(
        field_of(c.extract_pdf(pdf().num_pages(0)).await),
        ("num_pages".into(), "num_pages must be >= 1".into())
    );
    assert_eq!(
        field_of(
            c.stream_extract_pdf(PdfExtractRequest::from_bytes(Vec::new()))
                .await
        ),
        ("pdf_bytes".into(), "pdf_bytes cannot be empty".into())
    );
    assert_eq!(
        field_of(c.stream_extract_pdf(PdfExtractRequest::from_url("")).await),
        ("pdf_url".into(), "pdf_url cannot be empty".into())
    );
    assert_eq!(
        field_of(PdfExtractRequest::from_base64("@@@")).0,
        "pdf_content"
    );
    assert_eq!(emu.stats().requests(), 0);
}

#[test]
fn builder_rules() {
    let err = AsyncBookWyrmClient::builder()
        .base_url("ftp://x")
        .build()
        .unwrap_err();
    assert_eq!(field_of::<()>(Err(err)).0, "base_url");
    let err = AsyncBookWyrmClient::builder()
        .api_key("bad\nkey")
        .build()
        .unwrap_err();
    assert_eq!(field_of::<()>(Err(err)).0, "api_key");
    let err = AsyncBookWyrmClient::builder()
        .header("bad name", "v")
        .build()
        .unwrap_err();
    assert_eq!(field_of::<()>(Err(err)).0, "headers");
}
