//! The `salvage` binary: parse the command line once, dispatch to one file per subcommand
//! in `cli/`, turn an error into one line and a non-zero exit code.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // `salvage ... | head` ends quietly when the reader goes away, as other Unix tools do,
    // instead of panicking on the broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = cli::Cli::parse();
    cli::init_logging(args.verbose, args.quiet);
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("salvage: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
