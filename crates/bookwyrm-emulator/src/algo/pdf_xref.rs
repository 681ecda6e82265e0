//! A new cross-reference table for a PDF whose table or trailer is wrong or missing, as
//! mainstream readers rebuild it: every `N G obj` in the file (the last definition of a number
//! wins, as in an incremental update; stream data is skipped), the catalog from the trailer's
//! (or a cross-reference stream's) `/Root` when that object exists (or may be inside an object
//! stream), else the object whose type is `/Catalog`. The table and a trailer pointing at it
//! are appended to the file, so that lopdf, which reads the last `startxref`, reads them; the
//! objects stay where they were.

use std::collections::BTreeMap;

use memchr::memmem;

/// Object number and generation.
type Id = (u32, u16);

/// The file with a new cross-reference table and trailer after it, or why none can be made.
///
/// ```
/// use bookwyrm_emulator::algo::pdf_xref::rebuild;
/// assert!(rebuild(b"%PDF-1.4 nothing else").is_err());
/// let fixed = rebuild(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n").unwrap();
/// assert!(fixed.ends_with(b"trailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n45\n%%EOF\n"));
/// ```
pub fn rebuild(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let objects = objects(bytes);
    // An object inside an object stream has no header of its own: lopdf finds it when it
    // reads the stream, so a `/Root` may name it when the file has one.
    let compressed = memmem::find(bytes, b"/ObjStm").is_some();
    let root = last_reference(bytes, b"/Root")
        .filter(|id| compressed || objects.get(&id.0).is_some_and(|(g, _)| *g == id.1))
        .or_else(|| catalog(bytes, &objects))
        .ok_or("the PDF could not be recovered: no catalog object")?;
    let mut out = bytes.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let xref_at = out.len();
    out.extend_from_slice(b"xref\n0 1\n0000000000 65535 f \n");
    // One subsection per run of consecutive numbers: a stray high number costs one line.
    let mut previous: Option<u32> = None;
    for (&n, &(g, offset)) in &objects {
        if previous.is_none_or(|p| p + 1 != n) {
            let len = (n..).take_while(|k| objects.contains_key(k)).count();
            out.extend_from_slice(format!("{n} {len}\n").as_bytes());
        }
        previous = Some(n);
        out.extend_from_slice(format!("{offset:010} {g:05} n \n").as_bytes());
    }
    let size = objects.keys().next_back().map_or(1, |n| n + 1);
    let mut trailer = format!("trailer\n<< /Size {size} /Root {} {} R", root.0, root.1);
    if let Some(e) = last_reference(bytes, b"/Encrypt") {
        // Kept so that an encrypted file is still refused as one.
        trailer.push_str(&format!(" /Encrypt {} {} R", e.0, e.1));
    }
    trailer.push_str(&format!(" >>\nstartxref\n{xref_at}\n%%EOF\n"));
    out.extend_from_slice(trailer.as_bytes());
    Ok(out)
}

/// Every object's number, generation and offset (of its number), the last definition of a
/// number winning; the data of streams is not searched.
fn objects(bytes: &[u8]) -> BTreeMap<u32, (u16, usize)> {
    let mut found = BTreeMap::new();
    let (obj, endobj, stream) = (
        memmem::Finder::new(b"obj"),
        memmem::Finder::new(b"endobj"),
        memmem::Finder::new(b"stream"),
    );
    let mut pos = 0;
    while let Some(rel) = obj.find(&bytes[pos..]) {
        let at = pos + rel;
        pos = at + 3;
        let Some((id, start)) = header_before(bytes, at) else {
            continue;
        };
        found.insert(id.0, (id.1, start));
        // A stream's data may hold anything: go on after its `endstream`.
        let body = &bytes[pos..];
        let end = endobj.find(body).unwrap_or(body.len());
        if let Some(s) = stream.find(&body[..end]) {
            let data = pos + s + 6;
            pos = memmem::find(&bytes[data..], b"endstream").map_or(bytes.len(), |e| data + e + 9);
        }
    }
    found
}

