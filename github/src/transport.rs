//! How the client talks HTTP: URLs, authentication, sending, error mapping and
//! pagination. The endpoint methods in `client.rs` are thin on top of this.

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use crate::api_types::array_of;
use crate::client::{bearer, Auth, Client};
use crate::client_error::{classify, ClientError};
use crate::link::next_link;

/// Stop following `next` links after this many pages (10,000 items), so a server
/// that keeps linking onwards cannot keep a worker busy forever.
const MAX_PAGES: usize = 100;

impl Client {
    /// `base` + `path` (already encoded) + query.
    pub(crate) fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, ClientError> {
        let base = self.base.as_str().trim_end_matches('/');
        let mut url = Url::parse(&format!("{base}{path}"))
            .map_err(|e| ClientError::Invalid(format!("bad request path {path:?}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    async fn authorization(&self) -> Result<HeaderValue, ClientError> {
        match &self.auth {
            Auth::Token(v) => Ok(v.clone()),
            Auth::App(app) => {
                let token = app
                    .token(|jwt| self.exchange(app.installation_id(), jwt))
                    .await?;
                bearer(&token)
            }
        }
    }

    /// Trades an App JWT for an installation token and its expiry.
    async fn exchange(
        &self,
        installation_id: u64,
        jwt: String,
    ) -> Result<(String, DateTime<Utc>), ClientError> {
        let url = self.url(
            &format!("/app/installations/{installation_id}/access_tokens"),
            &[],
        )?;
        let (_, v) = self.send(Method::POST, url, None, bearer(&jwt)?).await?;
        let what = "installation token";
        let token = v["token"]
            .as_str()
            .ok_or_else(|| ClientError::Decode(format!("{what}: field `token` is missing")))?;
        let expires_at = v["expires_at"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .ok_or_else(|| {
                ClientError::Decode(format!(
                    "{what}: field `expires_at` is missing or not a date"
                ))
            })?;
        Ok((token.to_string(), expires_at.with_timezone(&Utc)))
    }

    /// One authenticated call; the JSON answer (Null when the body is empty).
    pub(crate) async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<(HeaderMap, Value), ClientError> {
        let auth = self.authorization().await?;
        let result = self.send(method, url, body, auth).await;
        if let (Err(ClientError::Permanent { status: 401, .. }), Auth::App(app)) =
            (&result, &self.auth)
        {
            // The installation token was revoked or the installation changed: the
            // next attempt mints a new one instead of failing until expiry.
            app.invalidate().await;
        }
        result
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        auth: HeaderValue,
    ) -> Result<(HeaderMap, Value), ClientError> {
        let mut req = self.http.request(method, url).header(AUTHORIZATION, auth);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| ClientError::from_reqwest(&e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::from_reqwest(&e))?;
        if !status.is_success() {
            return Err(classify(status, &headers, &bytes, Utc::now()));
        }
        if bytes.is_empty() || status == StatusCode::NO_CONTENT {
            return Ok((headers, Value::Null));
        }
        let v = serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Decode(format!("answer is not JSON: {e}")))?;
        Ok((headers, v))
    }

    /// All items of a list endpoint, following `Link: rel="next"`.
    pub(crate) async fn paginate(
        &self,
        mut url: Url,
        what: &str,
    ) -> Result<Vec<Value>, ClientError> {
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let (headers, v) = self.call(Method::GET, url, None).await?;
            items.extend(array_of(what, v)?);
            match next_link(&headers) {
                None => return Ok(items),
                Some(next) => url = self.same_origin(&next)?,
            }
        }
        Err(ClientError::Decode(format!(
            "{what}: more than {MAX_PAGES} pages"
        )))
    }

    /// A `next` link, only when it points at the API we were configured with: the
    /// token must never be sent to another host named in a response header.
    fn same_origin(&self, link: &str) -> Result<Url, ClientError> {
        let url =
            Url::parse(link).map_err(|e| ClientError::Decode(format!("bad next link: {e}")))?;
        if url.origin() == self.base.origin() {
            Ok(url)
        } else {
            Err(ClientError::Decode(format!(
                "next link leaves the API host: {link}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::client::{Client, Credentials};
    use crate::client_error::ClientError;

    #[test]
    fn next_links_must_stay_on_the_api_host() {
        let c = Client::new("https://api.github.com", Credentials::Token("t".into())).unwrap();
        assert!(c
            .same_origin("https://api.github.com/repos/o/r/pulls?page=2")
            .is_ok());
        for evil in [
            "https://evil.example/repos?page=2",
            "http://api.github.com/repos?page=2",
            "https://api.github.com:444/x",
            "/relative",
        ] {
            assert!(
                matches!(c.same_origin(evil), Err(ClientError::Decode(_))),
                "{evil}"
            );
        }
    }
}
