//! The emulator's own PDF repairs on any bytes after a `%PDF-` header: a rebuilt
//! cross-reference table (or an error message), stream lengths measured, never a panic; each
//! entry of a rebuilt table points at the object it names. (The third-party interpreter behind
//! them runs under `catch_unwind` in `Pdf::load`; libFuzzer would abort on its caught panics,
//! so it is not driven here.)
#![no_main]

use bookwyrm_emulator::algo::{pdf_repair, pdf_xref};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"%PDF-1.4\n".to_vec();
    bytes.extend_from_slice(data);
    let _ = pdf_repair::fix_stream_lengths(&bytes);
    let Ok(rebuilt) = pdf_xref::rebuild(&bytes) else {
        return;
    };
    assert!(rebuilt.starts_with(&bytes));
    let tail = std::str::from_utf8(&rebuilt[bytes.len()..]).expect("an ASCII table");
    // After the end of line added when the file had none.
    let tail = tail.strip_prefix('\n').unwrap_or(tail);
    let mut number = 0u64;
    for line in tail.lines().skip(3).take_while(|l| *l != "trailer") {
        let words: Vec<&str> = line.split(' ').collect();
        if words.len() == 2 {
            number = words[0].parse().expect("a subsection's first number");
            continue;
        }
        let offset: usize = words[0].parse().expect("an offset");
        let digits: String = bytes[offset..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|&b| char::from(b))
            .collect();
        assert_eq!(digits.parse::<u64>().ok(), Some(number), "{tail}");
        number += 1;
    }
});
