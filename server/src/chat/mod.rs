//! The chat JSON API of CONTRACTS §2–3: thin handlers over [`service::ChatService`].

pub mod api;
pub mod error;
pub mod limits;
pub mod llm;
pub mod service;
pub mod widget;
