//! Phrasal chunking: sentences, optionally packed into chunks of at most `chunk_size` code
//! points.

use super::text::{sentences, CharCounter, Span};

/// The phrases of `text`, or with `chunk_size` the chunks: consecutive sentences packed while
/// the chunk (from the first sentence's start to the last one's end) stays within `chunk_size`
/// code points; a sentence longer than that is cut at white space (or hard, when a word is
/// longer than the chunk).
///
/// ```
/// use bookwyrm_emulator::algo::phrasal::phrases;
/// let text = "One two. Three four. Five six.";
/// let chunks = phrases(text, Some(20));
/// assert_eq!(chunks.len(), 2);
/// assert_eq!(chunks[0].text(text), "One two. Three four.");
/// ```
pub fn phrases(text: &str, chunk_size: Option<usize>) -> Vec<Span> {
    let spans = sentences(text);
    let Some(limit) = chunk_size.filter(|&n| n > 0) else {
        return spans;
    };
    let mut pieces = Vec::with_capacity(spans.len());
    for s in spans {
        if s.len_chars() <= limit {
            pieces.push(s);
        } else {
            split_long(text, s, limit, &mut pieces);
        }
    }
    let mut out: Vec<Span> = Vec::new();
    for p in pieces {
        match out.last_mut() {
            Some(cur) if p.end_char - cur.start_char <= limit => {
                cur.end_char = p.end_char;
                cur.end_byte = p.end_byte;
            }
            _ => out.push(p),
        }
    }
    out
}

/// Cuts one long sentence into pieces of at most `limit` code points.
fn split_long(text: &str, span: Span, limit: usize, out: &mut Vec<Span>) {
    let slice = span.text(text);
    let mut counter = CharCounter::new(slice);
    let chars: Vec<(usize, char)> = slice.char_indices().collect();
    let mut start = 0usize; // index into chars
    while start < chars.len() {
        let hard_end = (start + limit).min(chars.len());
        let mut end = hard_end;
        if hard_end < chars.len() {
            // Prefer the last white space inside the window.
            if let Some(ws) = (start + 1..hard_end)
                .rev()
                .find(|&i| chars[i].1.is_whitespace())
            {
                end = ws;
            }
        }
        // Trim white space at both ends of the piece.
        let mut s = start;
        while s < end && chars[s].1.is_whitespace() {
            s += 1;
        }
        let mut e = end;
        while e > s && chars[e - 1].1.is_whitespace() {
            e -= 1;
        }
        if s < e {
            let sb = chars[s].0;
            let eb = if e < chars.len() {
                chars[e].0
            } else {
                slice.len()
            };
            out.push(Span {
                start_char: span.start_char + counter.at(sb),
                end_char: span.start_char + counter.at(eb),
                start_byte: span.start_byte + sb,
                end_byte: span.start_byte + eb,
            });
        }
        start = end.max(start + 1);
    }
}
