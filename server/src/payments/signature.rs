//! `Stripe-Signature` (Stripe's webhook signing): `t=<unix seconds>,v1=<hex>[,v1=…]`,
//! each `v1` an HMAC-SHA256 keyed with the endpoint's signing secret (`whsec_…`, used
//! as given) over `{t}.{body}`. A signature older or newer than [`TOLERANCE`] is
//! refused, so a captured request cannot be replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

/// How far the signed time may be from ours (Stripe's libraries use the same).
pub const TOLERANCE: Duration = Duration::minutes(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header, or one without t= and v1=")]
    Malformed,
    #[error("the signed time is more than 5 minutes from now")]
    Stale,
    #[error("no v1 signature matches")]
    Mismatch,
}

/// Checks `header` against `payload` (the raw body, byte for byte) at `now`.
pub fn verify(
    header: &str,
    payload: &[u8],
    secret: &str,
    now: OffsetDateTime,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) if timestamp.is_none() => {
                timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::Malformed)?)
            }
            // Undecodable ones are skipped: another v1 may still match.
            Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let signed_at =
        OffsetDateTime::from_unix_timestamp(timestamp).map_err(|_| SignatureError::Malformed)?;
    if (now - signed_at).abs() > TOLERANCE {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, timestamp, payload);
    // `verify_slice` compares in constant time.
    let matches =
        signatures.iter().any(|signature| expected.clone().verify_slice(signature).is_ok());
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    fn sign(timestamp: i64, payload: &[u8]) -> String {
        let signature = hex::encode(mac(SECRET, timestamp, payload).finalize().into_bytes());
        format!("t={timestamp},v1={signature}")
    }

    #[test]
    fn a_fresh_signature_of_the_body_verifies() {
        let now = OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
        let body = br#"{"id":"evt_1"}"#;
        let header = sign(1_900_000_000, body);
        assert_eq!(verify(&header, body, SECRET, now), Ok(()));
        // Another scheme and a second v1 (a rolled secret) beside it.
        let rolled = format!("{header},v0=abc,v1=00ff");
        assert_eq!(verify(&rolled, body, SECRET, now), Ok(()));
        assert_eq!(verify(&header, body, SECRET, now + Duration::minutes(5)), Ok(()));
    }

    #[test]
    fn anything_else_is_refused() {
        let now = OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
        let body = br#"{"id":"evt_1"}"#;
        let header = sign(1_900_000_000, body);
        assert_eq!(
            verify(&header, b"{\"id\":\"evt_2\"}", SECRET, now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(&header, body, "whsec_other", now), Err(SignatureError::Mismatch));
        let late = now + Duration::minutes(5) + Duration::seconds(1);
        assert_eq!(verify(&header, body, SECRET, late), Err(SignatureError::Stale));
        let early = now - Duration::minutes(6);
        assert_eq!(verify(&header, body, SECRET, early), Err(SignatureError::Stale));
        for malformed in ["", "v1=abcd", "t=1900000000", "t=soon,v1=ab", "t=1900000000,v1=zz"] {
            assert_eq!(
                verify(malformed, body, SECRET, now),
                Err(SignatureError::Malformed),
                "{malformed}"
            );
        }
        let huge = format!("t={},v1=00", i64::MAX);
        assert_eq!(verify(&huge, body, SECRET, now), Err(SignatureError::Malformed));
    }
}
