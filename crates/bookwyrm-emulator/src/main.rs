//! `bookwyrm-emulator`: serve the BookWyrm API locally.

use clap::Parser;

/// A local, deterministic BookWyrm API for offline use and tests.
#[derive(Debug, Parser)]
#[command(version, about, after_help = bookwyrm_emulator::faults::HELP)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8765)]
    port: u16,
    /// Accept this bearer API key (repeatable); when given, any other key gets 401.
    #[arg(long = "api-key")]
    api_keys: Vec<String>,
    /// Honour the `x-bookwyrm-fault` request header (the faults are listed below).
    #[arg(long)]
    allow_faults: bool,
    /// Apply this fault to every request without an `x-bookwyrm-fault` header (implies
    /// --allow-faults), e.g. `synthetic-events=200000` for a load test of a consumer.
    #[arg(long, value_name = "SPEC")]
    fault: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("BOOKWYRM_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut builder = bookwyrm_emulator::Emulator::builder()
        .addr(std::net::SocketAddr::new(args.host, args.port))
        .allow_faults(args.allow_faults);
    if let Some(spec) = args.fault {
        builder = builder.default_fault(spec);
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let read = |p: &std::path::Path| {
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        };
        match read(cert).and_then(|c| Ok((c, read(key)?))) {
            Ok((c, k)) => builder = builder.tls(c, k),
            Err(e) => {
                eprintln!("bookwyrm-emulator: {e}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    for key in args.api_keys {
        builder = builder.api_key(key);
    }
    let emulator = match builder.start().await {
        Ok(e) => e,
        Err(e) => {
            eprintln!(
                "bookwyrm-emulator: cannot listen on {}:{}: {e}",
                args.host, args.port
            );
            return std::process::ExitCode::from(1);
        }
    };
    // The one line on stdout: where to point BOOKWYRM_API_URL.
    println!("{}", emulator.base_url());
    let _ = tokio::signal::ctrl_c().await;
    emulator.stop().await;
    std::process::ExitCode::SUCCESS
}
