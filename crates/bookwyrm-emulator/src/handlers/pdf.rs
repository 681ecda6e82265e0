//! `POST /extract-structure/sse` (multipart) and `POST /extract-structure-json/sse`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::Extension;
use bookwyrm::types;
use serde_json::json;

use super::fetch::fetch;
use super::multipart::{file_part, read_parts};
use super::reply::{invalid, parse, Fx, Reply, St};
use crate::algo;
use crate::faults::Fault;
use crate::pdf_cache::CachedPdf;
use crate::sse::{self, SseEvent};
use crate::{bump, AppState};
use axum::extract::Multipart;
use std::time::Instant;

struct PdfOptions {
    start_page: Option<u64>,
    num_pages: Option<u64>,
}

pub(super) async fn pdf_upload(
    State(state): St,
    Extension(fault): Fx,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Reply {
    let parts = tri!(read_parts(multipart).await);
    let mut opts = PdfOptions {
        start_page: None,
        num_pages: None,
    };
    for part in &parts {
        let name = part.name.as_str();
        let text = String::from_utf8_lossy(&part.data).trim().to_string();
        match name {
            "start_page" | "num_pages" => {
                let Some(v) = text.parse::<u64>().ok().filter(|v| *v >= 1) else {
                    return invalid(&["body", name], format!("{name} must be an integer >= 1"));
                };
                if name == "start_page" {
                    opts.start_page = Some(v);
                } else {
                    opts.num_pages = Some(v);
                }
            }
            "enable_layout_detection" | "force_ocr"
                if !matches!(text.as_str(), "true" | "false") =>
            {
                return invalid(&["body", name], format!("{name} must be true or false"));
            }
            _ => {}
        }
    }
    let file = tri!(file_part(&parts));
    pdf_stream(state, fault, file.data.to_vec(), opts)
}

pub(super) async fn pdf_url(State(state): St, Extension(fault): Fx, body: Bytes) -> Reply {
    let req: types::PdfExtractUrlRequest = tri!(parse(&body));
    let bytes = tri!(fetch(&state, "pdf_url", &req.pdf_url).await);
    let opts = PdfOptions {
        start_page: req.start_page.map(|n| n.get()),
        num_pages: req.num_pages.map(|n| n.get()),
    };
    pdf_stream(state, fault, bytes, opts)
}

fn pdf_stream(state: Arc<AppState>, fault: Fault, bytes: Vec<u8>, opts: PdfOptions) -> Reply {
    if !bytes.windows(5).take(1024).any(|w| w == b"%PDF-") {
        return invalid(&["body", "file"], "the file is not a PDF (no %PDF- header)");
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<SseEvent>(1);
    let reader = state.clone();
    tokio::spawn(async move {
        let started = Instant::now();
        let (file, in_doc) = match read(reader, bytes).await {
            Ok(read) => read,
            Err(event) => {
                let _ = tx.send(event).await;
                return;
            }
        };
        let start = opts.start_page.unwrap_or(1) as usize;
        if start > in_doc {
            let msg = format!("start_page {start} is beyond the document's {in_doc} pages");
            let _ = tx.send(pdf_error("invalid_page_range", msg)).await;
            return;
        }
        let count = opts
            .num_pages
            .map_or(usize::MAX, |n| n as usize)
            .min(in_doc - start + 1);
        let metadata = types::PdfMetadataEvent {
            total_pages: count as u64,
            total_pages_in_document: in_doc as u64,
            start_page: start as u64,
            current_page: 0,
        };
        if tx.send(SseEvent::from(metadata)).await.is_err() {
            return;
        }
        for i in 0..count {
            let number = start + i;
            let reader = file.clone();
            let lines = tokio::task::spawn_blocking(move || reader.page(number))
                .await
                .unwrap_or_else(|_| Arc::new(Err(format!("page {number}: the PDF reader failed"))));
            let event = match lines.as_ref() {
                Ok(text) => SseEvent::from(types::PdfPageEvent {
                    total_pages: count as u64,
                    total_pages_in_document: in_doc as u64,
                    current_page: (i + 1) as u64,
                    document_page: number as u64,
                    page_data: page(number, &text.lines),
                }),
                Err(error) => SseEvent::from(types::PdfPageErrorEvent {
                    total_pages: count as u64,
                    total_pages_in_document: in_doc as u64,
                    current_page: (i + 1) as u64,
                    document_page: number as u64,
                    error: error.clone(),
                }),
            };
            let progress = SseEvent::from(types::PdfProgressEvent {
                pages_processed: (i + 1) as u64,
                total_pages: count as u64,
                message: Some(format!("Processed page {number} ({} of {count})", i + 1)),
            });
            if tx.send(event).await.is_err() || tx.send(progress).await.is_err() {
                return;
            }
        }
        let _ = tx
            .send(SseEvent::from(types::PdfCompleteEvent {
                total_pages: count as u64,
                total_pages_in_document: in_doc as u64,
                current_page: count as u64,
                processing_time: Some(started.elapsed().as_secs_f64()),
            }))
            .await;
    });
    let source: sse::EventSource =
        Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    sse::response(state, fault, source)
}

/// The file read (from the emulator's cache when it was sent before) and its page count, or the
/// error event that says why it cannot be read.
async fn read(state: Arc<AppState>, bytes: Vec<u8>) -> Result<(Arc<CachedPdf>, usize), SseEvent> {
    let read = tokio::task::spawn_blocking(move || {
        state.pdfs.read(bytes, || bump(&state.stats.pdfs_parsed))
    });
    let file = read
        .await
        .map_err(|_| pdf_error("internal_error", "the PDF reader failed".into()))?;
    let pages = match file.document() {
        Ok(pdf) => pdf.page_count(),
        Err(msg) => return Err(pdf_error("invalid_pdf", msg.to_string())),
    };
    Ok((file, pages))
}

/// An `error` event that ends a PDF stream.
fn pdf_error(error_type: &str, message: String) -> SseEvent {
    SseEvent::from(types::PdfErrorEvent {
        error_type: Some(error_type.into()),
        message,
        recoverable: false,
    })
}

/// A page of lines as layout regions: one text region per line, larger type labelled `title`.
fn page(number: usize, lines: &[algo::pdf::Line]) -> types::PdfPage {
    let mut sizes: Vec<f64> = lines.iter().map(|l| l.font_size).collect();
    sizes.sort_by(f64::total_cmp);
    let median = sizes.get(sizes.len() / 2).copied().unwrap_or(10.0);
    let regions = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let label = if l.font_size > median * 1.3 {
                "title"
            } else {
                "text"
            };
            let content: types::RegionContent = serde_json::from_value(json!({
                "content_type": "text",
                "label": label,
                "text": l.text,
                "confidence": 1.0,
                "reading_order": i,
                "block_id": i,
            }))
            .expect("a text region matches the contract");
            types::LayoutRegion {
                bbox: vec![
                    vec![l.x1, l.y1],
                    vec![l.x2, l.y1],
                    vec![l.x2, l.y2],
                    vec![l.x1, l.y2],
                ],
                confidence: Some(1.0),
                content,
                coordinates: types::BoundingBox {
                    x1: l.x1,
                    y1: l.y1,
                    x2: l.x2,
                    y2: l.y2,
                },
            }
        })
        .collect();
    types::PdfPage {
        page_number: number as u64,
        layout_regions: regions,
        reading_order: (0..lines.len() as u64).collect(),
        text_blocks: Vec::new(),
    }
}
