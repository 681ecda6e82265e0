//! `bookwyrm extract-pdf`, `pdf-to-text` and `pdf-query-range`.

use std::path::{Path, PathBuf};

use bookwyrm::pdf_text::PdfTextMapping;
use bookwyrm::types::PdfPage;
use bookwyrm::{PdfExtractRequest, PdfPages, PdfStreamEvent};
use clap::Args;
use serde_json::json;

use super::drive;
use crate::error::CliError;
use crate::input::{file_name, read_bytes, read_text, url_file_name, Input, SourceArgs};
use crate::output::{clip, Clip, OutputFile, Table};
use crate::Ctx;

/// Extract a PDF's structure.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
#[command(mut_arg("input", |a| a.help("The PDF file, or `-` for stdin")))]
#[command(mut_arg("url", |a| a.help("A URL the server fetches the PDF from")))]
#[command(mut_arg("file", |a| a.help("The PDF file (same as the positional argument)")))]
pub struct ExtractPdfArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// First page to extract (1-based).
    #[arg(long, value_parser = super::at_least(1))]
    start_page: Option<u64>,
    /// Number of pages to extract (1 or more).
    #[arg(long, value_parser = super::at_least(1))]
    num_pages: Option<u64>,
    /// OCR language.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Detect layout regions (implies --force-ocr).
    #[arg(long)]
    layout: bool,
    /// OCR every page.
    #[arg(long)]
    force_ocr: bool,
}

/// Where `extract-pdf` writes its JSON when no `-o` is given: `<stem>_extracted.json`, with the
/// page range when one was asked for.
fn default_output(source: &str, start: Option<u64>, num: Option<u64>) -> PathBuf {
    let stem = Path::new(source.split(['?', '#']).next().unwrap_or(source))
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty() && s != "-")
        .unwrap_or_else(|| "pdf_extract".into());
    let range = match (start, num) {
        (None, None) => String::new(),
        (s, Some(n)) => {
            let s = s.unwrap_or(1);
            format!("_pages_{s}-{}", s + n - 1)
        }
        (Some(s), None) => format!("_pages_{s}"),
    };
    PathBuf::from(format!("{stem}{range}_extracted.json"))
}

pub async fn extract(a: ExtractPdfArgs, ctx: &mut Ctx) -> Result<(), CliError> {
    let (source, mut request) = match a.source.path_or_url()? {
        Input::Path(path) => {
            let mut r = PdfExtractRequest::from_bytes(read_bytes(path)?);
            if let Some(name) = file_name(path) {
                r = r.filename(name);
            }
            (path.to_string(), r)
        }
        Input::Url(url) => (url.to_string(), PdfExtractRequest::from_url(url)),
    };
    // Local problems (a missing file) come before credentials.
    let client = ctx.client()?;
    request = request
        .lang(&a.lang)
        .layout_detection(a.layout)
        .force_ocr(a.force_ocr);
    if let Some(s) = a.start_page {
        request = request.start_page(s);
    }
    if let Some(n) = a.num_pages {
        request = request.num_pages(n);
    }
    let file = match ctx.output_file()? {
        Some(f) => Some(f),
        None if !ctx.global.json => {
            let name = a
                .source
                .url
                .as_deref()
                .and_then(url_file_name)
                .unwrap_or(source.clone());
            Some(OutputFile::create(
                &default_output(&name, a.start_page, a.num_pages),
                false,
            )?)
        }
        None => None,
    };
    let progress = ctx.progress("Extracting");
    let stream = client.stream_extract_pdf(request).await?;
    let result = drive(stream, PdfPages::default(), ctx, &progress, |event, ctx| {
        match event {
            PdfStreamEvent::Metadata(m) => {
                progress.update(0, Some(m.total_pages), "Extracting pages");
                if ctx.global.verbose > 0 {
                    progress.note(&format!(
                        "Document has {} pages; extracting {} from page {}",
                        m.total_pages_in_document, m.total_pages, m.start_page
                    ));
                }
            }
            PdfStreamEvent::Page(p) => {
                progress.update(
                    p.current_page,
                    Some(p.total_pages),
                    &format!("Page {}", p.document_page),
                );
            }
            PdfStreamEvent::PageError(e) => {
                progress.note(&format!("warning: page {}: {}", e.document_page, e.error));
            }
            PdfStreamEvent::Progress(p) => progress.update(
                p.pages_processed,
                Some(p.total_pages),
                p.message.as_deref().unwrap_or(""),
            ),
            _ => {}
        }
        Ok(())
    })
    .await?;
    progress.finish();
    let pages = result.pages;
    let failed_pages: Vec<u64> = result.page_errors.iter().map(|e| e.document_page).collect();
    if let Some(f) = file {
        let path = f.json_document(&json!({ "pages": pages, "total_pages": pages.len() }))?;
        ctx.note(format!("Pages written to {}", path.display()));
    }
    if ctx.human() {
        let mut table = Table::new(&["Page", "Regions", "Characters", "Text"]);
        for p in &pages {
            let texts: Vec<&str> = p
                .layout_regions
                .iter()
                .filter_map(|r| r.content.text.as_deref())
                .collect();
            let characters: usize = texts.iter().map(|t| t.chars().count()).sum();
            table.row(&[
                &p.page_number,
                &p.layout_regions.len(),
                &characters,
                &Clip(&texts.join(" "), 60),
            ]);
        }
        table.print(&mut ctx.out)?;
        let regions: usize = pages.iter().map(|p| p.layout_regions.len()).sum();
        ctx.out
            .line(format!("{} pages, {regions} regions", pages.len()))?;
    }
    if !failed_pages.is_empty() {
        return Err(CliError::failed(format!(
            "pages that failed: {failed_pages:?}"
        )));
    }
    Ok(())
}

