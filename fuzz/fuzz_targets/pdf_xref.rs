//! The PDF reader on damaged files: any bytes after a `%PDF-` header give a document or an
//! error message, never a panic; and a rebuilt cross-reference table points at objects.
#![no_main]

use bookwyrm_emulator::algo::{pdf::Pdf, pdf_xref};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"%PDF-1.4\n".to_vec();
    bytes.extend_from_slice(data);
    if let Ok(rebuilt) = pdf_xref::rebuild(&bytes) {
        // The new table's first entry after the free head is where an object starts.
        assert!(rebuilt.starts_with(&bytes));
        let tail = std::str::from_utf8(&rebuilt[bytes.len()..]).expect("ASCII table");
        if let Some(offset) = tail.lines().nth(4).and_then(|l| l.get(..10)) {
            let offset: usize = offset.parse().expect("an offset");
            assert!(bytes[offset].is_ascii_digit(), "{tail}");
        }
    }
    if let Ok(pdf) = Pdf::load(&bytes) {
        for page in 1..=pdf.page_count().min(3) {
            let _ = pdf.lines(page);
        }
    }
});
