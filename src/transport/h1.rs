//! A minimal HTTP/1.1 client for event streams: one connection per stream, read and
//! de-chunked by the task that polls the stream.
//!
//! Why it exists: hyper's client runs each connection as a task of its own and hands the body
//! over one chunk at a time through a one-slot channel. A server sends one chunk per event, so
//! when the stream is polled from another thread than the connection task (the body of every
//! `#[tokio::main]`: `block_on` of a multi-thread runtime), every event costs two cross-thread
//! wake-ups, and a Rust stream costs more CPU than the Python client. Here the socket is read
//! by whoever polls the stream, in reads of up to [`MAX_READ_BUFFER`] bytes that hold many chunks,
//! and the de-chunked bytes of a whole read go to the SSE decoder at once.
//!
//! The generated operation still builds the request and the hooks still set its headers; only
//! its execution is taken over ([`crate::transport::CallContext::send`]), for streaming requests
//! whose body is in memory, on a client whose `reqwest::Client` the SDK built itself and with no
//! proxy configured in the environment. Everything else goes through reqwest.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// Bytes read from the socket at once, at first; a read that fills the buffer doubles it, up
/// to [`MAX_READ_BUFFER`] (a busy stream is read in large pieces, an idle one costs little).
pub(crate) const READ_BUFFER: usize = 8 * 1024;
/// The largest read buffer.
const MAX_READ_BUFFER: usize = 64 * 1024;
/// Largest response head (status line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// Most response headers.
const MAX_HEADERS: usize = 128;
/// Longest chunk-size line or trailer line.
const MAX_CHUNK_LINE: usize = 4 * 1024;

/// The environment variables through which reqwest picks up a proxy.
const PROXY_VARS: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// How a failed exchange failed, for the caller to turn into its error type.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The TCP connection (or TLS session) could not be set up.
    Connect(io::Error),
    /// Connecting took longer than the connect timeout.
    ConnectTimeout,
    /// The request could not be written or the response head not read.
    Exchange(io::Error),
}

/// The direct stream transport of one client (shared by its handles).
pub(crate) struct Direct {
    /// Extra trusted roots, besides the platform's.
    roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    tls: OnceLock<Result<tokio_rustls::TlsConnector, String>>,
}

impl fmt::Debug for Direct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Direct").finish_non_exhaustive()
    }
}

impl Direct {
    /// The direct transport, unless a proxy is configured in the environment (reqwest honours
    /// those; this transport does not speak to proxies).
    pub(crate) fn unless_proxied(
        roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    ) -> Option<Self> {
        let proxied = PROXY_VARS
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        if proxied {
            tracing::debug!("a proxy is configured: event streams go through reqwest");
            return None;
        }
        Some(Self {
            roots,
            tls: OnceLock::new(),
        })
    }

    /// Whether this transport can execute `request`: http(s), body in memory (or none).
    pub(crate) fn handles(&self, request: &reqwest::Request) -> bool {
        matches!(request.url().scheme(), "http" | "https")
            && request.url().host_str().is_some()
            && request.body().is_none_or(|b| b.as_bytes().is_some())
    }

