use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: a chat turn allocates and frees thousands of
/// small values (JSON, strings) on several threads, and glibc's allocator took about a
/// sixth of the request threads' samples under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
