//! The `salvage` binary: parse the command line once, dispatch to one file per subcommand
//! in `cli/`, turn an error into one line and a non-zero exit code.

#[macro_use]
mod cli;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: the merge makes and frees tens of millions
/// of small strings, and glibc's malloc spent a fifth of a large run in its own
/// bookkeeping and in faulting fresh pages (measured with perf on the mission-density
/// incident).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 2's `mi_option_t`: how long freed memory waits
/// before it goes back to the OS.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // `salvage run ... | head -1`: SIGPIPE stays ignored (Rust's default) and every line of
    // output goes through `outln!`, which drops what a closed stdout cannot take. So the
    // run finishes and writes all its files; with SIGPIPE at its default the kernel would
    // kill it at whichever line came after the reader left, before its outputs if that
    // line was the import summary.
    // Keep freed memory instead of handing it back to the OS after 10 ms: the merge frees
    // and reallocates gigabytes, and the kernel zeroing pages it had just taken back was
    // a fifth of the merge's time (perf, mission density); peak memory grows by ~9%.
    // SAFETY: sets a process-wide allocator option; no allocation depends on its value.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
    }
    let args = cli::Cli::parse();
    cli::init_logging(args.verbose, args.quiet);
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            errln!("salvage: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