    fn tls(&self) -> Result<tokio_rustls::TlsConnector, Failure> {
        self.tls
            .get_or_init(|| {
                let provider = rustls::crypto::CryptoProvider::get_default()
                    .cloned()
                    .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
                // The same verifier reqwest builds: the platform's roots plus the extra ones.
                let verifier = if self.roots.is_empty() {
                    rustls_platform_verifier::Verifier::new(provider.clone())
                } else {
                    rustls_platform_verifier::Verifier::new_with_extra_roots(
                        self.roots.iter().cloned(),
                        provider.clone(),
                    )
                }
                .map_err(|e| e.to_string())?;
                let mut config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| e.to_string())?
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier))
                    .with_no_client_auth();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
            })
            .clone()
            .map_err(|e| Failure::Connect(io::Error::other(e)))
    }

    /// Sends `request` on a new connection and reads the response head; the body is read as
    /// the returned response's body is polled. Dropping that body closes the connection.
    pub(crate) async fn execute(
        &self,
        request: reqwest::Request,
        connect_timeout: Option<Duration>,
    ) -> Result<reqwest::Response, Failure> {
        let url = request.url();
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let https = url.scheme() == "https";
        let connect = async {
            let tcp = TcpStream::connect((host.trim_matches(['[', ']']), port))
                .await
                .map_err(Failure::Connect)?;
            tcp.set_nodelay(true).map_err(Failure::Connect)?;
            if !https {
                return Ok(Conn::Plain(tcp));
            }
            let name = rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']))
                .map_err(|e| Failure::Connect(io::Error::new(io::ErrorKind::InvalidInput, e)))?
                .to_owned();
            let tls = self
                .tls()?
                .connect(name, tcp)
                .await
                .map_err(Failure::Connect)?;
            Ok(Conn::Tls(Box::new(tls)))
        };
        let mut conn = match connect_timeout {
            Some(limit) => tokio::time::timeout(limit, connect)
                .await
                .map_err(|_| Failure::ConnectTimeout)??,
            None => connect.await?,
        };
        // The head and the body as they are (the body is not copied), then the request is let
        // go: nothing of it is kept while the answer is awaited.
        conn.write_all(&request_head(&request))
            .await
            .map_err(Failure::Exchange)?;
        if let Some(body) = request.body().and_then(reqwest::Body::as_bytes) {
            conn.write_all(body).await.map_err(Failure::Exchange)?;
        }
        drop(request);
        conn.flush().await.map_err(Failure::Exchange)?;
        let mut buf = vec![0u8; READ_BUFFER];
        let mut filled = 0;
        let (head, head_len) = loop {
            if filled > 0 {
                match parse_head(&buf[..filled]).map_err(Failure::Exchange)? {
                    // 1xx answers (100 Continue) come before the real one.
                    Some((head, len)) if head.status().is_informational() => {
                        buf.copy_within(len..filled, 0);
                        filled -= len;
                        continue;
                    }
                    Some(found) => break found,
                    None => {}
                }
            }
            if filled == buf.len() {
                if buf.len() >= MAX_HEAD {
                    return Err(Failure::Exchange(invalid("the response head is too large")));
                }
                buf.resize(buf.len() * 2, 0);
            }
            let n = tokio::io::AsyncReadExt::read(&mut conn, &mut buf[filled..])
                .await
                .map_err(Failure::Exchange)?;
            if n == 0 {
                return Err(Failure::Exchange(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the connection closed before a response",
                )));
            }
            filled += n;
        };
        let framing = framing(&head).map_err(Failure::Exchange)?;
        buf.copy_within(head_len..filled, 0);
        let body = H1Body {
            conn,
            buf,
            start: 0,
            end: filled - head_len,
            framing,
            out: BytesMut::new(),
            failed: None,
        };
        Ok(reqwest::Response::from(
            head.map(|()| reqwest::Body::wrap_stream(body)),
        ))
    }
}

fn invalid(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The request line and headers (with the body's length).
fn request_head(request: &reqwest::Request) -> Vec<u8> {
    let url = request.url();
    let body = request
        .body()
        .and_then(reqwest::Body::as_bytes)
        .unwrap_or(&[]);
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(request.method().as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(url.path().as_bytes());
    if let Some(q) = url.query() {
        out.push(b'?');
        out.extend_from_slice(q.as_bytes());
    }
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(url.host_str().unwrap_or_default().as_bytes());
    if let Some(port) = url.port() {
        out.extend_from_slice(format!(":{port}").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    for (name, value) in request.headers() {
        if matches!(
            name.as_str(),
            "host" | "content-length" | "transfer-encoding" | "connection"
        ) {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() || request.method() == reqwest::Method::POST {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A complete response head at the start of `bytes`, and its length; `None` while incomplete.
fn parse_head(bytes: &[u8]) -> io::Result<Option<(http::Response<()>, usize)>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut headers);
    let len = match parsed.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("invalid response head: {e}"),
            ))
        }
    };
    let code = parsed.code.unwrap_or_default();
    let mut response = http::Response::new(());
    *response.status_mut() = http::StatusCode::from_u16(code)
        .map_err(|_| invalid("invalid status code in the response"))?;
    *response.version_mut() = http::Version::HTTP_11;
    let map = response.headers_mut();
    for h in parsed.headers.iter() {
        let name = http::HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| invalid("invalid header name in the response"))?;
        let value = http::HeaderValue::from_bytes(h.value)
            .map_err(|_| invalid("invalid header value in the response"))?;
        map.append(name, value);
    }
    Ok(Some((response, len)))
}

/// How the body's end is known.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Framing {
    /// `Transfer-Encoding: chunked`, in this state.
    Chunked(Chunk),
    /// `Content-Length`: this many bytes remain.
    Length(u64),
    /// Until the server closes the connection.
    Eof,
    /// The body has ended.
    Done,
}

/// Where the chunked decoder is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Chunk {
    /// Reading a chunk-size line.
    Size,
    /// This many data bytes of the current chunk remain.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// Trailer lines after the last chunk, up to an empty line.
    Trailers,
}

