//! Exactness on the wire: every float the server sends decodes to the f64 nearest its decimal
//! text (what Python's `float()` gives), and one serialized request body serves every attempt.

use crate::common;

use bookwyrm::{EventStream, PdfStreamEvent, PhrasalRequest};

/// Deterministic f64s spread over the magnitudes of page coordinates and confidences, printed
/// the way the server's JSON encoder prints them (shortest text that reads back exactly, up to
/// 17 significant digits).
fn floats(n: usize) -> Vec<String> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            let value = match i % 3 {
                0 => unit * 1000.0, // coordinates
                1 => unit,          // confidences
                _ => unit * 1e-3,
            };
            format!("{value:?}")
        })
        .collect()
}

#[tokio::test]
async fn every_float_of_a_pdf_stream_decodes_exactly() {
    let texts = floats(12_000);
    let mut sse = String::new();
    for (page, four) in texts.chunks(4).enumerate() {
        let [x1, y1, x2, y2] = [&four[0], &four[1], &four[2], &four[3]];
        sse.push_str(&format!(
            "event: page\ndata: {{\"total_pages\":1,\"total_pages_in_document\":1,\
             \"current_page\":1,\"document_page\":{page},\"page_data\":{{\"page_number\":{page},\
             \"layout_regions\":[{{\"bbox\":[[{x1},{y1}],[{x2},{y2}]],\
             \"coordinates\":{{\"x1\":{x1},\"y1\":{y1},\"x2\":{x2},\"y2\":{y2}}},\
             \"content\":{{\"content_type\":\"text\",\"text\":\"t\",\"confidence\":{y1}}},\
             \"confidence\":{x2}}}]}}}}\n\n"
        ));
    }
    let bytes = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(sse))]);
    let mut stream = EventStream::<PdfStreamEvent>::from_byte_stream(bytes);
    let exact = |t: &String| t.parse::<f64>().expect("a float");
    let mut checked = 0;
    let mut pages = 0;
    while let Some(event) = stream.next().await {
        let PdfStreamEvent::Page(p) = event.expect("decodes") else {
            panic!("only pages were sent")
        };
        let four = &texts[pages * 4..pages * 4 + 4];
        let region = &p.page_data.layout_regions[0];
        let c = &region.coordinates;
        let got = [c.x1, c.y1, c.x2, c.y2, region.bbox[0][0], region.bbox[1][1]];
        let want = [&four[0], &four[1], &four[2], &four[3], &four[0], &four[3]];
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.to_bits(), exact(w).to_bits(), "{w} decoded as {g:?}");
            checked += 1;
        }
        assert_eq!(
            region.confidence.map(f64::to_bits),
            Some(exact(&four[2]).to_bits())
        );
        pages += 1;
    }
    assert_eq!(pages, 3_000);
    assert_eq!(checked, 18_000);
}

/// A retried stream sends byte-identical bodies on every attempt. (That the body is serialized
/// only once is a property of `ops::call::SharedBody`, not something the server can see.)
#[tokio::test]
async fn every_attempt_of_a_stream_sends_byte_identical_bodies() {
    let emu = common::emulator().await;
    let text = common::story();
    let client = common::faulty(
        &emu,
        "status=503;times=2",
        bookwyrm::RetryPolicy::default().initial_backoff(std::time::Duration::from_millis(10)),
    );
    let mut s = client
        .stream_process_text(PhrasalRequest::from_text(text.clone()).chunk_size(500))
        .await
        .unwrap();
    let mut n = 0;
    while let Some(e) = s.next().await {
        e.unwrap();
        n += 1;
    }
    assert!(n > 10);
    let sent = emu.recorded(false);
    assert_eq!(sent.len(), 3, "two 503s, then the stream");
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(body["text"], text.as_str());
    assert_eq!(body["chunk_size"], 500);
    assert!(sent.iter().all(|r| r.body == sent[0].body));
}
