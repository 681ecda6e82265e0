//! `bookwyrm contract check`: what a server's published contract changes for this SDK.

use std::time::Duration;

use bookwyrm::contract::{diff, ChangeKind, Contract};
use clap::{Args, Subcommand};

use crate::error::CliError;
use crate::output::Table;
use crate::Ctx;

/// Compare the API contract this SDK was built from with a server's.
#[derive(Debug, Args)]
pub struct ContractArgs {
    #[command(subcommand)]
    command: ContractCommand,
}

#[derive(Debug, Subcommand)]
enum ContractCommand {
    /// Fetch the server's `/openapi.json` (from --base-url) or read FILE (JSON or YAML, OpenAPI
    /// 3.0 or 3.1), and list what it changes for this SDK. Exit 0 when nothing breaks, 1 when
    /// something does, 2 when the document cannot be read or compared.
    Check {
        /// An OpenAPI document to compare instead of fetching the server's.
        file: Option<std::path::PathBuf>,
    },
}

pub async fn run(a: ContractArgs, ctx: &mut Ctx) -> Result<(), CliError> {
    let ContractCommand::Check { file } = a.command;
    let (source, text) = match &file {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path)
                .map_err(|e| CliError::failed(format!("cannot read {}: {e}", path.display())))?,
        ),
        None => fetch(ctx).await?,
    };
    let doc: serde_json::Value = match serde_json::from_str(&text) {
        Ok(doc) => doc,
        Err(json_error) => serde_yaml::from_str(&text).map_err(|_| {
            CliError::usage(format!("{source} is neither JSON ({json_error}) nor YAML"))
        })?,
    };
    let theirs = Contract::from_value(&doc)
        .map_err(|e| CliError::usage(format!("{source} cannot be compared: {e}")))?;
    let changes = diff(&Contract::embedded(), &theirs);
    let breaking = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Breaking)
        .count();
    if ctx.human() {
        if changes.is_empty() {
            ctx.out
                .line(format!("{source}: no change from the contract of this SDK"))?;
        } else {
            let mut table = Table::new(&["Kind", "Where", "Change"]);
            for c in &changes {
                let kind = match c.kind {
                    ChangeKind::Breaking => "breaking",
                    _ => "additive",
                };
                table.row(&[&kind, &c.pointer, &c.description]);
            }
            table.print(&mut ctx.out)?;
            ctx.out.line(format!(
                "{breaking} breaking, {} additive",
                changes.len() - breaking
            ))?;
        }
    } else {
        ctx.out.json_document(&serde_json::json!({
            "source": source,
            "breaking": breaking,
            "changes": changes,
        }))?;
    }
    ctx.out.flush()?;
    if breaking > 0 {
        return Err(CliError::failed(format!(
            "{breaking} change(s) break this SDK: update openapi/bookwyrm.yaml and regenerate"
        )));
    }
    Ok(())
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
