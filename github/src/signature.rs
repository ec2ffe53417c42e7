//! Webhook signatures: GitHub signs each delivery body with HMAC-SHA256 under the
//! webhook secret and sends it as `X-Hub-Signature-256: sha256=<hex>`.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header.
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    /// The header is not `sha256=` followed by 64 hex digits.
    #[error("malformed X-Hub-Signature-256 header (expected sha256=<64 hex digits>)")]
    Malformed,
    /// Well-formed, but not the HMAC of this body under this secret.
    #[error("signature does not match the body")]
    Mismatch,
}

/// Checks `header` (the `X-Hub-Signature-256` value) against `body` signed with `secret`.
///
/// The comparison is constant time (`hmac`'s `verify_slice`), so response timing tells an
/// attacker nothing about how many leading bytes of a forged signature were right.
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex_part = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    // Length check first: `hex::decode` would accept any even length, and a short
    // digest is a malformed header, not a mismatch.
    if hex_part.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let expected = hex::decode(hex_part).map_err(|_| SignatureError::Malformed)?;
    mac(secret, body)
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The `X-Hub-Signature-256` header value GitHub would send for `body` under `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hmac_sha256_hex(secret, body))
}

/// HMAC-SHA256 (RFC 2104) of `body` under `secret`, lowercase hex.
pub fn hmac_sha256_hex(secret: &[u8], body: &[u8]) -> String {
    hex::encode(mac(secret, body).finalize().into_bytes())
}

fn mac(secret: &[u8], body: &[u8]) -> HmacSha256 {
    // `new_from_slice` is fallible only in its signature; to stay free of panics we
    // build the block-sized key ourselves exactly as RFC 2104 does (hash a key longer
    // than the 64-byte block, zero-pad a shorter one) and use the infallible `new`.
    let mut key = [0u8; 64];
    if secret.len() > key.len() {
        key[..32].copy_from_slice(&Sha256::digest(secret));
    } else {
        key[..secret.len()].copy_from_slice(secret);
    }
    let mut mac = <HmacSha256 as KeyInit>::new(&key.into());
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_documented_example() {
        // From GitHub's "Validating webhook deliveries" docs.
        let sig = sign(b"It's a Secret to Everybody", b"Hello, World!");
        assert_eq!(
            sig,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert_eq!(
            verify(b"It's a Secret to Everybody", b"Hello, World!", Some(&sig)),
            Ok(())
        );
    }

    #[test]
    fn missing_malformed_mismatch() {
        let body = b"{}";
        assert_eq!(verify(b"s", body, None), Err(SignatureError::Missing));
        for bad in [
            "",
            "sha1=abcd",
            "sha256=",
            "sha256=zz",
            "sha256=abcd",
            "SHA256=00",
        ] {
            assert_eq!(
                verify(b"s", body, Some(bad)),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        let non_hex = format!("sha256={}", "g".repeat(64));
        assert_eq!(
            verify(b"s", body, Some(&non_hex)),
            Err(SignatureError::Malformed)
        );
        let other = sign(b"other secret", body);
        assert_eq!(
            verify(b"s", body, Some(&other)),
            Err(SignatureError::Mismatch)
        );
        let sig = sign(b"s", body);
        assert_eq!(
            verify(b"s", b"{ }", Some(&sig)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn long_secret_is_hashed_like_rfc_2104() {
        // RFC 4231 test case 6: a 131-byte key.
        let key = [0xaau8; 131];
        let body = b"Test Using Larger Than Block-Size Key - Hash Key First";
        assert_eq!(
            sign(&key, body),
            "sha256=60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    proptest::proptest! {
        #[test]
        fn sign_verifies_and_garbage_never_panics(
            secret in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            header in "\\PC{0,80}",
        ) {
            let sig = sign(&secret, &body);
            proptest::prop_assert_eq!(verify(&secret, &body, Some(&sig)), Ok(()));
            proptest::prop_assert!(verify(&secret, &body, Some(&header)).is_err() || header.trim() == sig);
        }
    }

    #[test]
    fn empty_secret_and_body_work() {
        let sig = sign(b"", b"");
        assert_eq!(verify(b"", b"", Some(&sig)), Ok(()));
    }
}
