//! Commands that measure Gapless rather than run a shop: `gapless eval` scores an
//! extractor on labelled utterances, `gapless bench-*` time the paths a shop's load
//! goes through. `serve` needs none of this.

pub mod bench;
pub mod eval;
