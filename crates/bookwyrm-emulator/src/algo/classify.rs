//! File classification: magic bytes (the `file-format` detector) plus text heuristics and the
//! filename's extension.

use file_format::{FileFormat, Kind};
use serde_json::{json, Map, Value};

/// What a file is.
///
/// ```
/// let c = bookwyrm_emulator::algo::classify::classify(b"%PDF-1.4", Some("a.pdf"));
/// assert_eq!(c.mime_type, "application/pdf");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// Broad format: `text`, `pdf`, `image`, `audio`, `video`, `archive`, `document`,
    /// `executable`, `font`, `binary`.
    pub format_type: String,
    /// What the content is, e.g. `python_code`, `json_data`, `pdf_document`.
    pub content_type: String,
    /// MIME type.
    pub mime_type: String,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// Detector details.
    pub details: Map<String, Value>,
    /// Methods that contributed.
    pub methods: Vec<String>,
    /// The first 200 characters, for text.
    pub preview: Option<String>,
}

/// Classifies `bytes`, with an optional filename hint.
///
/// ```
/// use bookwyrm_emulator::algo::classify::classify;
/// assert_eq!(classify(b"%PDF-1.7\n...", None).content_type, "pdf_document");
/// assert_eq!(classify(b"{\"a\": [1, 2]}", None).content_type, "json_data");
/// assert_eq!(classify(b"def f(x):\n    return x\n", Some("f.py")).content_type, "python_code");
/// ```
pub fn classify(bytes: &[u8], filename: Option<&str>) -> Classification {
    let ext = filename
        .and_then(|f| f.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    let format = FileFormat::from_bytes(bytes);
    let text = std::str::from_utf8(bytes).ok();
    let mut details = Map::new();
    details.insert("is_utf8".into(), json!(text.is_some()));
    if let Some(e) = &ext {
        details.insert("filename_extension".into(), json!(e));
    }

    // Text formats (HTML, XML, JSON, ...) the detector knows go through the text rules, which
    // name them more precisely; so do the generic answers.
    let generic = matches!(
        format,
        FileFormat::ArbitraryBinaryData | FileFormat::PlainText | FileFormat::Empty
    ) || (text.is_some() && matches!(format.kind(), Kind::Other | Kind::Metadata));
    if !generic {
        details.insert("detector".into(), json!("file-format"));
        details.insert("format_name".into(), json!(format.name()));
        details.insert("extension".into(), json!(format.extension()));
        let kind = format.kind();
        let format_type = match kind {
            Kind::Image => "image",
            Kind::Audio => "audio",
            Kind::Video => "video",
            Kind::Archive | Kind::Compressed | Kind::Package => "archive",
            Kind::Executable => "executable",
            Kind::Font => "font",
            Kind::Document | Kind::Spreadsheet | Kind::Presentation | Kind::Ebook => "document",
            _ => "binary",
        };
        let format_type = if format == FileFormat::PortableDocumentFormat {
            "pdf"
        } else {
            format_type
        };
        let content_type = match format {
            FileFormat::PortableDocumentFormat => "pdf_document".to_string(),
            _ => format!(
                "{}_{}",
                format.extension().replace(['-', '.'], "_"),
                format_type
            ),
        };
        return Classification {
            format_type: format_type.into(),
            content_type,
            mime_type: format.media_type().into(),
            confidence: 0.95,
            details,
            methods: vec!["magic_bytes".into()],
            preview: None,
        };
    }

    let Some(text) = text else {
        details.insert("detector".into(), json!("file-format"));
        return Classification {
            format_type: "binary".into(),
            content_type: "binary_data".into(),
            mime_type: "application/octet-stream".into(),
            confidence: if bytes.is_empty() { 0.3 } else { 0.6 },
            details,
            methods: vec!["magic_bytes".into()],
            preview: None,
        };
    };
    details.insert("detector".into(), json!("text-heuristics"));
    let lines: Vec<&str> = text.lines().collect();
    details.insert("line_count".into(), json!(lines.len()));
    details.insert("character_count".into(), json!(text.chars().count()));
    let (content_type, mime, mut confidence) = text_kind(text, &lines);
    let mut methods = vec!["text_heuristics".to_string()];
    let (content_type, mime) = match ext.as_deref().and_then(ext_kind) {
        Some((ct, m)) if content_type == "plain_text" || ct == content_type => {
            confidence = (confidence + 0.15).min(0.98);
            methods.push("filename_extension".into());
            (ct, m)
        }
        _ => (content_type, mime),
    };
    Classification {
        format_type: "text".into(),
        content_type: content_type.into(),
        mime_type: mime.into(),
        confidence,
        details,
        methods,
        preview: Some(text.chars().take(200).collect()),
    }
}

/// The kind of a text, from its content.
fn text_kind(text: &str, lines: &[&str]) -> (&'static str, &'static str, f64) {
    let t = text.trim_start();
    if t.is_empty() {
        return ("plain_text", "text/plain", 0.5);
    }
    if (t.starts_with('{') || t.starts_with('[')) && serde_json::from_str::<Value>(text).is_ok() {
        return ("json_data", "application/json", 0.95);
    }
    let nonblank: Vec<&&str> = lines.iter().filter(|l| !l.trim().is_empty()).collect();
    if nonblank.len() > 1
        && nonblank.iter().all(|l| {
            serde_json::from_str::<Value>(l)
                .map(|v| v.is_object())
                .unwrap_or(false)
        })
    {
        return ("jsonl_data", "application/jsonl", 0.92);
    }
    let lower = t.get(..t.len().min(512)).unwrap_or(t).to_ascii_lowercase();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return ("html_document", "text/html", 0.93);
    }
    if lower.starts_with("<?xml") {
        return ("xml_document", "application/xml", 0.93);
    }
    if t.starts_with("#!") {
        return ("shell_script", "text/x-shellscript", 0.85);
    }
    let count =
        |pat: &dyn Fn(&str) -> bool| nonblank.iter().filter(|l| pat(l.trim_start())).count();
    let n = nonblank.len().max(1) as f64;
    let python = count(&|l| {
        l.starts_with("def ")
            || l.starts_with("import ")
            || l.starts_with("from ")
            || l.starts_with("class ") && l.ends_with(':')
    });
    let rust = count(&|l| {
        l.starts_with("fn ")
            || l.starts_with("pub ")
            || l.starts_with("use ")
            || l.starts_with("let ")
            || l.starts_with("impl ")
    });
    let js = count(&|l| {
        l.starts_with("function ")
            || l.starts_with("const ")
            || l.starts_with("export ")
            || l.contains("=> {")
    });
    let code = [
        (python, "python_code", "text/x-python"),
        (rust, "rust_code", "text/x-rust"),
        (js, "javascript_code", "text/javascript"),
    ];
    if let Some((hits, ct, mime)) = code.iter().copied().max_by_key(|c| c.0)
        && hits >= 1
        && hits as f64 / n >= 0.1
    {
        return (ct, mime, (0.6 + hits as f64 / n).min(0.9));
    }
    let commas: Vec<usize> = nonblank
        .iter()
        .take(50)
        .map(|l| l.matches(',').count())
        .collect();
    if nonblank.len() >= 2 && commas[0] > 0 && commas.iter().all(|&c| c == commas[0]) {
        return ("csv_data", "text/csv", 0.85);
    }
    let md = count(&|l| {
        l.starts_with("# ") || l.starts_with("## ") || l.starts_with("- ") || l.starts_with("```")
    });
    if md >= 1 && md as f64 / n >= 0.05 {
        return ("markdown", "text/markdown", 0.75);
    }
    ("plain_text", "text/plain", 0.7)
}

fn ext_kind(ext: &str) -> Option<(&'static str, &'static str)> {
    Some(match ext {
        "py" => ("python_code", "text/x-python"),
        "rs" => ("rust_code", "text/x-rust"),
        "js" | "mjs" => ("javascript_code", "text/javascript"),
        "json" => ("json_data", "application/json"),
        "jsonl" => ("jsonl_data", "application/jsonl"),
        "csv" => ("csv_data", "text/csv"),
        "md" | "markdown" => ("markdown", "text/markdown"),
        "html" | "htm" => ("html_document", "text/html"),
        "xml" => ("xml_document", "application/xml"),
        "sh" => ("shell_script", "text/x-shellscript"),
        "txt" => ("plain_text", "text/plain"),
        _ => return None,
    })
}
