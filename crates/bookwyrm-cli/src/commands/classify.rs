//! `bookwyrm classify`.

use bookwyrm::{ClassifyRequest, ClassifyStreamEvent};
use clap::{ArgGroup, Args};
use serde_json::json;

use super::drive;
use crate::error::CliError;
use crate::input::{download, file_name, path_or_url, read_bytes, url_file_name, Input};
use crate::output::{clip, table};
use crate::Ctx;

/// Classify a file.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").multiple(true).args(["input", "url", "file"])))]
#[command(allow_negative_numbers = true)]
pub struct ClassifyArgs {
    /// The file, or `-` for stdin.
    input: Option<String>,
    /// Download the file from this URL first.
    #[arg(long)]
    url: Option<String>,
    /// The file (same as the positional argument).
    #[arg(long)]
    file: Option<String>,
    /// A filename hint for the server (default: the file's name).
    #[arg(long)]
    filename: Option<String>,
}

pub async fn run(a: ClassifyArgs, ctx: &mut Ctx) -> Result<(), CliError> {
    // Local problems (a missing file) come before credentials; a download after them.
    let (bytes, hint, client) =
        match path_or_url(a.input.as_deref(), a.file.as_deref(), a.url.as_deref())? {
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
    let mut result = None;
    drive(stream, ctx, &progress, |event, _| {
        match event {
            ClassifyStreamEvent::Progress(p) => progress.update(
                p.bytes_processed,
                Some(bytes.len() as u64),
                p.message.as_deref().unwrap_or("Analysing"),
            ),
            ClassifyStreamEvent::Classification(c) => result = Some(c.clone()),
            _ => {}
        }
        Ok(())
    })
    .await?;
    progress.finish();
    let Some(c) = result else {
        return Err(CliError::failed("the server sent no classification"));
    };
    if let Some(f) = file {
        let document = json!({
            "classification": c.classification,
            "file_size": c.file_size,
            "sample_preview": c.sample_preview,
            "source": {
                "file": a.input.as_deref().or(a.file.as_deref()),
                "url": a.url,
                "filename_hint": a.filename.or(hint),
            },
        });
        let path = f.json_document(&document)?;
        ctx.note(format!("Classification written to {}", path.display()));
    }
    if ctx.human() {
        let k = &c.classification;
        let mut rows = vec![
            vec!["Format type".to_string(), k.format_type.clone()],
            vec!["Content type".to_string(), k.content_type.clone()],
            vec!["MIME type".to_string(), k.mime_type.clone()],
            vec![
                "Confidence".to_string(),
                format!("{:.0}%", k.confidence * 100.0),
            ],
            vec!["File size".to_string(), format!("{} bytes", c.file_size)],
        ];
        if !k.classification_methods.is_empty() {
            rows.push(vec![
                "Methods".to_string(),
                k.classification_methods.join(", "),
            ]);
        }
        if let Some(p) = &c.sample_preview {
            rows.push(vec!["Preview".to_string(), clip(p, 80)]);
        }
        for (key, value) in &k.details {
            let shown = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            rows.push(vec![format!("  {key}"), clip(&shown, 80)]);
        }
        for line in table(&["Field", "Value"], &rows) {
            ctx.out.line(line)?;
        }
    }
    Ok(())
}
