//! Entry point: parse the command line, run the command, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use codex_local::{cli::Cli, commands, ui};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = ui::Printer::from_cli(&cli);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            return commands::report(
                &printer,
                &anyhow::Error::new(err).context("Cannot start the async runtime"),
            );
        }
    };
    let outcome = runtime.block_on(commands::run(cli, &printer));
    // Probes that were abandoned on a timeout must not hold the process open.
    runtime.shutdown_background();
    match outcome {
        Ok(code) => code,
        Err(err) => commands::report(&printer, &err),
    }
}
