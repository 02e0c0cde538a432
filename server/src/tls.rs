//! The process's rustls crypto provider. reqwest is built without a default one (its
//! default would compile aws-lc from C sources), so ring is installed before any HTTP
//! client is built: by the binary at start, by the server and the LLM client when they
//! are built, and by tests that make their own clients first.

pub fn install_crypto_provider() {
    // An error only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
