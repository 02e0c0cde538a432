//! API keys for systems: `gk_` and 64 hex digits (256 bits from the operating system's
//! random source), shown once; only their SHA-256 is stored.
//!
//! Why a plain SHA-256 and not Argon2 as for staff passwords: a slow, salted hash
//! protects *low-entropy* secrets that people choose, where an attacker with the hashes
//! can try likely passwords. A 256-bit random key has no likely values; finding one from
//! its hash means 2^255 tries on average whatever the hash costs. A fast hash also
//! lets the key be looked up by its hash in one indexed query on every request, without
//! an Argon2 run (tens of milliseconds and 19 MiB) per call from a warehouse system.

use std::sync::Arc;

use anyhow::{bail, Context};
use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts},
    response::{IntoResponse, Response},
};
use gapless_store::{new_id, ApiKeyRow, NewApiKey, Store};
use ring::rand::SecureRandom;
use time::OffsetDateTime;

use crate::api_error::{ApiError, Unauthorized};

/// What every key starts with, so that a leaked one is recognisable in logs and by
/// secret scanners.
pub const KEY_PREFIX: &str = "gk_";
/// Random bytes in a key.
const KEY_BYTES: usize = 32;
/// The longest key name.
pub const MAX_NAME: usize = 64;

/// The answer to every request without a valid key: one message for a missing, unknown
/// or revoked key.
pub const NO_KEY: &str = "send an API key: Authorization: Bearer gk_…";

/// A new key: `gk_` and 64 lowercase hex digits.
pub fn generate() -> anyhow::Result<String> {
    let mut bytes = [0u8; KEY_BYTES];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the operating system gave no random numbers"))?;
    Ok(format!("{KEY_PREFIX}{}", hex(&bytes)))
}

/// The stored form of a key: hex SHA-256 of its text.
pub fn hash(key: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, key.as_bytes()).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// A key's name: what the admin calls the system that holds it.
pub fn check_name(name: &str) -> anyhow::Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        bail!("a key name is 1 to {MAX_NAME} characters, not {:?}", name);
    }
    if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ')) {
        bail!("a key name may use letters, digits, spaces, '-', '_' and '.' only: {name:?}");
    }
    Ok(name)
}

/// Why a key was not created.
#[derive(Debug, thiserror::Error)]
pub enum AddKeyError {
    /// The name breaks [`check_name`]'s rules, or is in use by another key.
    #[error("{0}")]
    Name(String),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Creates a key named `name`; returns its row and the key, which is never shown again.
pub async fn add(store: &dyn Store, name: &str) -> Result<(ApiKeyRow, String), AddKeyError> {
    let name = check_name(name).map_err(|e| AddKeyError::Name(e.to_string()))?;
    let key = generate()?;
    let new = NewApiKey {
        id: new_id(),
        name: name.to_owned(),
        key_hash: hash(&key),
        created_at: OffsetDateTime::now_utc(),
    };
    if !store.create_api_key(&new).await.context("cannot store the API key")? {
        return Err(AddKeyError::Name(format!(
            "a key named {name:?} is in use: revoke it first or pick another name"
        )));
    }
    let row =
        ApiKeyRow { id: new.id, name: new.name, created_at: new.created_at, revoked_at: None };
    Ok((row, key))
}

/// Revokes the key in use named or numbered `name_or_id`; an error when there is none.
pub async fn revoke(store: &dyn Store, name_or_id: &str) -> anyhow::Result<Vec<ApiKeyRow>> {
    let revoked = store
        .revoke_api_key(name_or_id.trim(), OffsetDateTime::now_utc())
        .await
        .context("cannot revoke the API key")?;
    if revoked.is_empty() {
        bail!("no key in use is named or has the id {:?} (see `gapless api-key list`)", name_or_id);
    }
    Ok(revoked)
}

/// The key in use that `authorization` (`Bearer gk_…`) carries, if any.
pub async fn authenticate(
    store: &dyn Store,
    authorization: Option<&str>,
) -> Result<Option<ApiKeyRow>, ApiError> {
    let Some(key) = authorization
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|key| key.starts_with(KEY_PREFIX) && key.len() <= 200)
    else {
        return Ok(None);
    };
    Ok(store.api_key_by_hash(&hash(key)).await?)
}

/// A request from a system with a key in use. A handler that takes one answers `401`
/// before it runs when the key is missing, unknown or revoked.
#[derive(Debug, Clone)]
pub struct SystemKey(pub ApiKeyRow);

impl<S> FromRequestParts<S> for SystemKey
where
    Arc<dyn Store>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let store = Arc::<dyn Store>::from_ref(state);
        let authorization =
            parts.headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
        match authenticate(store.as_ref(), authorization).await {
            Ok(Some(key)) => Ok(SystemKey(key)),
            Ok(None) => Err(Unauthorized(NO_KEY).into_response()),
            Err(error) => Err(error.into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_random_and_hashed() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert!(a.starts_with("gk_") && a.len() == 3 + 64, "{a}");
        assert!(a[3..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        // SHA-256 of "abc", the FIPS 180-2 test vector.
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn names_are_short_and_plain() {
        assert_eq!(check_name(" warehouse-1 ").unwrap(), "warehouse-1");
        assert!(check_name("").is_err());
        assert!(check_name(&"x".repeat(MAX_NAME + 1)).is_err());
        assert!(check_name("a\nb").is_err());
        assert!(check_name("<script>").is_err());
    }
}
