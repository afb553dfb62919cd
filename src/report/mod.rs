//! The reconciliation report (JSON and HTML).
