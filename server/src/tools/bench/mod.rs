//! `gapless bench-writes`, `bench-turns`, `bench-llm`, `bench-audit` and
//! `bench-dashboard`: how fast the database commits, how many chat turns a running
//! server takes, what the LLM path costs beyond the model, and how fast the staff
//! console's conversation list and dashboard answer; each prints its own report.

pub mod audit;
pub mod dashboard;
pub mod llm;
pub mod turns;
pub mod writes;
