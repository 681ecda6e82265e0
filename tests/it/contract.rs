//! The contract and the product agree: every operation of `openapi/bookwyrm.yaml` is
//! reachable through a public method of the async client and of the blocking client, the
//! emulator answers it, and the generated code is a reviewed snapshot. An operation added to
//! the contract fails here until every layer has it (README, "Adding an operation").

use crate::common;

use bookwyrm::{
    CitationRequest, ClassifyRequest, PdfExtractRequest, PhrasalRequest, SummarizeRequest,
    TextSpan, OPERATIONS,
};

/// Operations of the contract that no public method wraps yet. This list may only shrink.
const NOT_YET_WRAPPED: &[&str] = &[];

#[tokio::test]
async fn every_operation_is_reachable_through_a_public_method() {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let chunks = || vec![TextSpan::new(0, "x")];
    for op in OPERATIONS {
        if NOT_YET_WRAPPED.contains(&op.id) {
            continue;
        }
        match op.id {
            "get_citations" => drop(
                c.get_citations(CitationRequest::from_chunks(chunks(), "q"))
                    .await,
            ),
            "stream_citations" => drop(
                c.stream_citations(CitationRequest::from_chunks(chunks(), "q"))
                    .await,
            ),
            "summarize" => drop(c.summarize(SummarizeRequest::from_content("x")).await),
            "stream_summarize" => drop(
                c.stream_summarize(SummarizeRequest::from_content("x"))
                    .await,
            ),
            "stream_process_text" => {
                drop(c.stream_process_text(PhrasalRequest::from_text("x")).await)
            }
            "classify" => drop(c.classify(ClassifyRequest::from_text("x")).await),
            "stream_classify" => drop(c.stream_classify(ClassifyRequest::from_text("x")).await),
            "stream_extract_pdf_upload" => drop(
                c.stream_extract_pdf(PdfExtractRequest::from_bytes(b"%PDF-1.4".to_vec()))
                    .await,
            ),
            "stream_extract_pdf_url" => drop(
                c.stream_extract_pdf(PdfExtractRequest::from_url("http://127.0.0.1:9/x.pdf"))
                    .await,
            ),
            other => panic!("operation `{other}` of the contract has no public method: wrap it"),
        }
        let log = emu.recorded(true);
        assert_eq!(log.len(), 1, "{}: one request", op.id);
        assert_eq!(
            (log[0].method.as_str(), log[0].path.as_str()),
            (op.method, op.path),
            "{}",
            op.id
        );
        let accept = log[0].header("accept").unwrap_or("");
        assert_eq!(
            accept == "text/event-stream",
            op.streaming,
            "{}: Accept {accept}",
            op.id
        );
    }
    assert_eq!(OPERATIONS.len(), 9, "the contract's nine operations");
    for id in NOT_YET_WRAPPED {
        assert!(
            OPERATIONS.iter().any(|o| o.id == *id),
            "{id} is not in the contract any more"
        );
    }
}

/// The emulator has a route for every operation: an empty JSON body is a 422 (or a 4xx of
/// its own), never the 404/405 of a missing route.
#[tokio::test]
async fn the_emulator_answers_every_operation() {
    let emu = common::emulator().await;
    let http = reqwest::Client::new();
    for op in OPERATIONS {
        assert_eq!(
            op.method, "POST",
            "{}: a new method needs a new check here",
            op.id
        );
        let status = http
            .post(format!("{}{}", emu.base_url(), op.path))
            .bearer_auth(common::KEY)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert!(
            !matches!(status, 404 | 405),
            "{} {}: the emulator has no route (status {status})",
            op.method,
            op.path
        );
        assert!((400..500).contains(&status), "{}: status {status}", op.id);
    }
}

/// The blocking client wraps every operation: each call reaches the operation's path.
#[cfg(feature = "blocking")]
#[test]
fn every_operation_has_a_blocking_wrapper() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(common::emulator());
    let c = bookwyrm::blocking::BookWyrmClient::from_async(common::client(&emu)).unwrap();
    let chunks = || vec![TextSpan::new(0, "x")];
    for op in OPERATIONS {
        match op.id {
            "get_citations" => drop(c.get_citations(CitationRequest::from_chunks(chunks(), "q"))),
            "stream_citations" => {
                drop(c.stream_citations(CitationRequest::from_chunks(chunks(), "q")))
            }
            "summarize" => drop(c.summarize(SummarizeRequest::from_content("x"))),
            "stream_summarize" => drop(c.stream_summarize(SummarizeRequest::from_content("x"))),
            "stream_process_text" => drop(c.stream_process_text(PhrasalRequest::from_text("x"))),
            "classify" => drop(c.classify(ClassifyRequest::from_text("x"))),
            "stream_classify" => drop(c.stream_classify(ClassifyRequest::from_text("x"))),
            "stream_extract_pdf_upload" => {
                drop(c.stream_extract_pdf(PdfExtractRequest::from_bytes(b"%PDF-1.4".to_vec())))
            }
            "stream_extract_pdf_url" => {
                drop(c.stream_extract_pdf(PdfExtractRequest::from_url("http://127.0.0.1:9/x.pdf")))
            }
            other => panic!("operation `{other}` has no blocking wrapper: add it to blocking.rs"),
        }
        let log = emu.recorded(true);
        assert_eq!(log.len(), 1, "{}: one request", op.id);
        assert_eq!(log[0].path, op.path, "{}", op.id);
    }
}

#[test]
fn generated_code_snapshot() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/generated.rs"));
    let events = include_str!(concat!(env!("OUT_DIR"), "/events.rs"));
    insta::assert_snapshot!("generated_client", generated);
    insta::assert_snapshot!("generated_events", events);
}
