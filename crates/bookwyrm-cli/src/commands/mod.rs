//! One module per command group.

pub mod cite;
pub mod classify;
pub mod contract;
pub mod pdf;
pub mod phrasal;
pub mod summarize;

use bookwyrm::ModelStrength;

/// A whole number of at least `min`: negative numbers parse as numbers (the commands allow
/// them) and are rejected with the option's name and range, not read as unknown flags.
pub fn at_least(min: i64) -> impl clap::builder::TypedValueParser<Value = u64> {
    use clap::builder::TypedValueParser;
    clap::value_parser!(i64).range(min..).map(|v| v as u64)
}

/// A whole number in `min..=max` (see [`at_least`]).
pub fn between(min: i64, max: i64) -> impl clap::builder::TypedValueParser<Value = u64> {
    use clap::builder::TypedValueParser;
    clap::value_parser!(i64).range(min..=max).map(|v| v as u64)
}

/// `--model-strength` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Strength {
    Swift,
    Smart,
    Clever,
    Wise,
    Brainiac,
}

impl From<Strength> for ModelStrength {
    fn from(s: Strength) -> Self {
        match s {
            Strength::Swift => ModelStrength::Swift,
            Strength::Smart => ModelStrength::Smart,
            Strength::Clever => ModelStrength::Clever,
            Strength::Wise => ModelStrength::Wise,
            Strength::Brainiac => ModelStrength::Brainiac,
        }
    }
}

use bookwyrm::{BookWyrmClientError, EventStream, StreamEvent};
use futures_util::FutureExt;

use crate::error::CliError;
use crate::Ctx;

/// Reads a stream to its end: every event goes to `on_event` (and to stdout as a JSON line
/// with `--json`); server error events and undecodable events are reported on stderr and make
/// the command fail at the end (a non-recoverable error event ends it at once); unknown events
/// are noted with `-v`. A failure of the stream itself (transport, timeout) ends it.
pub async fn drive<E>(
    mut stream: EventStream<E>,
    ctx: &mut Ctx,
    progress: &crate::progress::Progress,
    mut on_event: impl FnMut(&E, &mut Ctx) -> Result<(), CliError>,
) -> Result<(), CliError>
where
    E: StreamEvent + serde::Serialize,
{
    let mut problem: Option<String> = None;
    loop {
        // Output is flushed only when the stream has nothing ready: a burst of events costs
        // one write, and every line is out before the program waits on the network.
        let item = match stream.next().now_or_never() {
            Some(item) => item,
            None => {
                ctx.out.flush()?;
                stream.next().await
            }
        };
        let Some(item) = item else { break };
        match item {
            Ok(event) => {
                if ctx.global.json {
                    ctx.out.json_line(&event)?;
                }
                if let Some(err) = event.server_error() {
                    if !err.recoverable() {
                        return Err(CliError::failed(err.to_string()));
                    }
                    progress.note(&format!("warning: {err}"));
                    problem.get_or_insert_with(|| err.to_string());
                    continue;
                }
                if ctx.global.verbose > 0 && event.is_unknown() {
                    progress.note(&format!(
                        "note: event `{}` is not known to this version; kept",
                        event.event_name()
                    ));
                }
                on_event(&event, ctx)?;
            }
            Err(e @ BookWyrmClientError::Decode(_)) => {
                let raw = match &e {
                    BookWyrmClientError::Decode(d) => crate::output::clip(&d.raw_text(), 120),
                    _ => String::new(),
                };
                progress.note(&format!("warning: {e}: {raw}"));
                problem.get_or_insert_with(|| e.to_string());
            }
            Err(e) => return Err(e.into()),
        }
    }
    match problem {
        None => Ok(()),
        Some(p) => Err(CliError::failed(format!(
            "the stream had errors; first: {p}"
        ))),
    }
}
