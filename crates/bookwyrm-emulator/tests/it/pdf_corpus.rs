//! Broken-but-readable PDFs, written by hand, as mainstream readers (pdf.js, PyMuPDF, pdfium,
//! poppler) open them: each yields its text. Truly corrupt input is an error, never a panic,
//! and over HTTP never a 5xx.

use bookwyrm_emulator::algo::pdf::Pdf;

const HELLO: &str = "BT /F1 24 Tf 72 720 Td (Hello World) Tj ET";

/// One indirect object.
fn obj(n: u32, body: &str) -> String {
    format!("{n} 0 obj\n{body}\nendobj\n")
}

fn stream(n: u32, length: Option<usize>, content: &str) -> String {
    let dict = match length {
        Some(l) => format!("<< /Length {l} >>"),
        None => "<< >>".to_string(),
    };
    format!("{n} 0 obj\n{dict}\nstream\n{content}\nendstream\nendobj\n")
}

/// Catalog, page tree and one page (no /Resources) whose content is object 4.
fn skeleton() -> Vec<String> {
    vec![
        obj(1, "<< /Type /Catalog /Pages 2 0 R >>"),
        obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        obj(
            3,
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        ),
    ]
}

/// A file of `objects`, with an xref table (`Some(true)`: correct offsets, `Some(false)`:
/// wrong ones, `None`: none), a trailer when asked, and `%%EOF` when asked.
fn file(objects: &[String], xref: Option<bool>, trailer: bool, eof: bool) -> Vec<u8> {
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for o in objects {
        offsets.push(out.len());
        out.push_str(o);
    }
    let xref_at = out.len();
    if let Some(right) = xref {
        out.push_str(&format!(
            "xref\n0 {}\n0000000000 65535 f \n",
            objects.len() + 1
        ));
        for (i, off) in offsets.iter().enumerate() {
            let off = if right { *off } else { 7 + i * 13 };
            out.push_str(&format!("{off:010} 00000 n \n"));
        }
    }
    if trailer {
        out.push_str(&format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\n",
            objects.len() + 1
        ));
        let start = if xref == Some(true) { xref_at } else { 4321 };
        out.push_str(&format!("startxref\n{start}\n"));
    }
    if eof {
        out.push_str("%%EOF\n");
    }
    out.into_bytes()
}

fn hello_objects() -> Vec<String> {
    let mut o = skeleton();
    o.push(stream(4, Some(HELLO.len()), HELLO));
    o
}

/// An original file and two incremental updates, each replacing the page's content.
fn two_updates() -> Vec<u8> {
    let mut out = file(&hello_objects(), Some(true), true, true);
    let mut prev = find_last(&out, b"xref\n");
    for text in ["Hello Again", "Hello Final"] {
        let content = format!("BT /F1 24 Tf 72 720 Td ({text}) Tj ET");
        let at = out.len();
        out.extend_from_slice(stream(4, Some(content.len()), &content).as_bytes());
        let xref_at = out.len();
        out.extend_from_slice(
            format!(
                "xref\n4 1\n{at:010} 00000 n \ntrailer\n<< /Size 5 /Root 1 0 R /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n"
            )
            .as_bytes(),
        );
        prev = xref_at;
    }
    out
}

fn find_last(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .rposition(|w| w == needle)
        .expect("present")
}

/// PDF 1.5: catalog, pages and page inside an (uncompressed) object stream, found through a
/// cross-reference stream.
fn object_stream() -> Vec<u8> {
    let inner = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
    ];
    let mut body = String::new();
    let mut index = String::new();
    for (i, o) in inner.iter().enumerate() {
        index.push_str(&format!("{} {} ", i + 1, body.len()));
        body.push_str(o);
        body.push('\n');
    }
    let data = format!("{index}\n{body}");
    let first = index.len() + 1;
    let mut out = b"%PDF-1.5\n".to_vec();
    let content_at = out.len();
    out.extend_from_slice(stream(4, Some(HELLO.len()), HELLO).as_bytes());
    let objstm_at = out.len();
    out.extend_from_slice(
        format!(
            "5 0 obj\n<< /Type /ObjStm /N 3 /First {first} /Length {} >>\nstream\n{data}\nendstream\nendobj\n",
            data.len()
        )
        .as_bytes(),
    );
    let xref_at = out.len();
    // Entries of /W [1 4 2]: type, offset or object stream, generation or index.
    let mut entries: Vec<u8> = Vec::new();
    let mut entry = |kind: u8, field: u32, second: u16| {
        entries.push(kind);
        entries.extend_from_slice(&field.to_be_bytes());
        entries.extend_from_slice(&second.to_be_bytes());
    };
    entry(0, 0, 65535);
    for i in 0..3 {
        entry(2, 5, i);
    }
    entry(1, content_at as u32, 0);
    entry(1, objstm_at as u32, 0);
    entry(1, xref_at as u32, 0);
    out.extend_from_slice(
        format!(
            "6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length {} >>\nstream\n",
            entries.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&entries);
    out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
    out
}

