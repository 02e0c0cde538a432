use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = server::cli::Cli::parse();
    match server::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line a person can act on; the details are in the log above it.
            eprintln!("gapless: {error:#}");
            ExitCode::FAILURE
        }
    }
}
