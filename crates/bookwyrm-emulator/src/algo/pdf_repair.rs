//! Reading the PDFs mainstream readers read: recovery for files whose cross-reference table or
//! trailer is wrong or missing, and fonts for pages that use one without declaring it.
//!
//! The text interpreter (`pdf-extract`) parses with lopdf, which gives up on a damaged
//! cross-reference table: [`super::pdf_xref`] rebuilds the table from the objects. Streams
//! whose `/Length` is wrong are measured to their `endstream` here, and a page that sets a
//! font with `Tf` but has no `/Resources` (or no such font in them) gets a standard Helvetica,
//! as readers substitute.

use pdf_extract::{content::Content, dictionary, Document, Object, ObjectId};

/// The bytes with every stream's `/Length` set to where its `endstream` is, when a stream has
/// no `/Length` or a direct one that does not end at `endstream` (readers scan to `endstream`
/// too); `None` when every length is right or indirect. Offsets move: the caller recovers the
/// cross-reference table afterwards.
///
/// ```
/// use bookwyrm_emulator::algo::pdf_repair::fix_stream_lengths;
/// let fixed = fix_stream_lengths(b"4 0 obj\n<< >>\nstream\nabc\nendstream\nendobj\n").unwrap();
/// assert!(String::from_utf8(fixed).unwrap().contains("<< /Length 3 >>"));
/// assert!(fix_stream_lengths(b"4 0 obj\n<< /Length 3 >>\nstream\nabc\nendstream\n").is_none());
/// ```
pub fn fix_stream_lengths(bytes: &[u8]) -> Option<Vec<u8>> {
    use memchr::memmem;
    let mut out = Vec::new();
    let mut copied = 0;
    let mut search = 0;
    while let Some(rel) = memmem::find(&bytes[search..], b"stream") {
        let at = search + rel;
        search = at + 6;
        if at >= 3 && &bytes[at - 3..at] == b"end" {
            continue;
        }
        // The keyword is followed by an end of line, then the data.
        let mut data = at + 6;
        if bytes.get(data) == Some(&b'\r') {
            data += 1;
        }
        if bytes.get(data) != Some(&b'\n') && data == at + 6 {
            continue;
        }
        if bytes.get(data) == Some(&b'\n') {
            data += 1;
        }
        let Some(end_rel) = memmem::find(&bytes[data.min(bytes.len())..], b"endstream") else {
            continue;
        };
        search = data + end_rel + 9;
        let mut actual = end_rel;
        if actual > 0 && bytes[data + actual - 1] == b'\n' {
            actual -= 1;
        }
        if actual > 0 && bytes[data + actual - 1] == b'\r' {
            actual -= 1;
        }
        // The stream's dictionary: from its `obj` keyword to `stream`.
        let Some(obj_end) =
            memmem::rfind(&bytes[copied.max(1)..at], b"obj").map(|o| o + copied.max(1) + 3)
        else {
            continue;
        };
        let dict = &bytes[obj_end..at];
        let (Some(open), Some(_)) = (memmem::find(dict, b"<<"), memmem::rfind(dict, b">>")) else {
            continue;
        };
        let new_dict = match memmem::find(dict, b"/Length") {
            Some(l) => {
                let rest = &dict[l + 7..];
                let digits_start = rest
                    .iter()
                    .position(|b| !b.is_ascii_whitespace())
                    .unwrap_or(0);
                let digits_len = rest[digits_start..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let after = &rest[digits_start + digits_len..];
                let trimmed: Vec<u8> = after
                    .iter()
                    .copied()
                    .skip_while(u8::is_ascii_whitespace)
                    .take(3)
                    .collect();
                let indirect = trimmed.first().is_some_and(u8::is_ascii_digit);
                let declared = std::str::from_utf8(&rest[digits_start..digits_start + digits_len])
                    .ok()
                    .and_then(|d| d.parse::<usize>().ok());
                if indirect || declared == Some(actual) {
                    continue;
                }
                let mut d = dict[..l + 7].to_vec();
                d.extend_from_slice(format!(" {actual}").as_bytes());
                d.extend_from_slice(after);
                d
            }
            None => {
                let mut d = dict[..open + 2].to_vec();
                d.extend_from_slice(format!(" /Length {actual}").as_bytes());
                d.extend_from_slice(&dict[open + 2..]);
                d
            }
        };
        out.extend_from_slice(&bytes[copied..obj_end]);
        out.extend_from_slice(&new_dict);
        copied = at;
    }
    if copied == 0 {
        return None;
    }
    out.extend_from_slice(&bytes[copied..]);
    Some(out)
}

/// Gives every page the fonts its content sets with `Tf` but its resources lack.
///
/// ```
/// let mut doc = pdf_extract::Document::with_version("1.4");
/// bookwyrm_emulator::algo::pdf_repair::add_missing_fonts(&mut doc);
/// ```
pub fn add_missing_fonts(doc: &mut Document) {
    let pages: Vec<ObjectId> = doc.get_pages().values().copied().collect();
    let mut helvetica: Option<ObjectId> = None;
    for page in pages {
        let used = fonts_used(doc, page);
        if used.is_empty() {
            continue;
        }
        let declared = declared_fonts(doc, page);
        let missing: Vec<Vec<u8>> = used.into_iter().filter(|f| !declared.contains(f)).collect();
        if missing.is_empty() {
            continue;
        }
        let font = *helvetica.get_or_insert_with(|| {
            doc.add_object(dictionary! {
                "Type" => "Font",
                "Subtype" => "Type1",
                "BaseFont" => "Helvetica",
                "Encoding" => "WinAnsiEncoding",
            })
        });
        // The page gets resources of its own: the inherited ones (if any) plus the fonts.
        let mut resources = inherited_resources(doc, page).unwrap_or_default();
        let mut fonts = match resources.get(b"Font").ok().and_then(|f| resolve(doc, f)) {
            Some(Object::Dictionary(d)) => d.clone(),
            _ => pdf_extract::Dictionary::new(),
        };
        for name in missing {
            fonts.set(name, Object::Reference(font));
        }
        resources.set("Font", Object::Dictionary(fonts));
        if let Ok(Object::Dictionary(page_dict)) = doc.get_object_mut(page) {
            page_dict.set("Resources", Object::Dictionary(resources));
        }
    }
}

/// Font names the page's content sets with `Tf`.
fn fonts_used(doc: &Document, page: ObjectId) -> Vec<Vec<u8>> {
    let Ok(bytes) = doc.get_page_content(page) else {
        return Vec::new();
    };
    let Ok(content) = Content::decode(&bytes) else {
        return Vec::new();
    };
    let mut names: Vec<Vec<u8>> = Vec::new();
    for op in &content.operations {
        if op.operator == "Tf"
            && let Some(Object::Name(name)) = op.operands.first()
            && !names.contains(name)
        {
            names.push(name.clone());
        }
    }
    names
}

/// Font names the page's (possibly inherited) resources declare.
fn declared_fonts(doc: &Document, page: ObjectId) -> Vec<Vec<u8>> {
    let Some(resources) = inherited_resources(doc, page) else {
        return Vec::new();
    };
    match resources.get(b"Font").ok().and_then(|f| resolve(doc, f)) {
        Some(Object::Dictionary(d)) => d.iter().map(|(k, _)| k.clone()).collect(),
        _ => Vec::new(),
    }
}

/// The page's `/Resources`, its own or the nearest ancestor's, resolved.
fn inherited_resources(doc: &Document, page: ObjectId) -> Option<pdf_extract::Dictionary> {
    let mut node = doc.get_dictionary(page).ok()?;
    for _ in 0..64 {
        if let Some(Object::Dictionary(r)) =
            node.get(b"Resources").ok().and_then(|r| resolve(doc, r))
        {
            return Some(r.clone());
        }
        let parent = node.get(b"Parent").ok()?.as_reference().ok()?;
        node = doc.get_dictionary(parent).ok()?;
    }
    None
}

fn resolve<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    match object {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}
