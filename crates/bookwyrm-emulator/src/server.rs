//! The accept loop, authentication, request-level faults and counters; routing is in
//! [`crate::handlers`].

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use futures_util::StreamExt;
use hyper_util::rt::TokioIo;
use tower::ServiceExt;

use crate::cut::{Cut, CutMode, CutPoint};
use crate::faults::{Fault, FAULT_HEADER};
use crate::{bump, AppState};

/// Decrements the in-flight count when the response body is done.
struct InFlight(Arc<AppState>);

impl InFlight {
    fn new(state: Arc<AppState>) -> Self {
        let now = state.stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(state)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.stats.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The error that makes hyper drop a connection without answering.
#[derive(Debug)]
struct ResetConnection;

impl std::fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault: reset before headers")
    }
}

impl std::error::Error for ResetConnection {}

/// A TLS acceptor for a PEM certificate chain and private key.
pub(crate) fn tls_acceptor(chain: &str, key: &str) -> std::io::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("TLS {what}: {e}"))
    };
    let chain = rustls::pki_types::CertificateDer::pem_slice_iter(chain.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("certificate", &e))?;
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes())
        .map_err(|e| invalid("key", &e))?;
    #[allow(deprecated)] // ring: see the SDK's transport/tls.rs
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("config", &e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid("certificate", &e))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: Arc<AppState>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let router = crate::handlers::router(state.clone());
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((io, _)) = accepted else {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                bump(&state.stats.connections);
                state.stats.connections_open.fetch_add(1, Ordering::SeqCst);
                let state = state.clone();
                let router = router.clone();
                let tls = tls.clone();
                connections.spawn(async move {
                    struct Open(Arc<AppState>);
                    impl Drop for Open {
                        fn drop(&mut self) {
                            self.0.stats.connections_open.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                    let _open = Open(state.clone());
                    // Byte-offset faults cut the connection itself (crate::cut).
                    let point = CutPoint::new();
                    let io = Cut::new(io, point.clone());
                    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        handle(state.clone(), router.clone(), point.clone(), req.map(Body::new))
                    });
                    let http = hyper::server::conn::http1::Builder::new().keep_alive(true).clone();
                    match tls {
                        None => {
                            let _ = http.serve_connection(TokioIo::new(io), service).await;
                        }
                        // A client that refuses the certificate ends here: no request is read.
                        Some(acceptor) => {
                            if let Ok(io) = acceptor.accept(io).await {
                                let _ = http.serve_connection(TokioIo::new(io), service).await;
                            }
                        }
                    }
                });
            }
            _ = stop.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle(
    state: Arc<AppState>,
    router: axum::Router,
    cut: Arc<CutPoint>,
    req: Request<Body>,
) -> Result<Response<Body>, ResetConnection> {
    let id = state.stats.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let mut response = answer(state, router, cut, req).await?;
    if let Ok(v) = HeaderValue::from_str(&format!("emu-{id}")) {
        response.headers_mut().insert("x-request-id", v);
    }
    Ok(response)
}

