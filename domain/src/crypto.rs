//! Secrets at rest: cluster credentials and webhook URLs are sealed with AES-256-GCM under a key
//! derived from `DEMARC_SECRET_KEY`. Each sealed value is bound to where it is stored (the
//! associated data, e.g. `cluster:<environment id>`), so a ciphertext copied to another row does
//! not open. Plaintext is only ever held in memory while a client is built.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The sealing key. Its Debug output never shows the key.
pub struct SecretBox {
    key: Option<LessSafeKey>,
    rng: SystemRandom,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.key.is_some() {
            "SecretBox(configured)"
        } else {
            "SecretBox(no key)"
        })
    }
}

/// The shortest key text accepted (32 characters: e.g. 32 random bytes in base64 are 44).
pub const MIN_KEY_LEN: usize = 32;

impl SecretBox {
    /// A box with the key derived from the given text (at least [`MIN_KEY_LEN`] characters).
    pub fn new(key_text: &str) -> std::result::Result<SecretBox, String> {
        let key_text = key_text.trim();
        if key_text.len() < MIN_KEY_LEN {
            return Err(format!(
                "DEMARC_SECRET_KEY must be at least {MIN_KEY_LEN} characters (e.g. `head -c 32 /dev/urandom | base64`)"
            ));
        }
        let mut hasher = Sha256::new();
        hasher.update(b"demarc secret box v1\0");
        hasher.update(key_text.as_bytes());
        let digest = hasher.finalize();
        let key = UnboundKey::new(&AES_256_GCM, &digest).map_err(|_| "cannot build the key")?;
        Ok(SecretBox {
            key: Some(LessSafeKey::new(key)),
            rng: SystemRandom::new(),
        })
    }

    /// A box without a key: sealing fails with a message that says what to configure.
    pub fn disabled() -> SecretBox {
        SecretBox {
            key: None,
            rng: SystemRandom::new(),
        }
    }

    fn key(&self, field: &str) -> Result<&LessSafeKey> {
        self.key.as_ref().ok_or_else(|| {
            Error::invalid(
                field,
                "Demarc has no DEMARC_SECRET_KEY configured, so it cannot store secrets. Ask an administrator to set it.",
            )
        })
    }

    /// Seals `plaintext` for the place named by `context`: nonce (12 bytes) + ciphertext + tag.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        let key = self.key("secret")?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| crate::error::internal(&"no randomness"))?;
        let mut data = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(context.as_bytes()),
            &mut data,
        )
        .map_err(|_| crate::error::internal(&"sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(out)
    }

    /// Opens what [`SecretBox::seal`] sealed for the same context. Fails (without detail) when
    /// the key changed or the value was tampered with or moved.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        let key = self.key("secret")?;
        if sealed.len() < NONCE_LEN {
            return Err(Error::Conflict {
                message: "The stored secret is unreadable. Enter it again.".into(),
            });
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| crate::error::internal(&"bad nonce"))?;
        let mut data = rest.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| Error::Conflict {
                message: "The stored secret cannot be decrypted with the current DEMARC_SECRET_KEY. Enter it again.".into(),
            })?;
        Ok(plain.to_vec())
    }

    /// Seals text for a URL (base64url): what a page may show only if Demarc wrote it.
    pub fn seal_for_url(&self, context: &str, text: &str) -> Result<String> {
        use base64::Engine;
        let sealed = self.seal(context, text.as_bytes())?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed))
    }

    /// Opens what [`SecretBox::seal_for_url`] sealed; None for anything else.
    pub fn open_from_url(&self, context: &str, value: &str) -> Option<String> {
        use base64::Engine;
        let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value)
            .ok()?;
        String::from_utf8(self.open(context, &sealed).ok()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef-test";

    #[test]
    fn a_sealed_secret_opens_only_in_its_own_place_and_with_its_own_key() {
        let sb = SecretBox::new(KEY).unwrap();
        let sealed = sb.seal("cluster:a", b"token-123").unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"token-123"));
        assert_eq!(sb.open("cluster:a", &sealed).unwrap(), b"token-123");
        assert!(sb.open("cluster:b", &sealed).is_err());
        let other = SecretBox::new("another key that is long enough to be used").unwrap();
        assert!(other.open("cluster:a", &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(sb.open("cluster:a", &tampered).is_err());
        // Two seals of the same text differ (fresh nonce).
        assert_ne!(sealed, sb.seal("cluster:a", b"token-123").unwrap());
    }

    #[test]
    fn short_keys_and_missing_keys_are_refused_with_a_reason() {
        assert!(
            SecretBox::new("short")
                .unwrap_err()
                .contains("DEMARC_SECRET_KEY")
        );
        let err = SecretBox::disabled().seal("x", b"y").unwrap_err();
        assert!(err.to_string().contains("DEMARC_SECRET_KEY"));
        assert!(!format!("{:?}", SecretBox::new(KEY).unwrap()).contains("0123"));
    }
}
