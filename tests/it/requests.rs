//! Snapshots of every request each client method sends (method, path, headers with secrets
//! redacted, body), as the emulator received them.

use crate::common;

use bookwyrm::{
    CitationRequest, ClassifyRequest, ContentEncoding, ModelStrength, PdfExtractRequest,
    PhrasalRequest, SummarizeRequest, TextSpan,
};

/// Runs `call`, then returns the one request it sent, described.
macro_rules! sent {
    ($emu:expr_2021, $call:expr_2021) => {{
        let _ = $call;
        let mut log = $emu.recorded(true);
        assert_eq!(log.len(), 1, "exactly one request was sent");
        common::describe(&log.remove(0))
    }};
}

fn chunks() -> Vec<TextSpan> {
    vec![
        TextSpan::new(0, "Nunez fell from the mountain."),
        TextSpan::new(30, "He came to the valley of the blind."),
    ]
}

#[tokio::test]
async fn citation_requests() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    insta::assert_snapshot!(
        "get_citations_chunks",
        sent!(
            emu,
            c.get_citations(CitationRequest::from_chunks(chunks(), "Who fell?"))
                .await
                .unwrap()
        )
    );
    insta::assert_snapshot!(
        "get_citations_jsonl_content_multi",
        sent!(
            emu,
            c.get_citations(
                CitationRequest::from_jsonl_content("{\"text\":\"a b c\"}\n", ["Who?", "Where?"])
                    .start(1)
                    .limit(5)
                    .max_tokens_per_chunk(500)
                    .model_strength(ModelStrength::Wise)
            )
            .await
        )
    );
    insta::assert_snapshot!(
        "stream_citations_url",
        sent!(
            emu,
            c.stream_citations(CitationRequest::from_jsonl_url(
                "http://127.0.0.1:9/book.jsonl",
                "Who?"
            ))
            .await
        )
    );
}

#[tokio::test]
async fn summarize_requests() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    insta::assert_snapshot!(
        "summarize_content",
        sent!(
            emu,
            c.summarize(SummarizeRequest::from_content("One. Two. Three."))
                .await
                .unwrap()
        )
    );
    insta::assert_snapshot!(
        "summarize_phrases_prompts",
        sent!(
            emu,
            c.summarize(
                SummarizeRequest::from_phrases(chunks())
                    .max_tokens(2000)
                    .debug(true)
                    .model_strength(ModelStrength::Clever)
                    .custom_prompts("List the events.", "Merge the lists.")
            )
            .await
            .unwrap()
        )
    );
    #[derive(serde::Deserialize, schemars::JsonSchema, Debug)]
    #[allow(dead_code)]
    struct Summary {
        title: Option<String>,
        author: Option<String>,
    }
    insta::assert_snapshot!(
        "summarize_structured",
        sent!(
            emu,
            c.summarize_structured::<Summary>(SummarizeRequest::from_content(
                "Title: X\n\nA story."
            ))
            .await
            .unwrap()
        )
    );
    insta::assert_snapshot!(
        "stream_summarize_url",
        sent!(
            emu,
            c.stream_summarize(SummarizeRequest::from_url("http://127.0.0.1:9/t.txt"))
                .await
        )
    );
}

#[tokio::test]
async fn phrasal_requests() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    insta::assert_snapshot!(
        "phrasal_text",
        sent!(
            emu,
            c.stream_process_text(PhrasalRequest::from_text("A. B."))
                .await
                .unwrap()
        )
    );
    insta::assert_snapshot!(
        "phrasal_chunked_text_only",
        sent!(
            emu,
            c.stream_process_text(
                PhrasalRequest::from_text("A. B.")
                    .chunk_size(100)
                    .text_only()
            )
            .await
            .unwrap()
        )
    );
}

#[tokio::test]
async fn classify_requests() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    insta::assert_snapshot!(
        "classify_bytes_named",
        sent!(
            emu,
            c.classify(ClassifyRequest::from_bytes(b"a,b\n1,2\n".to_vec()).filename("t.csv"))
                .await
                .unwrap()
        )
    );
    insta::assert_snapshot!(
        "classify_text_unnamed",
        sent!(
            emu,
            c.classify(ClassifyRequest::from_text("plain words"))
                .await
                .unwrap()
        )
    );
    insta::assert_snapshot!(
        "stream_classify_text",
        sent!(
            emu,
            c.stream_classify(ClassifyRequest::from_text("{\"a\": 1}"))
                .await
                .unwrap()
        )
    );
    insta::assert_snapshot!(
        "stream_classify_base64_named",
        sent!(
            emu,
            c.stream_classify(
                ClassifyRequest::from_encoded("aGVsbG8=", ContentEncoding::Base64)
                    .filename("h.txt")
            )
            .await
            .unwrap()
        )
    );
}

#[tokio::test]
async fn pdf_requests() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let upload = sent!(emu, {
        let mut s = c
            .stream_extract_pdf(
                PdfExtractRequest::from_bytes(b"%PDF-1.4\n%fake\n".to_vec())
                    .filename("r.pdf")
                    .start_page(2)
                    .num_pages(3)
                    .layout_detection(true),
            )
            .await
            .unwrap();
        while s.next().await.is_some() {}
    });
    insta::assert_snapshot!("stream_extract_pdf_upload", upload);
    insta::assert_snapshot!(
        "stream_extract_pdf_upload_defaults",
        sent!(
            emu,
            c.stream_extract_pdf(PdfExtractRequest::from_bytes(b"%PDF-1.4\n".to_vec()))
                .await
                .unwrap()
        )
    );
    insta::assert_snapshot!(
        "stream_extract_pdf_url",
        sent!(
            emu,
            c.stream_extract_pdf(
                PdfExtractRequest::from_url("http://127.0.0.1:9/r.pdf")
                    .lang("")
                    .force_ocr(true)
            )
            .await
        )
    );
}