/// The file with its `startxref` pointing at byte 1: the cross-reference data is not found.
fn wrong_startxref(mut bytes: Vec<u8>) -> Vec<u8> {
    let at = bytes
        .windows(10)
        .rposition(|w| w == b"startxref\n")
        .unwrap()
        + 10;
    let end = at + bytes[at..].iter().position(|b| *b == b'\n').unwrap();
    bytes.splice(at..end, *b"1");
    bytes
}

fn text_of(bytes: &[u8]) -> Result<String, String> {
    let pdf = Pdf::load(bytes)?;
    let page = pdf.lines(1)?;
    Ok(page
        .lines
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n"))
}

fn readable() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut wrong_length = skeleton();
    wrong_length.push(stream(4, Some(7), HELLO));
    let mut no_length = skeleton();
    no_length.push(stream(4, None, HELLO));
    vec![
        (
            "no /Resources, good xref",
            file(&hello_objects(), Some(true), true, true),
            "Hello World",
        ),
        (
            "wrong xref offsets and startxref",
            file(&hello_objects(), Some(false), true, true),
            "Hello World",
        ),
        (
            "no xref table",
            file(&hello_objects(), None, true, true),
            "Hello World",
        ),
        (
            "no xref, no trailer",
            file(&hello_objects(), None, false, true),
            "Hello World",
        ),
        (
            "no %%EOF",
            file(&hello_objects(), None, true, false),
            "Hello World",
        ),
        (
            "wrong stream /Length",
            file(&wrong_length, None, true, true),
            "Hello World",
        ),
        (
            "no stream /Length",
            file(&no_length, None, true, true),
            "Hello World",
        ),
        ("two incremental updates", two_updates(), "Hello Final"),
        (
            "object stream and xref stream",
            object_stream(),
            "Hello World",
        ),
        (
            "object stream, wrong startxref",
            wrong_startxref(object_stream()),
            "Hello World",
        ),
    ]
}

#[test]
fn broken_but_readable_pdfs_yield_their_text() {
    for (name, bytes, want) in readable() {
        match text_of(&bytes) {
            Ok(text) => assert_eq!(text, want, "{name}"),
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

#[test]
fn truly_corrupt_pdfs_are_errors() {
    let random: Vec<u8> = b"%PDF-1.7\n"
        .iter()
        .copied()
        .chain((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8))
        .collect();
    let full = file(&hello_objects(), Some(true), true, true);
    let truncated = full[..full.len() / 3].to_vec(); // the catalog only: no page object
    let no_pages = file(&skeleton()[..1], None, true, true);
    for (name, bytes) in [
        ("random bytes", random),
        ("truncated", truncated),
        ("no page", no_pages),
    ] {
        let result = std::panic::catch_unwind(|| text_of(&bytes));
        match result {
            Ok(Err(_)) => {}
            Ok(Ok(text)) => panic!("{name}: read as {text:?}"),
            Err(_) => panic!("{name}: panicked"),
        }
    }
}

/// Over HTTP: every readable one is a page with its text; a corrupt one is the stream's typed
/// `error` event, never a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_extracts_them_over_http() {
    let emu = bookwyrm_emulator::Emulator::builder()
        .start()
        .await
        .unwrap();
    let client = bookwyrm::AsyncBookWyrmClient::builder()
        .base_url(emu.base_url())
        .build()
        .unwrap();
    for (name, bytes, want) in readable() {
        let result = client
            .extract_pdf(bookwyrm::PdfExtractRequest::from_bytes(bytes))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let text: Vec<String> = result.pages[0]
            .layout_regions
            .iter()
            .filter_map(|r| r.content.text.clone())
            .collect();
        assert_eq!(text.join("\n"), want, "{name}");
    }
    let random: Vec<u8> = b"%PDF-1.7\n"
        .iter()
        .copied()
        .chain((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8))
        .collect();
    let err = client
        .extract_pdf(bookwyrm::PdfExtractRequest::from_bytes(random))
        .await
        .unwrap_err();
    assert!(
        matches!(err, bookwyrm::BookWyrmClientError::ServerEvent(_)),
        "{err:?}"
    );
}
