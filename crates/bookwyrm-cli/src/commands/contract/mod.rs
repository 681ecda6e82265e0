//! `bookwyrm contract check`: what a server's published contract changes for this SDK.

use std::time::Duration;

use bookwyrm_contract::{diff, unchecked_streams, Change, ChangeKind, Contract, Provenance};
use clap::{Args, Subcommand};

use crate::error::CliError;
use crate::output::Table;
use crate::Ctx;

use bookwyrm_contract::{update, yaml};

/// Compare the API contract this SDK was built from with a server's.
#[derive(Debug, Args)]
pub struct ContractArgs {
    #[command(subcommand)]
    command: ContractCommand,
}

#[derive(Debug, Subcommand)]
enum ContractCommand {
    /// Fetch the server's `/openapi.json` (from --base-url) or read FILE (JSON or YAML, OpenAPI
    /// 3.0 or 3.1), and list what it changes for this SDK: breaking, warning or additive.
    /// Exit 0 when nothing reaches --fail-on, 1 when something does, 2 when the document or
    /// the ignore file cannot be read or compared.
    Check {
        /// An OpenAPI document to compare instead of fetching the server's.
        file: Option<std::path::PathBuf>,
        /// The least verdict that fails the check.
        #[arg(long, value_enum, default_value_t = FailOn::Breaking)]
        fail_on: FailOn,
        /// Changes to accept: a JSON or YAML list of `{pointer, reason}` (a JSON pointer as
        /// the report shows it, which also covers what is below it; the reason is required).
        /// An entry that matches nothing is reported as a warning.
        #[arg(long, value_name = "FILE")]
        ignore: Option<std::path::PathBuf>,
    },
    /// Merge the server's document (from --base-url, or FILE: JSON or YAML, OpenAPI 3.0 or
    /// 3.1) into this SDK's contract and write it as OpenAPI 3.0.3: what the server describes
    /// the same way keeps our spelling (a server that publishes our contract changes no byte);
    /// our operationIds, schema names, descriptions and x-bookwyrm-* extensions are kept; a
    /// new event stream is marked so that the build refuses it until its events are listed.
    /// Exit 2, the contract untouched, when a part has no 3.0 form (named by JSON pointer),
    /// when the document is unreadable or for another API, or when --write fails.
    Update {
        /// The server's OpenAPI document, instead of fetching --base-url's /openapi.json.
        file: Option<std::path::PathBuf>,
        /// Write the updated contract to this file (atomically: a temporary file renamed over
        /// it) instead of printing it.
        #[arg(long, value_name = "PATH")]
        write: Option<std::path::PathBuf>,
        /// The contract to update [default: the --write file if it exists, else
        /// openapi/bookwyrm.yaml].
        #[arg(long, value_name = "PATH")]
        contract: Option<std::path::PathBuf>,
    },
}

/// The least verdict that fails `contract check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    /// Breaking changes only.
    Breaking,
    /// Breaking changes and warnings.
    Warning,
}

/// The provenance as the report's JSON shows it.
fn provenance<S: serde::Serializer>(p: &Provenance, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(
        &serde_json::json!({
            "fingerprint": p.fingerprint,
            "version": p.version,
            "operations": p.operations,
        }),
        s,
    )
}

/// One accepted change.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Ignore {
    pointer: String,
    reason: String,
}

