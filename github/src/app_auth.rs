//! GitHub App authentication: an RS256 JWT signed with the App's private key proves
//! the App's identity; it is exchanged for an installation token (valid one hour),
//! which is cached so that a report costs one API call, not two.

use std::fmt;
use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use tokio::sync::Mutex;

use crate::client_error::ClientError;

/// Backdating `iat` absorbs clock drift between us and GitHub (GitHub's advice).
const JWT_BACKDATE: Duration = Duration::seconds(60);
/// GitHub refuses JWTs valid for more than 10 minutes; stay under it.
const JWT_LIFETIME: Duration = Duration::minutes(9);
/// Refresh the installation token this long before it expires, so a token never
/// expires between being handed out and being used by a slow request.
const REFRESH_MARGIN: Duration = Duration::minutes(5);

#[derive(Serialize)]
struct Claims {
    iat: i64,
    exp: i64,
    /// A string, as RFC 7519 has it (StringOrURI); GitHub takes the App id so.
    iss: String,
}

struct Cached {
    token: String,
    refresh_at: DateTime<Utc>,
}

/// App credentials and the cached installation token.
pub(crate) struct AppAuth {
    app_id: u64,
    installation_id: u64,
    key: EncodingKey,
    // An async mutex held across the exchange: concurrent callers wait for one
    // refresh instead of each minting a token.
    cache: Mutex<Option<Cached>>,
}

impl fmt::Debug for AppAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Neither the key nor the token: Debug output ends up in logs.
        f.debug_struct("AppAuth")
            .field("app_id", &self.app_id)
            .field("installation_id", &self.installation_id)
            .finish_non_exhaustive()
    }
}

impl AppAuth {
    /// Parses the PEM private key up front, so a bad key fails at configuration time.
    pub(crate) fn new(
        app_id: u64,
        installation_id: u64,
        private_key_pem: &str,
    ) -> Result<AppAuth, ClientError> {
        let key = EncodingKey::from_rsa_pem(private_key_pem.as_bytes()).map_err(|e| {
            ClientError::Invalid(format!("GitHub App private key is not an RSA PEM key: {e}"))
        })?;
        Ok(AppAuth {
            app_id,
            installation_id,
            key,
            cache: Mutex::new(None),
        })
    }

    pub(crate) fn installation_id(&self) -> u64 {
        self.installation_id
    }

    /// A fresh App JWT.
    pub(crate) fn jwt(&self, now: DateTime<Utc>) -> Result<String, ClientError> {
        let claims = Claims {
            iat: (now - JWT_BACKDATE).timestamp(),
            exp: (now + JWT_LIFETIME).timestamp(),
            iss: self.app_id.to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| ClientError::Invalid(format!("cannot sign the GitHub App JWT: {e}")))
    }

    /// The cached installation token, or a new one from `exchange(jwt)`, which returns
    /// the token and its `expires_at`.
    pub(crate) async fn token<F, Fut>(&self, exchange: F) -> Result<String, ClientError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<(String, DateTime<Utc>), ClientError>>,
    {
        let mut cache = self.cache.lock().await;
        let now = Utc::now();
        if let Some(cached) = cache.as_ref().filter(|c| now < c.refresh_at) {
            return Ok(cached.token.clone());
        }
        let (token, expires_at) = exchange(self.jwt(now)?).await?;
        *cache = Some(Cached {
            token: token.clone(),
            refresh_at: expires_at - REFRESH_MARGIN,
        });
        Ok(token)
    }

    /// Forgets the cached token (after GitHub answered 401 to it: revoked early).
    pub(crate) async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    const KEY: &str = include_str!("../tests/data/test_app_key.pem");
    const PUB: &str = include_str!("../tests/data/test_app_key.pub.pem");

    #[test]
    fn jwt_is_rs256_with_app_id_and_short_lifetime() {
        let auth = AppAuth::new(1234, 5, KEY).unwrap();
        let now = Utc::now();
        let jwt = auth.jwt(now).unwrap();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        let mut v = Validation::new(Algorithm::RS256);
        v.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &jwt,
            &DecodingKey::from_rsa_pem(PUB.as_bytes()).unwrap(),
            &v,
        )
        .unwrap();
        assert_eq!(data.claims["iss"], "1234");
        assert_eq!(data.claims["iat"], (now - JWT_BACKDATE).timestamp());
        assert_eq!(data.claims["exp"], (now + JWT_LIFETIME).timestamp());
        assert!(!format!("{auth:?}").contains("PRIVATE"));
    }

    #[test]
    fn bad_key_is_invalid() {
        assert!(matches!(
            AppAuth::new(1, 2, "not a key"),
            Err(ClientError::Invalid(_))
        ));
        assert!(matches!(
            AppAuth::new(1, 2, ""),
            Err(ClientError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn token_is_cached_until_five_minutes_before_expiry() {
        let auth = AppAuth::new(1, 2, KEY).unwrap();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let exchange = |expires_in: Duration| {
            let calls = &calls;
            move |_jwt: String| async move {
                let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok((format!("tok{n}"), Utc::now() + expires_in))
            }
        };
        assert_eq!(
            auth.token(exchange(Duration::hours(1))).await.unwrap(),
            "tok0"
        );
        assert_eq!(
            auth.token(exchange(Duration::hours(1))).await.unwrap(),
            "tok0"
        );
        auth.invalidate().await;
        // Expires within the margin: used once, then refreshed.
        assert_eq!(
            auth.token(exchange(Duration::minutes(4))).await.unwrap(),
            "tok1"
        );
        assert_eq!(
            auth.token(exchange(Duration::hours(1))).await.unwrap(),
            "tok2"
        );
        let failing = |_jwt: String| async { Err(ClientError::Transient("down".into())) };
        auth.invalidate().await;
        assert!(auth.token(failing).await.is_err());
    }
}
