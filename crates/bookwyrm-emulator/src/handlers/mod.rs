//! The nine operations of the contract, over the algorithms of [`crate::algo`].
//!
//! Helpers return the error answer itself as `Err`, as axum handlers do.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde_json::json;

use crate::AppState;
use reply::error;

/// Returns the error answer of a helper (`Err(reply)`) from the handler.
macro_rules! tri {
    ($e:expr_2021) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

mod cite;
mod classify;
mod fetch;
mod multipart;
#[cfg(feature = "pdf")]
mod pdf;
mod phrasal;
mod reply;
mod summarize;

/// A PDF operation's handler; without the `pdf` feature, a 501 that says so.
#[cfg(feature = "pdf")]
macro_rules! pdf_route {
    ($handler:path) => {
        post($handler)
    };
}
#[cfg(not(feature = "pdf"))]
macro_rules! pdf_route {
    ($handler:path) => {
        post(|| async { without_pdf() })
    };
}

/// The answer of a PDF operation in an emulator built without its `pdf` feature (compiled with
/// the feature too for its unit test, which CI runs).
#[cfg(any(test, not(feature = "pdf")))]
fn without_pdf() -> reply::Reply {
    const DETAIL: &str = "PDF extraction is not built into this emulator: \
        build bookwyrm-emulator with its `pdf` feature (on by default)";
    error(StatusCode::NOT_IMPLEMENTED, json!(DETAIL))
}

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/cite", post(cite::cite_json))
        .route("/cite/sse", post(cite::cite_sse))
        .route("/summarize", post(summarize::summarize_json))
        .route("/summarize/sse", post(summarize::summarize_sse))
        .route("/phrasal/sse", post(phrasal::phrasal_sse))
        .route("/classify", post(classify::classify_upload))
        .route("/classify/sse", post(classify::classify_sse))
        .route("/extract-structure/sse", pdf_route!(pdf::pdf_upload))
        .route("/extract-structure-json/sse", pdf_route!(pdf::pdf_url))
        .fallback(|| async { error(StatusCode::NOT_FOUND, json!("Not Found")) })
        .layer(DefaultBodyLimit::max(state.max_upload))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    /// The answer the PDF routes give without the `pdf` feature (the quickstart's emulator):
    /// a 501 whose detail names the feature, not a 404 that reads as a wrong URL.
    #[tokio::test]
    async fn a_pdf_operation_without_the_pdf_feature_is_a_501_naming_it() {
        let reply = super::without_pdf();
        assert_eq!(reply.status(), axum::http::StatusCode::NOT_IMPLEMENTED);
        let body = axum::body::to_bytes(reply.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("`pdf` feature"), "{detail}");
    }
}
