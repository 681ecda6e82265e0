//! `bookwyrm classify`.

use bookwyrm::{ClassifyRequest, ClassifyStreamEvent};
use clap::Args;
use serde_json::json;

use super::drive;
use crate::error::CliError;
use crate::input::{download, file_name, read_bytes, url_file_name, Input, SourceArgs};
use crate::output::{Clip, Table};
use crate::Ctx;

/// Classify a file.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
#[command(mut_arg("input", |a| a.help("The file, or `-` for stdin")))]
#[command(mut_arg("url", |a| a.help("Download the file from this URL first")))]
pub struct ClassifyArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// A filename hint for the server (default: the file's name).
    #[arg(long)]
    filename: Option<String>,
}

pub async fn run(a: ClassifyArgs, ctx: &mut Ctx) -> Result<(), CliError> {
    // Local problems (a missing file) come before credentials; a download after them.
    let (bytes, hint, client) = match a.source.path_or_url()? {
        Input::Path(path) => {
            let bytes = read_bytes(path)?;
            (bytes, file_name(path), ctx.client()?)
        }
        Input::Url(url) => {
            let client = ctx.client()?;
            ctx.note(format!("Downloading {url}"));
            let bytes = download(url, ctx.global.timeout).await?;
            (bytes, url_file_name(url), client)
        }
    };
    let mut request = ClassifyRequest::from_bytes(bytes.clone());
    if let Some(name) = a.filename.clone().or(hint.clone()) {
        request = request.filename(name);
    }
    let file = ctx.output_file()?;
    let progress = ctx.progress("Classifying");
    let stream = client.stream_classify(request).await?;
    let c = drive(stream, None, ctx, &progress, |event, _| {
        if let ClassifyStreamEvent::Progress(p) = event {
            progress.update(
                p.bytes_processed,
                Some(bytes.len() as u64),
                p.message.as_deref().unwrap_or("Analysing"),
            );
        }
        Ok(())
    })
    .await?;
    progress.finish();
    if let Some(f) = file {
        let document = json!({
            "classification": c.classification,
            "file_size": c.file_size,
            "sample_preview": c.sample_preview,
            "source": {
                "file": a.source.input.as_deref().or(a.source.file.as_deref()),
                "url": a.source.url,
                "filename_hint": a.filename.or(hint),
            },
        });
        let path = f.json_document(&document)?;
        ctx.note(format!("Classification written to {}", path.display()));
    }
    if ctx.human() {
        let k = &c.classification;
        let mut table = Table::new(&["Field", "Value"]);
        table.row(&[&"Format type", &k.format_type]);
        table.row(&[&"Content type", &k.content_type]);
        table.row(&[&"MIME type", &k.mime_type]);
        table.row(&[&"Confidence", &format_args!("{:.0}%", k.confidence * 100.0)]);
        table.row(&[&"File size", &format_args!("{} bytes", c.file_size)]);
        if !k.classification_methods.is_empty() {
            table.row(&[&"Methods", &k.classification_methods.join(", ")]);
        }
        if let Some(p) = &c.sample_preview {
            table.row(&[&"Preview", &Clip(p, 80)]);
        }
        for (key, value) in &k.details {
            let json;
            let shown = match value {
                serde_json::Value::String(s) => s.as_str(),
                other => {
                    json = other.to_string();
                    &json
                }
            };
            table.row(&[&format_args!("  {key}"), &Clip(shown, 80)]);
        }
        table.print(&mut ctx.out)?;
    }
    Ok(())
}