fn framing(head: &http::Response<()>) -> io::Result<Framing> {
    let status = head.status();
    if status == http::StatusCode::NO_CONTENT || status == http::StatusCode::NOT_MODIFIED {
        return Ok(Framing::Done);
    }
    let headers = head.headers();
    let chunked = headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
    if chunked {
        return Ok(Framing::Chunked(Chunk::Size));
    }
    if headers.contains_key(http::header::TRANSFER_ENCODING) {
        return Ok(Framing::Eof);
    }
    let mut lengths = headers.get_all(http::header::CONTENT_LENGTH).iter();
    match lengths.next() {
        None => Ok(Framing::Eof),
        Some(v) => {
            let n: u64 = v
                .to_str()
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| invalid("invalid Content-Length in the response"))?;
            if lengths.any(|other| other != v) {
                return Err(invalid(
                    "conflicting Content-Length headers in the response",
                ));
            }
            Ok(if n == 0 {
                Framing::Done
            } else {
                Framing::Length(n)
            })
        }
    }
}

/// A plain or TLS connection.
enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The body of a response read by [`Direct`]: each poll reads what the socket has (up to
/// [`MAX_READ_BUFFER`] bytes) and yields the payload bytes of every complete chunk in it at once.
struct H1Body {
    conn: Conn,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    framing: Framing,
    out: BytesMut,
    /// A framing error met after bytes that are still to be delivered.
    failed: Option<io::Error>,
}

/// Decodes the buffered bytes `buf[*start..end]` into `out`, as far as they go, advancing
/// `start` and `framing`.
fn decode_buffered(
    buf: &[u8],
    start: &mut usize,
    end: usize,
    framing: &mut Framing,
    out: &mut BytesMut,
) -> io::Result<()> {
    loop {
        let avail = &buf[*start..end];
        match *framing {
            Framing::Done => return Ok(()),
            Framing::Eof => {
                out.extend_from_slice(avail);
                *start = end;
                return Ok(());
            }
            Framing::Length(left) => {
                let take = (left.min(avail.len() as u64)) as usize;
                out.extend_from_slice(&avail[..take]);
                *start += take;
                *framing = match left - take as u64 {
                    0 => Framing::Done,
                    n => Framing::Length(n),
                };
                return Ok(());
            }
            Framing::Chunked(Chunk::Data(left)) => {
                if avail.is_empty() {
                    return Ok(());
                }
                let take = (left.min(avail.len() as u64)) as usize;
                out.extend_from_slice(&avail[..take]);
                *start += take;
                *framing = Framing::Chunked(match left - take as u64 {
                    0 => Chunk::DataEnd,
                    n => Chunk::Data(n),
                });
            }
            Framing::Chunked(state) => {
                let Some(line_end) = memchr::memchr(b'\n', avail) else {
                    if avail.len() > MAX_CHUNK_LINE {
                        return Err(invalid("a chunk-size line is too long"));
                    }
                    return Ok(());
                };
                let line = &avail[..line_end];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                *framing = Framing::Chunked(match state {
                    Chunk::Size => {
                        let size = line.split(|b| *b == b';').next().unwrap_or_default();
                        let size = std::str::from_utf8(size)
                            .ok()
                            .map(str::trim)
                            .filter(|s| !s.is_empty() && s.len() <= 16)
                            .and_then(|s| u64::from_str_radix(s, 16).ok())
                            .ok_or_else(|| invalid("an invalid chunk size"))?;
                        if size == 0 {
                            Chunk::Trailers
                        } else {
                            Chunk::Data(size)
                        }
                    }
                    Chunk::DataEnd if line.is_empty() => Chunk::Size,
                    Chunk::DataEnd => {
                        return Err(invalid("a chunk's data is not followed by CRLF"))
                    }
                    Chunk::Trailers if line.is_empty() => {
                        *start += line_end + 1;
                        *framing = Framing::Done;
                        return Ok(());
                    }
                    Chunk::Trailers => Chunk::Trailers,
                    Chunk::Data(n) => Chunk::Data(n), // handled by the arm above
                });
                *start += line_end + 1;
            }
        }
    }
}

impl Stream for H1Body {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            let decoded = decode_buffered(
                &this.buf,
                &mut this.start,
                this.end,
                &mut this.framing,
                &mut this.out,
            );
            if let Err(e) = decoded {
                // What was decoded before the fault is delivered first; the error follows.
                this.framing = Framing::Done;
                this.failed = Some(e);
            }
            if this.out.is_empty() {
                if let Some(e) = this.failed.take() {
                    return Poll::Ready(Some(Err(e)));
                }
            }
            if !this.out.is_empty() {
                return Poll::Ready(Some(Ok(this.out.split().freeze())));
            }
            if this.framing == Framing::Done {
                return Poll::Ready(None);
            }
            // Keep what is left (a partial chunk-size line) at the front, read after it.
            if this.start > 0 {
                this.buf.copy_within(this.start..this.end, 0);
                this.end -= this.start;
                this.start = 0;
            }
            if this.end == this.buf.len() {
                // A partial chunk-size line fills the buffer: `decode_buffered` bounds it.
                let grown = (this.buf.len() * 2).min(MAX_READ_BUFFER.max(this.end + 1));
                this.buf.resize(grown, 0);
            }
            let room = this.buf.len() - this.end;
            let mut read = ReadBuf::new(&mut this.buf[this.end..]);
            let result = ready!(Pin::new(&mut this.conn).poll_read(cx, &mut read));
            let n = read.filled().len();
            if n == room && this.buf.len() < MAX_READ_BUFFER {
                let grown = (this.buf.len() * 2).min(MAX_READ_BUFFER);
                this.buf.resize(grown, 0);
            }
            if let Err(e) = result {
                this.framing = Framing::Done;
                return Poll::Ready(Some(Err(e)));
            }
            if n == 0 {
                let ended = this.framing == Framing::Eof;
                this.framing = Framing::Done;
                return Poll::Ready(if ended {
                    None
                } else {
                    Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the connection closed before the response body ended",
                    )))
                });
            }
            this.end += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `wire` fed one byte at a time (a read boundary at every position).
    fn body_of(framing: Framing, wire: &[u8]) -> io::Result<(Vec<u8>, Framing)> {
        let mut all = BytesMut::new();
        let mut state = framing;
        let mut pending: Vec<u8> = Vec::new();
        for byte in wire {
            pending.push(*byte);
            let mut start = 0;
            decode_buffered(&pending, &mut start, pending.len(), &mut state, &mut all)?;
            pending.drain(..start);
        }
        Ok((all.to_vec(), state))
    }

    #[test]
    fn chunked_bodies_at_every_split() {
        let wire = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-trailer: y\r\n\r\n";
        let (body, state) = body_of(Framing::Chunked(Chunk::Size), wire).unwrap();
        assert_eq!(body, b"hello world");
        assert_eq!(state, Framing::Done);
        let (body, state) = body_of(Framing::Chunked(Chunk::Size), b"3\nabc\n0\n\n").unwrap();
        assert_eq!((body.as_slice(), state), (&b"abc"[..], Framing::Done));
    }

    #[test]
    fn bad_chunks_are_errors() {
        for wire in [&b"zz\r\n"[..], b"3\r\nabcX\r\n", b"11111111111111111\r\n"] {
            assert!(
                body_of(Framing::Chunked(Chunk::Size), wire).is_err(),
                "{wire:?}"
            );
        }
        let long = vec![b'1'; MAX_CHUNK_LINE + 2];
        assert!(body_of(Framing::Chunked(Chunk::Size), &long).is_err());
    }

    #[test]
    fn length_and_eof_bodies() {
        let (body, state) = body_of(Framing::Length(3), b"abcdef").unwrap();
        assert_eq!((body.as_slice(), state), (&b"abc"[..], Framing::Done));
        let (body, state) = body_of(Framing::Eof, b"abcdef").unwrap();
        assert_eq!((body.as_slice(), state), (&b"abcdef"[..], Framing::Eof));
    }

    #[test]
    fn heads_and_framing() {
        let wire = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\nrest";
        let (head, len) = parse_head(wire).unwrap().unwrap();
        assert_eq!(&wire[len..], b"rest");
        assert_eq!(framing(&head).unwrap(), Framing::Chunked(Chunk::Size));
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-ty")
            .unwrap()
            .is_none());
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
        let (head, _) =
            parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\ncontent-length: 5\r\n\r\n")
                .unwrap()
                .unwrap();
        assert!(framing(&head).is_err());
        let (head, _) = parse_head(b"HTTP/1.1 200 OK\r\n\r\n").unwrap().unwrap();
        assert_eq!(framing(&head).unwrap(), Framing::Eof);
    }
}
