//! `bookwyrm`: the BookWyrm API from a terminal.
//!
//! Results go to stdout (tables for people, `--json` for programs), progress and diagnostics
//! to stderr, the machine format to `-o FILE`.

mod commands;
mod error;
mod input;
mod output;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand};

use crate::error::{CliError, EXIT_CODES_HELP, EXIT_INTERRUPTED};
use crate::output::{OutputFile, Stdout};

/// The BookWyrm API from a terminal: phrasal chunking, summaries, citations, file
/// classification and PDF extraction.
#[derive(Debug, Parser)]
#[command(name = "bookwyrm", version, after_help = EXIT_CODES_HELP, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    // The three settings below are read from the environment by `Global::fill_from_env`, not by
    // clap: clap would print values it took from the environment in usage lines, as if they
    // had been required.
    /// Base URL of the API [env: BOOKWYRM_API_URL] [default: https://api.bookwyrm.ai:443].
    #[arg(long, global = true, value_name = "URL", default_value_t = String::new(), hide_default_value = true)]
    pub base_url: String,
    /// API key, never printed [env: BOOKWYRM_API_KEY].
    #[arg(long, global = true, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Also trust the root certificates in this PEM file (a server behind a private CA)
    /// [env: BOOKWYRM_CA_CERT]. `SSL_CERT_FILE` replaces the system's roots instead.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Seconds a call may take; for streams, the longest silence allowed.
    #[arg(long, global = true, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// More diagnostics on stderr (-v: info, -vv: debug); BOOKWYRM_LOG sets a filter.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// No progress and no notes on stderr; errors still print.
    #[arg(long, global = true)]
    pub quiet: bool,
    /// Machine-readable stdout: JSON Lines of events for streaming commands, one JSON document
    /// otherwise.
    #[arg(long, global = true)]
    pub json: bool,
    /// Write the machine format (JSON / JSON Lines) to FILE; it is truncated unless --append.
    #[arg(short, long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Append to the -o file instead of truncating it.
    #[arg(long, global = true, requires = "output")]
    pub append: bool,
    /// Do not resume a stream that breaks part-way (by default PDF extraction, phrasal and
    /// cite go on from where they stopped; -v notes each resume).
    #[arg(long, global = true)]
    pub no_resume: bool,
    /// An extra request header, `NAME: VALUE` (repeatable).
    #[arg(long = "header", global = true, value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not `NAME: VALUE`"))?;
    Ok((name.trim().to_string(), value.trim().to_string()))
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(format!("`{s}` is not a positive number of seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find passages that answer questions, in JSONL chunks (from `phrasal`).
    Cite(commands::cite::CiteArgs),
    /// Summarize a text or JSONL phrases hierarchically.
    Summarize(commands::summarize::SummarizeArgs),
    /// Split a text into phrases, or into chunks of at most --chunk-size characters.
    Phrasal(commands::phrasal::PhrasalArgs),
    /// Classify a file: format, content type, MIME type.
    Classify(commands::classify::ClassifyArgs),
    /// Extract the structure of a PDF, page by page.
    ExtractPdf(commands::pdf::ExtractPdfArgs),
    /// Turn an `extract-pdf` JSON file into raw text and a per-character box mapping.
    PdfToText(commands::pdf::PdfToTextArgs),
    /// Look up the pages and boxes of a character range in a mapping from `pdf-to-text`.
    PdfQueryRange(commands::pdf::QueryArgs),
    /// The API contract: what a server's changes for this SDK (`contract check`).
    Contract(commands::contract::ContractArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

impl Global {
    /// Fills what was not given on the command line from `BOOKWYRM_API_URL`,
    /// `BOOKWYRM_API_KEY` and `BOOKWYRM_CA_CERT` (empty values count as unset).
    fn fill_from_env(&mut self) {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if self.base_url.is_empty() {
            self.base_url =
                var(bookwyrm::ENV_API_URL).unwrap_or_else(|| bookwyrm::DEFAULT_BASE_URL.into());
        }
        if self.api_key.is_none() {
            self.api_key = var(bookwyrm::ENV_API_KEY);
        }
        if self.ca_cert.is_none() {
            self.ca_cert = var(bookwyrm::ENV_CA_CERT).map(Into::into);
        }
    }
}

/// What a command runs with.
pub struct Ctx {
    pub global: Global,
    pub out: Stdout,
}

impl Ctx {
    /// A client for API commands; refuses to start without a key (exit 4).
    pub fn client(&self) -> Result<bookwyrm::AsyncBookWyrmClient, CliError> {
        let key = self
            .global
            .api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty());
        let Some(key) = key else {
            return Err(CliError::no_key());
        };
        let mut b = bookwyrm::AsyncBookWyrmClient::builder()
            .base_url(&self.global.base_url)
            .api_key(key)
            .user_agent_extra(concat!("bookwyrm-cli/", env!("CARGO_PKG_VERSION")));
        for (name, value) in &self.global.headers {
            b = b.header(name, value);
        }
        if let Some(path) = &self.global.ca_cert {
            b = b.add_root_certificate_file(path);
        }
        if let Some(t) = self.global.timeout {
            b = b.timeout(t).stream_idle_timeout(t);
        }
        b = b.resume_policy(if self.global.no_resume {
            bookwyrm::ResumePolicy::none()
        } else {
            // The CLI prints what arrives: citations of a resumed run are worth having.
            bookwyrm::ResumePolicy::default().cite(true)
        });
        Ok(b.build()?)
    }

    /// Notes for people on stderr (not with --quiet).
    pub fn note(&self, line: impl AsRef<str>) {
        if !self.global.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// Whether stdout gets human output (no --json).
    pub fn human(&self) -> bool {
        !self.global.json
    }

    /// The -o file, opened now (truncated unless --append).
    pub fn output_file(&self) -> Result<Option<OutputFile>, CliError> {
        self.global
            .output
            .as_deref()
            .map(|p| OutputFile::create(p, self.global.append))
            .transpose()
    }

    pub fn progress(&self, message: &str) -> progress::Progress {
        progress::Progress::spinner(!self.global.quiet, message)
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "off",
        1 => "bookwyrm=info",
        2 => "bookwyrm=debug",
        _ => "bookwyrm=trace,debug",
    };
    let filter = std::env::var("BOOKWYRM_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn main() -> ExitCode {
    // One TLS provider for the process (the SDK's and reqwest's): ring.
    #[allow(deprecated)] // ring: see the SDK's transport/tls.rs
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut cli = Cli::parse();
    cli.global.fill_from_env();
    init_logging(cli.global.verbose);
    let mut ctx = Ctx {
        global: cli.global,
        out: Stdout::new(),
    };
    // One thread: a command reads one stream (or makes one call) and writes what it gets, so
    // the task that reads the connection also drives it, with no hand-off between threads
    // (the cheapest shape for a stream: see `cargo bench --bench stream_cpu`).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(error::EXIT_FAILED);
        }
    };
    let result = runtime.block_on(async {
        tokio::select! {
            r = run(cli.command, &mut ctx) => r,
            _ = tokio::signal::ctrl_c() => Err(CliError::Message {
                code: EXIT_INTERRUPTED,
                message: "interrupted".into(),
                hint: None,
            }),
        }
    });
    let result = result.and_then(|()| ctx.out.flush());
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(CliError::Message {
            code,
            message,
            hint,
        }) => {
            eprintln!("error: {message}");
            if let Some(h) = hint {
                eprintln!("hint: {h}");
            }
            ExitCode::from(code)
        }
    }
}

async fn run(command: Command, ctx: &mut Ctx) -> Result<(), CliError> {
    match command {
        Command::Cite(a) => commands::cite::run(a, ctx).await,
        Command::Summarize(a) => commands::summarize::run(a, ctx).await,
        Command::Phrasal(a) => commands::phrasal::run(a, ctx).await,
        Command::Classify(a) => commands::classify::run(a, ctx).await,
        Command::ExtractPdf(a) => commands::pdf::extract(a, ctx).await,
        Command::PdfToText(a) => commands::pdf::to_text(a, ctx),
        Command::PdfQueryRange(a) => commands::pdf::query(a, ctx),
        Command::Contract(a) => commands::contract::run(a, ctx).await,
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "bookwyrm", &mut buf);
            ctx.out.line(String::from_utf8_lossy(&buf).trim_end())
        }
    }
}
