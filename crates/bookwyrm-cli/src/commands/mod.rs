//! One module per command group.

pub mod cite;
pub mod classify;
pub mod contract;
pub mod pdf;
pub mod phrasal;
pub mod summarize;

use bookwyrm::{
    Accumulator, BookWyrmClientError, EventStream, ModelStrength, Observer, StreamEvent,
};

use crate::error::CliError;
use crate::progress::Progress;
use crate::Ctx;

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

/// Reads a stream to its end into `accumulator` (the SDK's loop,
/// [`EventStream::collect_with`]), with the CLI watching: every event goes to `on_event` (and
/// to stdout as a JSON line with `--json`); server error events and undecodable events are
/// reported on stderr and make the command fail at the end (a non-recoverable error event ends
/// it at once); unknown events are noted with `-v`; output is flushed whenever the stream waits
/// on the network. A failure of the stream itself (transport, timeout) ends it.
pub async fn drive<E, A>(
    mut stream: EventStream<E>,
    accumulator: A,
    ctx: &mut Ctx,
    progress: &Progress,
    on_event: impl FnMut(&E, &mut Ctx) -> Result<(), CliError>,
) -> Result<A::Output, CliError>
where
    E: StreamEvent + serde::Serialize,
    A: Accumulator<E>,
{
    let mut watch = Watch {
        ctx,
        progress,
        problem: None,
        on_event,
    };
    let output = stream.collect_with(accumulator, &mut watch).await?;
    match watch.problem {
        None => Ok(output),
        Some(p) => Err(CliError::failed(format!(
            "the stream had errors; first: {p}"
        ))),
    }
}

/// The CLI's [`Observer`]: JSON lines, warnings, notes, the command's own handling, flushes.
struct Watch<'a, F> {
    ctx: &'a mut Ctx,
    progress: &'a Progress,
    /// The first problem that did not end the stream.
    problem: Option<String>,
    on_event: F,
}

impl<E, F> Observer<E> for Watch<'_, F>
where
    E: StreamEvent + serde::Serialize,
    F: FnMut(&E, &mut Ctx) -> Result<(), CliError>,
{
    type Error = CliError;

    fn event(&mut self, event: &E) -> Result<(), CliError> {
        if self.ctx.global.json {
            self.ctx.out.json_line(event)?;
        }
        if let Some(err) = event.server_error() {
            // A non-recoverable one ends the stream right after this (the SDK's rule).
            if err.recoverable() {
                self.progress.note(&format!("warning: {err}"));
                self.problem.get_or_insert_with(|| err.to_string());
            }
            return Ok(());
        }
        if self.ctx.global.verbose > 0 && event.is_unknown() {
            self.progress.note(&format!(
                "note: event `{}` is not known to this version; kept",
                event.event_name()
            ));
        }
        (self.on_event)(event, self.ctx)
    }

    fn malformed(&mut self, e: BookWyrmClientError) -> Result<(), CliError> {
        let raw = match &e {
            BookWyrmClientError::Decode(d) => crate::output::clip(&d.raw_text(), 120),
            _ => String::new(),
        };
        self.progress.note(&format!("warning: {e}: {raw}"));
        self.problem.get_or_insert_with(|| e.to_string());
        Ok(())
    }

    fn waiting(&mut self) -> Result<(), CliError> {
        // A burst of events costs one write; every line is out before the program waits.
        self.ctx.out.flush()
    }
}
