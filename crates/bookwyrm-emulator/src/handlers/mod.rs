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
mod pdf;
mod phrasal;
mod reply;
mod summarize;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/cite", post(cite::cite_json))
        .route("/cite/sse", post(cite::cite_sse))
        .route("/summarize", post(summarize::summarize_json))
        .route("/summarize/sse", post(summarize::summarize_sse))
        .route("/phrasal/sse", post(phrasal::phrasal_sse))
        .route("/classify", post(classify::classify_upload))
        .route("/classify/sse", post(classify::classify_sse))
        .route("/extract-structure/sse", post(pdf::pdf_upload))
        .route("/extract-structure-json/sse", post(pdf::pdf_url))
        .fallback(|| async { error(StatusCode::NOT_FOUND, json!("Not Found")) })
        .layer(DefaultBodyLimit::max(state.max_upload))
        .with_state(state)
}
