//! `bookwyrm phrasal`.

use bookwyrm::{PhrasalRequest, PhrasalStreamEvent};
use clap::Args;

use super::drive;
use crate::error::CliError;
use crate::input::{read_text, Source, SourceArgs};
use crate::output::{Clip, Table};
use crate::Ctx;

/// Split a text into phrases or chunks.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
#[command(mut_arg("input", |a| a.value_name("TEXT")))]
#[command(mut_arg("input", |a| a.help("The text itself, or `-` to read stdin")))]
#[command(mut_arg("url", |a| a.help("A URL the server fetches the text from")))]
#[command(mut_arg("file", |a| a.help("A text file")))]
pub struct PhrasalArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Pack phrases into chunks of at most this many characters (1 or more).
    #[arg(long, value_parser = super::at_least(1))]
    chunk_size: Option<u64>,
    /// Results without offsets.
    #[arg(long, conflicts_with = "offsets")]
    text_only: bool,
    /// Results with offsets (the default).
    #[arg(long)]
    offsets: bool,
}

pub async fn run(a: PhrasalArgs, ctx: &mut Ctx) -> Result<(), CliError> {
    let source = a.source.one("TEXT")?;
    let mut request = match source {
        Source::Positional("-") | Source::Stdin => PhrasalRequest::from_text(read_text("-")?),
        Source::Positional(t) => PhrasalRequest::from_text(t),
        Source::File(path) => {
            let text = read_text(path)?;
            ctx.note(format!(
                "Loaded {} characters from {path}",
                text.chars().count()
            ));
            PhrasalRequest::from_text(text)
        }
        Source::Url(url) => PhrasalRequest::from_url(url),
    };
    // Local problems (a missing file) come before credentials.
    let client = ctx.client()?;
    if let Some(n) = a.chunk_size {
        request = request.chunk_size(n);
    }
    if a.text_only {
        request = request.text_only();
    }
    let mut file = ctx.output_file()?;
    let progress = ctx.progress("Splitting");
    let stream = client.stream_process_text(request).await?;
    // The table's rows, made as results arrive (only what the table shows is kept).
    let mut table = Table::new(&["#", "Chars", "Text"]);
    let mut count = 0usize;
    let human = ctx.human();
    drive(stream, (), ctx, &progress, |event, _| {
        match event {
            PhrasalStreamEvent::Progress(p) => {
                progress.update(0, None, p.message.as_deref().unwrap_or("Processing"))
            }
            PhrasalStreamEvent::TextSpan(_) | PhrasalStreamEvent::Text(_) => {
                if let Some(f) = &mut file {
                    f.json_line(event)?;
                }
                if human {
                    match event {
                        PhrasalStreamEvent::TextSpan(s) => table.row(&[
                            &count,
                            &format_args!("{}-{}", s.start_char, s.end_char),
                            &Clip(&s.text, 80),
                        ]),
                        PhrasalStreamEvent::Text(t) => {
                            table.row(&[&count, &"-", &Clip(&t.text, 80)])
                        }
                        _ => {}
                    }
                }
                count += 1;
            }
            _ => {}
        }
        Ok(())
    })
    .await?;
    progress.finish();
    if let Some(f) = &file {
        ctx.note(format!(
            "{} results written to {}",
            count,
            f.path().display()
        ));
    }
    if ctx.human() {
        table.print(&mut ctx.out)?;
        ctx.out.line(format!("{count} results"))?;
    }
    Ok(())
}
