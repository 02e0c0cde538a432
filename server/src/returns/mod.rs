//! The returns API of CONTRACTS §4: thin handlers ([`api`]) over [`service::ReturnsService`],
//! which loads the order and the policy, asks the pure engine
//! (`gapless_domain::returns`) and records what it decided.

pub mod api;
pub mod error;
pub mod portal;
pub mod service;