impl Ignore {
    fn covers(&self, change: &Change) -> bool {
        change.pointer == self.pointer
            || change
                .pointer
                .strip_prefix(self.pointer.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// Reads JSON, else YAML, naming `source` in the error.
fn parse<T: serde::de::DeserializeOwned>(source: &str, text: &str) -> Result<T, CliError> {
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(json_error) => serde_yaml_ng::from_str(text).map_err(|yaml_error| {
            CliError::usage(format!(
                "{source} is neither JSON ({json_error}) nor YAML ({yaml_error})"
            ))
        }),
    }
}

pub async fn run(a: ContractArgs, ctx: &mut Ctx) -> Result<(), CliError> {
    match a.command {
        ContractCommand::Check {
            file,
            fail_on,
            ignore,
        } => check(file, fail_on, ignore, ctx).await,
        ContractCommand::Update {
            file,
            write,
            contract,
        } => update_contract(file, write, contract, ctx).await,
    }
}

/// The server's document: FILE, or `/openapi.json` from --base-url; its name and its text.
async fn server_document(
    file: &Option<std::path::PathBuf>,
    ctx: &Ctx,
) -> Result<(String, String), CliError> {
    match file {
        Some(path) => Ok((
            path.display().to_string(),
            std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?,
        )),
        None => fetch(ctx).await,
    }
}

async fn update_contract(
    file: Option<std::path::PathBuf>,
    write: Option<std::path::PathBuf>,
    contract: Option<std::path::PathBuf>,
    ctx: &mut Ctx,
) -> Result<(), CliError> {
    let contract = contract.unwrap_or_else(|| match &write {
        Some(w) if w.exists() => w.clone(),
        _ => std::path::PathBuf::from("openapi/bookwyrm.yaml"),
    });
    let ours_text = std::fs::read_to_string(&contract).map_err(|e| {
        CliError::usage(format!(
            "cannot read the contract to update, {}: {e} (give it with --contract)",
            contract.display()
        ))
    })?;
    let ours: serde_yaml_ng::Value = serde_yaml_ng::from_str(&ours_text)
        .map_err(|e| CliError::usage(format!("{} is not YAML: {e}", contract.display())))?;
    let (source, text) = server_document(&file, ctx).await?;
    // JSON read in order (a YAML reader could trip on JSON's tabs or long lines).
    let theirs: serde_yaml_ng::Value = parse(&source, &text)?;
    let updated =
        update::update(&ours, &theirs).map_err(|e| CliError::usage(format!("{source}: {e}")))?;
    let written = yaml::to_string(&updated.document);
    for note in &updated.notes {
        eprintln!("{note}");
    }
    match write {
        Some(path) => {
            write_atomically(&path, &written)?;
            let same = ours_text == written && path == contract;
            eprintln!(
                "{} {}",
                if same { "unchanged:" } else { "wrote" },
                path.display()
            );
        }
        None => {
            ctx.out.line(written.trim_end_matches('\n'))?;
            ctx.out.flush()?;
        }
    }
    Ok(())
}

/// Writes `text` to a temporary file beside `path`, then renames it over `path`: a failure
/// leaves `path` as it was.
fn write_atomically(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    let fail = |e: std::io::Error| {
        CliError::usage(format!(
            "cannot write {}: {e}; it is left as it was",
            path.display()
        ))
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "contract".into());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(fail)
}

async fn check(
    file: Option<std::path::PathBuf>,
    fail_on: FailOn,
    ignore: Option<std::path::PathBuf>,
    ctx: &mut Ctx,
) -> Result<(), CliError> {
    let ignores: Vec<Ignore> = match &ignore {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
            let list: Vec<Ignore> = parse(&path.display().to_string(), &text)?;
            if let Some(e) = list.iter().find(|e| e.reason.trim().is_empty()) {
                return Err(CliError::usage(format!(
                    "{}: the entry for {} has no reason",
                    path.display(),
                    e.pointer
                )));
            }
            list
        }
        None => Vec::new(),
    };
    let (source, text) = server_document(&file, ctx).await?;
    let doc: serde_json::Value = parse(&source, &text)?;
    let theirs = Contract::from_value(&doc)
        .map_err(|e| CliError::usage(format!("{source} cannot be compared: {e}")))?;
    let ours = Contract::embedded();
    let sdk = Provenance::of_sdk();
    // The same normalized model, and nothing in the document the model leaves out:
    // identical, nothing to compare.
    let identical = theirs.fingerprint() == sdk.fingerprint && theirs.unchecked.is_empty();
    let changes = if identical {
        Vec::new()
    } else {
        diff(&ours, &theirs)
    };
    let mut report = Report::new(
        &source,
        changes,
        &ignores,
        unchecked_streams(&ours, &theirs),
    );
    report.fingerprint = theirs.fingerprint();
    report.sdk_contract = sdk;
    report.unchecked_keywords = theirs.unchecked.clone();
    if identical && report.stale_ignores.is_empty() {
        report.verdict = "identical";
    }
    if ctx.human() {
        report.print(ctx)?;
    } else {
        ctx.out.json_document(&report)?;
    }
    ctx.out.flush()?;
    let failing = match fail_on {
        FailOn::Breaking => report.counts.breaking,
        FailOn::Warning => report.counts.breaking + report.counts.warning,
    };
    if failing > 0 {
        return Err(CliError::failed(format!(
            "{failing} change(s) at or above --fail-on {}: update openapi/bookwyrm.yaml and regenerate, or accept them with --ignore",
            match fail_on {
                FailOn::Breaking => "breaking",
                FailOn::Warning => "warning",
            }
        )));
    }
    Ok(())
}

/// The report of `contract check`; its JSON form (`--json`) is a stable shape.
#[derive(Debug, serde::Serialize)]
struct Report {
    source: String,
    /// [`Contract::fingerprint`] of the document.
    fingerprint: String,
    /// What this SDK was built from.
    #[serde(serialize_with = "provenance")]
    sdk_contract: Provenance,
    /// The most severe verdict among the changes not ignored, `none` without any.
    verdict: &'static str,
    counts: Counts,
    changes: Vec<Change>,
    ignored: Vec<Ignored>,
    /// Ignore entries that matched nothing (each counted as a warning).
    stale_ignores: Vec<Ignore>,
    /// Streams whose events the document does not describe, so were not compared.
    unchecked_events: Vec<String>,
    /// Where the document uses a validation keyword the model does not hold (JSON pointers):
    /// not compared.
    unchecked_keywords: Vec<String>,
}

#[derive(Debug, Default, serde::Serialize)]
struct Counts {
    breaking: usize,
    warning: usize,
    additive: usize,
}

#[derive(Debug, serde::Serialize)]
struct Ignored {
    #[serde(flatten)]
    change: Change,
    reason: String,
}

impl Report {
    fn new(source: &str, all: Vec<Change>, ignores: &[Ignore], unchecked: Vec<String>) -> Self {
        let mut changes = Vec::new();
        let mut ignored = Vec::new();
        let mut used = vec![false; ignores.len()];
        for change in all {
            match ignores.iter().position(|i| i.covers(&change)) {
                Some(i) => {
                    used[i] = true;
                    let reason = ignores[i].reason.clone();
                    ignored.push(Ignored { change, reason });
                }
                None => changes.push(change),
            }
        }
        let stale_ignores: Vec<Ignore> = ignores
            .iter()
            .zip(&used)
            .filter(|(_, used)| !**used)
            .map(|(i, _)| i.clone())
            .collect();
        let mut counts = Counts {
            warning: stale_ignores.len(),
            ..Counts::default()
        };
        for c in &changes {
            match c.kind {
                ChangeKind::Breaking => counts.breaking += 1,
                ChangeKind::Warning => counts.warning += 1,
                _ => counts.additive += 1,
            }
        }
        let verdict = if counts.breaking > 0 {
            "breaking"
        } else if counts.warning > 0 {
            "warning"
        } else if counts.additive > 0 {
            "additive"
        } else {
            "none"
        };
        Self {
            source: source.to_string(),
            fingerprint: String::new(),
            sdk_contract: Provenance::of_sdk(),
            verdict,
            counts,
            changes,
            ignored,
            stale_ignores,
            unchecked_events: unchecked,
            unchecked_keywords: Vec::new(),
        }
    }

