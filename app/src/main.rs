//! `mesmerize`: the Mesmerize-RS desktop app (no subcommand) and its headless command line.

mod cli;
mod gui;
mod malloc_tuning;
mod widget;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    malloc_tuning::tune();
    let args = cli::Cli::parse();
    cli::init_logging(args.verbose);
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        // Output piped into a command that stopped reading (`| head`): not an error.
        Err(e) if e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)) => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            // One line: the reason, with its causes joined.
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
