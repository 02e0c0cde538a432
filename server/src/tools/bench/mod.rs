//! `gapless bench-writes`, `bench-llm` and `bench-audit`: how fast the database commits,
//! what the LLM path costs beyond the model, and how fast the staff console's
//! conversation list answers; each prints its own report.

pub mod audit;
pub mod llm;
pub mod writes;