async fn answer(
    state: Arc<AppState>,
    router: axum::Router,
    cut: Arc<CutPoint>,
    mut req: Request<Body>,
) -> Result<Response<Body>, ResetConnection> {
    let guard = InFlight::new(state.clone());
    // HTTP/1.1 without pipelining: the answer before this request was written whole, so a
    // byte cut it armed and never reached ends here.
    cut.disarm();
    // The contract, as FastAPI publishes its own: public, like the real server's.
    if req.method() == axum::http::Method::GET && req.uri().path() == "/openapi.json" {
        static PUBLISHED: std::sync::OnceLock<bytes::Bytes> = std::sync::OnceLock::new();
        let doc = PUBLISHED
            .get_or_init(|| bytes::Bytes::from(bookwyrm_contract::as_published().to_string()));
        let mut response = Response::new(Body::from(doc.clone()));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        );
        drop(guard);
        return Ok(response);
    }
    if state.record {
        let (parts, body) = req.into_parts();
        let Ok(body) = axum::body::to_bytes(body, state.max_upload).await else {
            return Ok(json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large",
                guard,
            ));
        };
        state
            .recorded
            .lock()
            .expect("record lock")
            .push(crate::RecordedRequest {
                method: parts.method.to_string(),
                path: parts
                    .uri
                    .path_and_query()
                    .map_or("/".into(), |p| p.to_string()),
                headers: parts
                    .headers
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.as_str().to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
                body: body.clone(),
            });
        req = Request::from_parts(parts, Body::from(body));
    }

    let mut fault = Fault::default();
    if state.allow_faults {
        let header = req
            .headers()
            .get(FAULT_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if let Some(spec) = header.as_deref().or(state.default_fault.as_deref()) {
            match Fault::parse(spec) {
                Ok(f) => {
                    let seen = state.fault_seen(spec);
                    if f.times.is_none_or(|t| seen < t) {
                        bump(&state.stats.faults_applied);
                        if let Some(n) = f.reset_after_bytes {
                            cut.arm(n, CutMode::Reset);
                        }
                        if let Some(n) = f.close_after_bytes {
                            cut.arm(n, CutMode::Close);
                        }
                        if f.replay_first {
                            let Some(first) = replay_first(&state, spec, req).await else {
                                let too_large = "Request body too large";
                                return Ok(json_error(
                                    StatusCode::PAYLOAD_TOO_LARGE,
                                    too_large,
                                    guard,
                                ));
                            };
                            req = first;
                        }
                        fault = f;
                    }
                }
                Err(msg) => return Ok(json_error(StatusCode::BAD_REQUEST, &msg, guard)),
            }
        }
    }
    if fault.reset_before_headers {
        return Err(ResetConnection);
    }
    if let Some(delay) = fault.delay {
        tokio::time::sleep(delay).await;
    }

    if !state.api_keys.is_empty() {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if !presented.is_some_and(|k| state.api_keys.iter().any(|a| a == k)) {
            return Ok(json_error(
                StatusCode::UNAUTHORIZED,
                "Invalid or missing API key",
                guard,
            ));
        }
    }

    let mut response = if let Some(status) = fault.status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = json_error(
            status,
            &format!("injected fault: status {}", status.as_u16()),
            guard,
        );
        let headers = r.headers_mut();
        if let Some(s) = fault.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if let Some(ms) = fault.retry_after_ms {
            headers.insert("retry-after-ms", HeaderValue::from(ms));
        }
        if fault.retry_after_date {
            let when = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
            if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(when)) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        r
    } else {
        req.extensions_mut().insert(fault.clone());
        let response = router
            .oneshot(req)
            .await
            .unwrap_or_else(|e: Infallible| match e {});
        let (parts, body) = response.into_parts();
        let body = Body::from_stream(body.into_data_stream().map(move |chunk| {
            let _keep = &guard;
            chunk
        }));
        Response::from_parts(parts, body)
    };

    if let Some(ct) = &fault.content_type
        && let Ok(v) = HeaderValue::from_str(ct)
    {
        response.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    if let Some(msg) = &fault.deprecation {
        let headers = response.headers_mut();
        headers.insert("deprecation", HeaderValue::from_static("true"));
        if let Ok(v) = HeaderValue::from_str(&format!("299 bookwyrm \"{}\"", msg.replace('"', "'")))
        {
            headers.insert(header::WARNING, v);
        }
    }
    Ok(response)
}

/// A JSON error answer in FastAPI's shape: `{"detail": "<message>"}`.
/// Fault `replay-first`: `req` with the body (and Content-Type) of the first request seen with
/// this fault `spec`, so that the answer is the first one's whatever this request asks for
/// (`None`: its body is over the upload limit).
async fn replay_first(state: &AppState, spec: &str, req: Request<Body>) -> Option<Request<Body>> {
    let (mut parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, state.max_upload).await.ok()?;
    let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
    let (content_type, body) = state.first_request(spec, (content_type, body));
    parts.headers.remove(header::CONTENT_LENGTH);
    match content_type {
        Some(v) => parts.headers.insert(header::CONTENT_TYPE, v),
        None => parts.headers.remove(header::CONTENT_TYPE),
    };
    Some(Request::from_parts(parts, Body::from(body)))
}

fn json_error(status: StatusCode, message: &str, guard: InFlight) -> Response<Body> {
    let body = serde_json::json!({ "detail": message }).to_string();
    let body = Body::from_stream(futures_util::stream::once(async move {
        let _keep = guard;
        Ok::<_, Infallible>(bytes::Bytes::from(body))
    }));
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