    fn print(&self, ctx: &mut Ctx) -> Result<(), CliError> {
        if self.verdict == "identical" {
            ctx.out.line(format!(
                "{}: identical to the contract of this SDK (fingerprint {}, version {}, {} operations)",
                self.source,
                self.fingerprint,
                self.sdk_contract.version,
                self.sdk_contract.operations
            ))?;
        } else if self.changes.is_empty() && self.stale_ignores.is_empty() {
            ctx.out.line(format!(
                "{}: no change from the contract of this SDK",
                self.source
            ))?;
        } else {
            let mut table = Table::new(&["Kind", "Where", "Change"]);
            for c in &self.changes {
                table.row(&[&c.kind.as_str(), &c.pointer, &c.description]);
            }
            for i in &self.stale_ignores {
                let what = format!("this --ignore entry matches nothing ({})", i.reason);
                table.row(&[&"warning", &i.pointer, &what]);
            }
            table.print(&mut ctx.out)?;
        }
        let c = &self.counts;
        ctx.out.line(format!(
            "{} breaking, {} warning, {} additive; {} ignored",
            c.breaking,
            c.warning,
            c.additive,
            self.ignored.len()
        ))?;
        for op in &self.unchecked_events {
            ctx.out.line(format!(
                "not checked: the events of {op} (the document does not describe them)"
            ))?;
        }
        for at in &self.unchecked_keywords {
            ctx.out.line(format!(
                "not checked: {at} (a validation keyword this check does not model)"
            ))?;
        }
        Ok(())
    }
}

/// `GET {base_url}/openapi.json`.
async fn fetch(ctx: &Ctx) -> Result<(String, String), CliError> {
    let url = format!("{}/openapi.json", ctx.global.base_url.trim_end_matches('/'));
    let mut http =
        reqwest::Client::builder().timeout(ctx.global.timeout.unwrap_or(Duration::from_secs(30)));
    if let Some(path) = &ctx.global.ca_cert {
        let pem = std::fs::read(path)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
        http = http.add_root_certificate(cert);
    }
    let http = http
        .build()
        .map_err(|e| CliError::failed(format!("cannot make an HTTP client: {e}")))?;
    let fail = |e: reqwest::Error| {
        let mut message = format!("cannot fetch {url}: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        CliError::failed(message)
    };
    let response = http.get(&url).send().await.map_err(fail)?;
    if !response.status().is_success() {
        return Err(CliError::failed(format!(
            "{url} answered {}",
            response.status()
        )));
    }
    let text = response.text().await.map_err(fail)?;
    Ok((url, text))
}
