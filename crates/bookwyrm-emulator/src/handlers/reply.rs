//! The answers every handler gives: JSON replies, FastAPI-shaped errors, request parsing.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, Response, StatusCode};
use axum::Extension;
use serde_json::{json, Value};

use crate::faults::Fault;
use crate::sse::{self, SseEvent};
use crate::AppState;

pub(super) type Reply = Response<Body>;
pub(super) type St = State<Arc<AppState>>;
pub(super) type Fx = Extension<Fault>;

pub(super) fn json_reply(status: StatusCode, body: &impl serde::Serialize) -> Reply {
    let mut r = Response::new(Body::from(serde_json::to_vec(body).expect("serializable")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(super) fn error(status: StatusCode, detail: Value) -> Reply {
    json_reply(status, &json!({ "detail": detail }))
}

/// A 422 in FastAPI's shape.
pub(super) fn invalid(loc: &[&str], msg: impl Into<String>) -> Reply {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!([{ "loc": loc, "msg": msg.into(), "type": "value_error" }]),
    )
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Reply> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!([{ "loc": ["body"], "msg": format!("JSON decode error: {e}"), "type": "json_invalid" }]),
        )
    })?;
    serde_json::from_value(value).map_err(|e| invalid(&["body"], e.to_string()))
}

pub(super) fn exactly_one(fields: &[(&str, bool)]) -> Result<(), Reply> {
    if fields.iter().filter(|(_, present)| *present).count() != 1 {
        let names: Vec<String> = fields.iter().map(|(n, _)| format!("'{n}'")).collect();
        return Err(invalid(
            &["body"],
            format!("Exactly one of {} must be provided", names.join(", ")),
        ));
    }
    Ok(())
}

pub(super) fn stream_of(events: Vec<SseEvent>) -> sse::EventSource {
    Box::pin(futures_util::stream::iter(events))
}
