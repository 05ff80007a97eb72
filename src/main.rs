//! Entry point: parse the command line, run the command, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use codex_local::{Printer, cli::Cli, report_failure, run, usage_error};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Under `--json` even a usage error is one JSON document.
            let json = std::env::args_os()
                .skip(1)
                .take_while(|arg| arg != "--")
                .any(|arg| arg == "--json" || arg.to_string_lossy().starts_with("--json="));
            return usage_error(&err, json);
        }
    };
    let printer = Printer::from_cli(&cli);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            return report_failure(
                &printer,
                &anyhow::Error::new(err).context("Cannot start the async runtime"),
            );
        }
    };
    let outcome = runtime.block_on(run(cli, &printer));
    // Probes that were abandoned on a timeout must not hold the process open.
    runtime.shutdown_background();
    match outcome {
        Ok(code) => code,
        Err(err) => report_failure(&printer, &err),
    }
}
