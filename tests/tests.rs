//! One integration-test binary (ripgrep-style): each module runs the real `salvage` binary
//! on real files.

#[allow(dead_code)] // not every module uses every helper
mod util;

mod errors;
mod faults;
mod invariants;
mod linkage;
mod parquet;
mod pipeline;
mod report;
mod review;
mod schedule;
mod stripe_pull;
