//! `bookwyrm summarize`.

use bookwyrm::{SummarizeRequest, SummarizeStreamEvent};
use clap::Args;
use serde_json::json;

use super::{drive, Strength};
use crate::error::CliError;
use crate::input::{parse_spans_of, read_text, Input, SourceArgs};
use crate::output::clip;
use crate::Ctx;

/// Summarize a text or JSONL phrases.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
#[command(mut_arg("input", |a| a.help("JSONL phrases (from `phrasal`) or plain text, `-` for stdin")))]
#[command(mut_arg("url", |a| a.help("A URL the server fetches the text from")))]
#[command(mut_arg("file", |a| a.help("The text or JSONL file (same as the positional argument)")))]
pub struct SummarizeArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Maximum tokens per chunk summarized at once (1 to 131072).
    #[arg(long, default_value_t = 10_000, value_parser = super::between(1, 131_072))]
    max_tokens: u64,
    /// Model strength.
    #[arg(long, value_enum, default_value = "swift")]
    model_strength: Strength,
    /// Include the intermediate summaries of every level.
    #[arg(long)]
    include_debug: bool,
    /// Structured output: a JSON Schema file the summary must follow (with --model-name).
    #[arg(long, value_name = "FILE", requires = "model_name", conflicts_with_all = ["chunk_prompt", "summary_prompt"])]
    schema: Option<String>,
    /// Name of the structured-output model (with --schema).
    #[arg(long, value_name = "NAME", requires = "schema")]
    model_name: Option<String>,
    /// Custom prompt for each chunk (with --summary-prompt).
    #[arg(long, value_name = "PROMPT", requires = "summary_prompt")]
    chunk_prompt: Option<String>,
    /// Custom prompt for summarizing summaries (with --chunk-prompt).
    #[arg(long, value_name = "PROMPT", requires = "chunk_prompt")]
    summary_prompt: Option<String>,
}

pub async fn run(a: SummarizeArgs, ctx: &mut Ctx) -> Result<(), CliError> {
    let mut request = match a.source.path_or_url()? {
        Input::Path(path) => {
            let text = read_text(path)?;
            if bookwyrm::jsonl::looks_like_spans(&text) {
                let phrases = parse_spans_of(path, &text)?;
                ctx.note(format!("Loaded {} phrases from {path}", phrases.len()));
                SummarizeRequest::from_phrases(phrases)
            } else {
                ctx.note(format!(
                    "Loaded {} characters of text from {path}",
                    text.chars().count()
                ));
                SummarizeRequest::from_content(text)
            }
        }
        Input::Url(url) => SummarizeRequest::from_url(url),
    };
    request = request
        .max_tokens(a.max_tokens)
        .debug(a.include_debug)
        .model_strength(a.model_strength.into());
    if let (Some(schema_file), Some(name)) = (&a.schema, &a.model_name) {
        let schema = read_text(schema_file)?;
        serde_json::from_str::<serde_json::Value>(&schema)
            .map_err(|e| CliError::failed(format!("{schema_file} is not JSON: {e}")))?;
        request = request.structured(name, schema);
    }
    if let (Some(chunk), Some(merge)) = (&a.chunk_prompt, &a.summary_prompt) {
        request = request.custom_prompts(chunk, merge);
    }
    // Local problems (a missing file, a bad schema) come before credentials.
    let client = ctx.client()?;
    let file = ctx.output_file()?;
    let progress = ctx.progress("Summarizing");
    let stream = client.stream_summarize(request).await?;
    let summary = drive(stream, None, ctx, &progress, |event, _| {
        match event {
            SummarizeStreamEvent::Progress(p) => progress.update(
                p.chunks_processed,
                Some(p.total_chunks),
                &format!(
                    "Level {}/{}: {}",
                    p.current_level,
                    p.total_levels,
                    p.message.as_deref().unwrap_or("")
                ),
            ),
            SummarizeStreamEvent::RateLimit(r) => progress.note(&format!(
                "note: rate limited, retry {}/{}: {}",
                r.attempt, r.max_attempts, r.message
            )),
            SummarizeStreamEvent::StructuralError(s) => {
                progress.note(&format!("note: {}", s.message))
            }
            _ => {}
        }
        Ok(())
    })
    .await?;
    progress.finish();
    let structured: Option<serde_json::Value> = a
        .model_name
        .as_ref()
        .map(|_| serde_json::from_str(&summary.summary))
        .transpose()
        .map_err(|e| CliError::failed(format!("the structured summary is not JSON: {e}")))?;
    let document = json!({
        "summary": structured.clone().unwrap_or_else(|| json!(summary.summary)),
        "subsummary_count": summary.subsummary_count,
        "levels_used": summary.levels_used,
        "total_tokens": summary.total_tokens,
        "source": a.source.named(),
        "max_tokens": a.max_tokens,
        "model_used": a.model_name,
        "intermediate_summaries": a.include_debug.then_some(&summary.intermediate_summaries),
    });
    if let Some(f) = file {
        let path = f.json_document(&document)?;
        ctx.note(format!("Summary written to {}", path.display()));
    }
    if ctx.human() {
        if ctx.global.verbose > 0 || a.include_debug {
            let plural =
                |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
            ctx.out.line(format!(
                "{}, {}, {}",
                plural(summary.levels_used, "level", "levels"),
                plural(summary.subsummary_count, "subsummary", "subsummaries"),
                plural(summary.total_tokens, "token", "tokens"),
            ))?;
        }
        if a.include_debug {
            for (i, level) in summary.intermediate_summaries.iter().enumerate() {
                ctx.out
                    .line(format!("Level {} ({} summaries):", i + 1, level.len()))?;
                for s in level {
                    ctx.out.line(format!("  - {}", clip(s, 160)))?;
                }
            }
        }
        match &structured {
            Some(serde_json::Value::Object(map)) => {
                for (k, v) in map.iter().filter(|(_, v)| !v.is_null()) {
                    let shown = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    ctx.out.line(format!("{k}: {shown}"))?;
                }
            }
            _ => ctx.out.line(&summary.summary)?,
        }
    }
    Ok(())
}
