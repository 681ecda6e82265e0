//! `bookwyrm cite`.

use bookwyrm::{CitationRequest, CitationResult, CitationStreamEvent};
use clap::{ArgGroup, Args};

use super::{drive, Strength};
use crate::error::CliError;
use crate::input::{read_spans, read_text, Input, SourceArgs};
use crate::output::{Clip, Table};
use crate::Ctx;

/// Find passages that answer questions.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
#[command(group(ArgGroup::new("questions").required(true).args(["question", "questions_file"])))]
#[command(mut_arg("input", |a| a.help("JSONL chunks (`{\"text\", \"start_char\", \"end_char\"}` per line), `-` for stdin")))]
#[command(mut_arg("url", |a| a.help("A URL the server fetches the JSONL chunks from")))]
pub struct CiteArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// A question (repeat for several, at most 20).
    #[arg(short, long)]
    question: Vec<String>,
    /// A file with one question per line.
    #[arg(long, value_name = "FILE")]
    questions_file: Option<String>,
    /// Index of the first chunk to process.
    #[arg(long, default_value_t = 0, value_parser = super::at_least(0))]
    start: u64,
    /// Number of chunks to process (1 or more).
    #[arg(long, value_parser = super::at_least(1))]
    limit: Option<u64>,
    /// Maximum tokens per chunk group (1 or more).
    #[arg(long, default_value_t = 1000, value_parser = super::at_least(1))]
    max_tokens: u64,
    /// Model strength.
    #[arg(long, value_enum, default_value = "swift")]
    model_strength: Strength,
    /// Whole texts and reasonings in the table.
    #[arg(long)]
    long: bool,
}

pub async fn run(a: CiteArgs, ctx: &mut Ctx) -> Result<(), CliError> {
    let questions: Vec<String> = match &a.questions_file {
        Some(f) => read_text(f)?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        None => a.question.clone(),
    };
    if questions.is_empty() {
        return Err(CliError::failed("the questions file has no questions"));
    }
    let question: bookwyrm::types::Question = if questions.len() == 1 {
        questions[0].clone().into()
    } else {
        questions.clone().into()
    };
    let mut request = match a.source.path_or_url()? {
        Input::Path(path) => {
            let chunks = read_spans(path)?;
            ctx.note(format!("Loaded {} chunks from {path}", chunks.len()));
            CitationRequest::from_chunks(chunks, question)
        }
        Input::Url(url) => CitationRequest::from_jsonl_url(url, question),
    };
    // Local problems (a missing file, no questions) come before credentials.
    let client = ctx.client()?;
    request = request
        .start(a.start)
        .max_tokens_per_chunk(a.max_tokens)
        .model_strength(a.model_strength.into());
    if let Some(l) = a.limit {
        request = request.limit(l);
    }
    let mut file = ctx.output_file()?;
    let progress = ctx.progress("Finding citations");
    let stream = client.stream_citations(request).await?;
    let result = drive(
        stream,
        CitationResult::default(),
        ctx,
        &progress,
        |event, _| {
            match event {
                CitationStreamEvent::Progress(p) => progress.update(
                    p.chunks_processed,
                    Some(p.total_chunks),
                    p.message.as_deref().unwrap_or("Processing"),
                ),
                CitationStreamEvent::Citation(c) => {
                    if let Some(f) = &mut file {
                        f.json_line(&c.citation)?;
                    }
                }
                _ => {}
            }
            Ok(())
        },
    )
    .await?;
    progress.finish();
    let CitationResult {
        citations, summary, ..
    } = result;
    if let Some(f) = &file {
        ctx.note(format!("Citations written to {}", f.path().display()));
    }
    if ctx.human() {
        let multi = questions.len() > 1;
        if citations.is_empty() {
            ctx.out.line("No citations found.")?;
        } else {
            let (text_w, why_w) = if a.long {
                (usize::MAX, usize::MAX)
            } else {
                (80, 60)
            };
            let mut header = vec!["Quality", "Chunks"];
            if multi {
                header.push("Q");
            }
            header.extend(["Text", "Reasoning"]);
            let mut table = Table::new(&header);
            for c in &citations {
                let chunks = if c.start_chunk == c.end_chunk {
                    c.start_chunk.to_string()
                } else {
                    format!("{}-{}", c.start_chunk, c.end_chunk)
                };
                let quality = format!("{}/4", c.quality);
                let question = c.question_index.map(|q| q.to_string()).unwrap_or_default();
                let (text, reasoning) = (Clip(&c.text, text_w), Clip(&c.reasoning, why_w));
                if multi {
                    table.row(&[&quality, &chunks, &question, &text, &reasoning]);
                } else {
                    table.row(&[&quality, &chunks, &text, &reasoning]);
                }
            }
            table.print(&mut ctx.out)?;
        }
        if let Some(s) = summary {
            let usage = s
                .usage
                .map(|u| {
                    let cost = u
                        .estimated_cost
                        .map(|c| format!(", cost ${c:.4}"))
                        .unwrap_or_default();
                    format!(", {} tokens{cost}", u.tokens_processed)
                })
                .unwrap_or_default();
            ctx.out.line(format!(
                "{} citations in {} chunks{usage}",
                s.total_citations, s.chunks_processed
            ))?;
        }
    }
    Ok(())
}
