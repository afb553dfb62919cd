//! Exporters: [`Recovered`](crate::merge::Recovered) to files. Only `export/` knows the
//! contract schema.

pub mod parquet;
pub mod sqlite;