/// `N G ` right before the `obj` at `at` (and `obj` is a whole word): the id and where `N`
/// starts.
fn header_before(bytes: &[u8], at: usize) -> Option<(Id, usize)> {
    if bytes.get(at + 3).is_some_and(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let (generation, before_gen) = number_before(bytes, at)?;
    let (number, start) = number_before(bytes, before_gen)?;
    if start > 0 && !is_boundary(bytes[start - 1]) {
        return None;
    }
    // Object 0 is the table's free head; numbers stop at the PDF limit, 8,388,607.
    let number = u32::try_from(number)
        .ok()
        .filter(|n| (1..=8_388_607).contains(n))?;
    Some(((number, u16::try_from(generation).ok()?), start))
}

/// The decimal number that ends (after whitespace) right before `end`, and where it starts.
fn number_before(bytes: &[u8], end: usize) -> Option<(u64, usize)> {
    let mut i = end;
    let spaces = bytes[..i]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    if spaces == 0 {
        return None;
    }
    i -= spaces;
    let digits = bytes[..i]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 10 {
        return None;
    }
    let start = i - digits;
    let n = std::str::from_utf8(&bytes[start..i]).ok()?.parse().ok()?;
    Some((n, start))
}

fn is_boundary(b: u8) -> bool {
    b.is_ascii_whitespace() || b"()<>[]{}/%".contains(&b)
}

/// The reference `N G R` after the last `key` in the file (a trailer's or an xref stream's).
fn last_reference(bytes: &[u8], key: &[u8]) -> Option<Id> {
    let at = memmem::rfind(bytes, key)? + key.len();
    let rest = &bytes[at..bytes.len().min(at + 40)];
    let text = std::str::from_utf8(rest.split(|b| b"/>]".contains(b)).next()?).ok()?;
    let mut words = text.split_ascii_whitespace();
    let id = (words.next()?.parse().ok()?, words.next()?.parse().ok()?);
    (words.next()? == "R").then_some(id)
}

/// The last object whose dictionary says `/Type /Catalog`.
fn catalog(bytes: &[u8], objects: &BTreeMap<u32, (u16, usize)>) -> Option<Id> {
    objects
        .iter()
        .filter(|(_, (_, start))| {
            let body = &bytes[*start..];
            let body = &body[..memmem::find(body, b"endobj").unwrap_or(body.len())];
            memmem::find_iter(body, b"/Type").any(|t| {
                let after = &body[t + 5..];
                let skip = after.iter().take_while(|b| b.is_ascii_whitespace()).count();
                after[skip..].starts_with(b"/Catalog")
            })
        })
        .max_by_key(|(_, (_, start))| *start)
        .map(|(n, (g, _))| (*n, *g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_found_outside_streams_and_the_last_definition_wins() {
        let file = b"%PDF-1.4\n1 0 obj\n<< >>\nstream\n9 0 obj in data\nendstream\nendobj\n\
            2 0 obj [12 0 obj] endobj\n2 1 obj << >> endobj\n40 0 obj 5 endobj\n";
        let found = objects(file);
        let at = |s: &str| {
            file.windows(s.len())
                .position(|w| w == s.as_bytes())
                .unwrap()
        };
        let want = BTreeMap::from([
            (1, (0, at("1 0 obj"))),
            (2, (1, at("2 1 obj"))),
            (12, (0, at("12 0 obj"))),
            (40, (0, at("40 0 obj"))),
        ]);
        assert_eq!(found, want, "9 is inside a stream");
    }

    #[test]
    fn the_table_has_a_line_per_object_in_runs() {
        let file = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n2 0 obj 1 endobj\n\
            7 0 obj 2 endobj\ntrailer << /Root 1 0 R >>\n";
        let out = rebuild(file).unwrap();
        let tail = String::from_utf8(out[file.len()..].to_vec()).unwrap();
        let lines: Vec<&str> = tail.lines().collect();
        assert_eq!(lines[..3], ["xref", "0 1", "0000000000 65535 f "]);
        assert_eq!(lines[3], "1 2");
        assert_eq!(lines[4], format!("{:010} 00000 n ", 9));
        assert_eq!(lines[6], "7 1");
        assert!(tail.contains("<< /Size 8 /Root 1 0 R >>"), "{tail}");
        // A /Root naming no object is not taken: the catalog is found by its type.
        let wrong_root = [&file[..], b"trailer << /Root 5 0 R >>\n"].concat();
        assert!(String::from_utf8(rebuild(&wrong_root).unwrap())
            .unwrap()
            .ends_with(&format!(
                "/Root 1 0 R >>\nstartxref\n{}\n%%EOF\n",
                wrong_root.len()
            )));
    }
}
