//! W3C trace context (feature `otel`): the OpenTelemetry context current when a call is made
//! goes out as `traceparent` on every request — JSON calls, streams, and their retries — as
//! the emulator recorded them; without a context, no header.
#![cfg(feature = "otel")]

mod common;

use std::time::Duration;

use bookwyrm::{PhrasalRequest, SummarizeRequest};
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_context_goes_out_on_every_request_and_retry() {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let trace = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let span = SpanId::from_hex("00f067aa0ba902b7").unwrap();
    let cx = Context::new().with_remote_span_context(SpanContext::new(
        trace,
        span,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ));
    let want = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let emu = common::emulator().await;
    let fast = bookwyrm::RetryPolicy::default().initial_backoff(Duration::from_millis(10));
    // A JSON call retried once, and a stream retried once before its first event.
    let client = common::faulty(&emu, "status=503;times=1", fast.clone());
    client
        .summarize(SummarizeRequest::from_content("One. Two."))
        .with_context(cx.clone())
        .await
        .unwrap();
    let client = common::faulty(&emu, "status=503;times=1;tag=s", fast);
    let spans = async {
        client
            .stream_process_text(PhrasalRequest::from_text("One. Two."))
            .await?
            .collect_phrases()
            .await
    }
    .with_context(cx.clone())
    .await
    .unwrap();
    assert_eq!(spans.len(), 2);
    let sent = emu.recorded(true);
    assert_eq!(sent.len(), 4, "two calls, each retried once");
    for r in &sent {
        assert_eq!(
            r.header("traceparent"),
            Some(want),
            "{} {}",
            r.method,
            r.path
        );
    }
    // Outside any context: no header.
    common::client(&emu)
        .summarize(SummarizeRequest::from_content("One."))
        .await
        .unwrap();
    let sent = emu.recorded(true);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("traceparent"), None);
}
