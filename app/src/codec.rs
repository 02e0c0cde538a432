//! How resources travel from the server's HTML to the browser: JSON, read the way server
//! functions read their results.
//!
//! Leptos' default resource codec reads with `serde_json::from_str` while server
//! functions read with `serde_json::from_slice`: the same JSON, but two readers, so the
//! wasm held two deserializers of every type that is both a resource and a server
//! function's result (the whole catalog and chat view). Reading resources from the
//! string's bytes leaves one.

use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};

/// Use with `Resource::new_with_options(source, fetcher, false)`.
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(json.as_bytes())
    }
}

/// A resource encoded with [`Json`]: like `Resource::new`, with one deserializer per type.
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> leptos::prelude::Resource<T, Json>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    leptos::prelude::Resource::new_with_options(source, fetcher, false)
}
