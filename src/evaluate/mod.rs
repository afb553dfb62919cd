//! `salvage evaluate`: a recovered file against the truth.