/// Turn an `extract-pdf` file into raw text and a character mapping.
#[derive(Debug, Args)]
pub struct PdfToTextArgs {
    /// The JSON written by `extract-pdf`.
    json_file: String,
    /// Where the character mapping goes (default `<stem>_mapping.json` beside the input); the
    /// raw text goes to -o (default `<stem>_raw.txt` beside the input).
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
}

pub fn to_text(a: PdfToTextArgs, ctx: &mut Ctx) -> Result<(), CliError> {
    let text = read_text(&a.json_file)?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::failed(format!("{}: not JSON: {e}", a.json_file)))?;
    let Some(pages) = value.get("pages") else {
        return Err(CliError::failed(format!(
            "{}: no \"pages\" (is it from extract-pdf?)",
            a.json_file
        )));
    };
    let pages: Vec<PdfPage> = serde_json::from_value(pages.clone())
        .map_err(|e| CliError::failed(format!("{}: the pages do not parse: {e}", a.json_file)))?;
    if pages.is_empty() {
        return Err(CliError::failed(format!("{}: no pages", a.json_file)));
    }
    let mapping = PdfTextMapping::from_pages(&pages, Some(a.json_file.clone()));
    let input = Path::new(&a.json_file);
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pdf".into());
    let dir = input.parent().unwrap_or(Path::new(""));
    let raw_path = ctx
        .global
        .output
        .clone()
        .unwrap_or_else(|| dir.join(format!("{stem}_raw.txt")));
    let map_path = a
        .mapping
        .clone()
        .unwrap_or_else(|| dir.join(format!("{stem}_mapping.json")));
    let raw_path = OutputFile::create(&raw_path, ctx.global.append)?.text(&mapping.raw_text)?;
    let map_path = OutputFile::create(&map_path, false)?.json_document(&mapping)?;
    let summary = json!({
        "raw_text_file": raw_path,
        "mapping_file": map_path,
        "total_characters": mapping.total_characters,
        "total_pages": mapping.total_pages,
    });
    if ctx.global.json {
        ctx.out.json_document(&summary)?;
    } else {
        ctx.out.line(format!(
            "{} characters from {} pages\nraw text: {}\nmapping:  {}",
            mapping.total_characters,
            mapping.total_pages,
            raw_path.display(),
            map_path.display()
        ))?;
    }
    Ok(())
}

/// Look up a character range in a mapping.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The mapping written by `pdf-to-text`.
    mapping_file: String,
    /// First character (0-based, in Unicode code points).
    start_char: u64,
    /// After the last character (exclusive).
    end_char: u64,
}

pub fn query(a: QueryArgs, ctx: &mut Ctx) -> Result<(), CliError> {
    let text = read_text(&a.mapping_file)?;
    let mapping: PdfTextMapping = serde_json::from_str(&text).map_err(|e| {
        CliError::failed(format!(
            "{}: not a mapping from pdf-to-text: {e}",
            a.mapping_file
        ))
    })?;
    let q = mapping
        .query(a.start_char, a.end_char)
        .map_err(|e| CliError::usage(crate::error::validation_message(&e)))?;
    if let Some(asked) = q.requested_end_char {
        ctx.note(format!(
            "note: end_char {asked} is beyond the text; using {}",
            q.end_char
        ));
    }
    let document = json!({
        "query": {
            "start_char": q.start_char,
            "end_char": q.end_char,
            "character_count": q.character_count,
            "source_file": a.mapping_file,
        },
        "results": {
            "pages": q.pages,
            "pages_spanned": q.pages.len(),
            "sample_text": q.sample_text,
            "bounding_boxes_by_page": q.bounding_boxes,
        },
        "metadata": {
            "source_mapping": {
                "total_characters": mapping.total_characters,
                "total_pages": mapping.total_pages,
                "source_file": mapping.source_file,
            }
        }
    });
    if let Some(f) = ctx.output_file()? {
        let path = f.json_document(&document)?;
        ctx.note(format!("Query written to {}", path.display()));
    }
    if ctx.global.json {
        return ctx.out.json_document(&document);
    }
    ctx.out
        .line(format!("Text: {:?}", clip(&q.sample_text, 100)))?;
    let mut table = Table::new(&[
        "Page",
        "Characters",
        "Char range",
        "Box (x1, y1) - (x2, y2)",
        "Confidence",
    ]);
    for (page, boxes) in &q.bounding_boxes {
        let (x1, y1, x2, y2) = boxes
            .iter()
            .fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |a, b| {
                (a.0.min(b.x1), a.1.min(b.y1), a.2.max(b.x2), a.3.max(b.y2))
            });
        let first = boxes.first().map_or(0, |b| b.char_index);
        let last = boxes.last().map_or(0, |b| b.char_index);
        let conf = boxes.iter().map(|b| b.confidence).sum::<f64>() / boxes.len().max(1) as f64;
        table.row(&[
            page,
            &boxes.len(),
            &format_args!("{first}-{last}"),
            &format_args!("({x1:.1}, {y1:.1}) - ({x2:.1}, {y2:.1})"),
            &format_args!("{conf:.2}"),
        ]);
    }
    table.print(&mut ctx.out)?;
    Ok(())
}
