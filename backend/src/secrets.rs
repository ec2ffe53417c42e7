//! Secrets at rest: integration secrets (GitHub webhook secrets, reporting tokens, App
//! keys), metric-source credentials and outgoing webhook signing secrets are sealed
//! with the server key (AES-256-GCM) before they are stored. A webhook
//! secret has to be recovered to check signatures, so hashing is not an option; a
//! database dump without the key file reveals none of them.
//!
//! The key is 32 random bytes, hex, in the file named by `--secret-key-file` (created
//! with mode 0600 on first start) or in `PERFWATCH_SECRET_KEY`.

use std::path::Path;
use std::sync::Arc;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

use crate::error::{Result, StoreError};

/// Marks a sealed value in a column whose older rows hold plain text.
pub const SEALED_TAG: &str = "sealed:";

/// The key sealing secrets at rest.
#[derive(Clone)]
pub struct SealKey(Arc<LessSafeKey>);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(…)")
    }
}

impl SealKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let key = UnboundKey::new(&AES_256_GCM, bytes).expect("a 32-byte AES-256 key");
        Self(Arc::new(LessSafeKey::new(key)))
    }

    pub fn from_hex(text: &str) -> Result<Self> {
        let raw = hex::decode(text.trim())
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| StoreError::invalid("secret key", "expected 64 hex digits"))?;
        Ok(Self::from_bytes(&raw))
    }

    /// A fresh random key (tests, and the first start of a server).
    pub fn generate() -> Self {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).expect("the OS random source");
        Self::from_bytes(&raw)
    }

    /// Reads the key file, creating it (mode 0600) with a new key when it is missing.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&text)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut raw = [0u8; 32];
                getrandom::fill(&mut raw).map_err(|e| std::io::Error::other(e.to_string()))?;
                write_private(path, &hex::encode(raw))?;
                Ok(Self::from_bytes(&raw))
            }
            Err(e) => Err(e),
        }
    }

    /// Seals `plain`: hex of nonce || ciphertext || tag.
    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the OS random source");
        let mut buf = plain.as_bytes().to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
            .expect("AES-GCM sealing of a short secret");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        hex::encode(out)
    }

    /// Seals `plain` for a column that once held plain text (outgoing webhook signing
    /// secrets): the tag tells a sealed value from one an older version stored.
    pub fn seal_tagged(&self, plain: &str) -> String {
        format!("{SEALED_TAG}{}", self.seal(plain))
    }

    /// Opens what [`seal_tagged`](Self::seal_tagged) made; a value without the tag is
    /// plain text an older version stored (sealed at the next start, see
    /// `notify::seal_stored_webhook_secrets`).
    pub fn open_tagged(&self, stored: &str, what: &str) -> Result<String> {
        match stored.strip_prefix(SEALED_TAG) {
            Some(sealed) => self.open(sealed, what),
            None => Ok(stored.to_string()),
        }
    }

    /// Opens what [`seal`](Self::seal) made; `what` names the secret in the error.
    pub fn open(&self, sealed: &str, what: &str) -> Result<String> {
        let bad = || {
            StoreError::Data(format!(
                "the stored {what} cannot be opened with this server's secret key \
                 (was the key file replaced?)"
            ))
        };
        let raw = hex::decode(sealed).map_err(|_| bad())?;
        if raw.len() < NONCE_LEN {
            return Err(bad());
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| bad())?;
        let mut buf = body.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::empty(), &mut buf)
            .map_err(|_| bad())?;
        String::from_utf8(plain.to_vec()).map_err(|_| bad())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_with_the_same_key_only() {
        let k = SealKey::generate();
        let s = k.seal("whsec-1");
        assert!(!s.contains("whsec"));
        assert_eq!(k.open(&s, "webhook secret").unwrap(), "whsec-1");
        assert_ne!(k.seal("whsec-1"), s, "a fresh nonce per seal");
        let other = SealKey::generate();
        let err = other.open(&s, "webhook secret").unwrap_err().to_string();
        assert!(err.contains("webhook secret"), "{err}");
        assert!(k.open("zz", "token").is_err());
        assert!(k.open(&s[..20], "token").is_err());
    }

    #[test]
    fn tagged_values_open_and_untagged_ones_are_plain() {
        let k = SealKey::generate();
        let s = k.seal_tagged("whsec_x");
        assert!(s.starts_with(SEALED_TAG) && !s.contains("whsec_x"));
        assert_eq!(k.open_tagged(&s, "webhook secret").unwrap(), "whsec_x");
        assert_eq!(
            k.open_tagged("whsec_old", "webhook secret").unwrap(),
            "whsec_old"
        );
        let err = SealKey::generate()
            .open_tagged(&s, "webhook secret")
            .unwrap_err();
        assert!(err.to_string().contains("webhook secret"));
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("pw-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret.key");
        let a = SealKey::load_or_create(&path).unwrap();
        let sealed = a.seal("t");
        let b = SealKey::load_or_create(&path).unwrap();
        assert_eq!(b.open(&sealed, "token").unwrap(), "t");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "nothex").unwrap();
        assert!(SealKey::load_or_create(&path).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
