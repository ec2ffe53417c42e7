//! HTTP operations: render the step's templates, send, check the status, extract
//! variables from the JSON answer. Failures come back unclassified ([`Failure`]).

use std::collections::HashMap;
use std::error::Error as _;
use std::time::Duration;

use crate::extract::extract_all;
use crate::scenario::{Step, StepKind};
use crate::taxonomy::{transport_kind, Failure};

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    base: String,
    /// `base` parsed once: a request's URL is this with the path set, so the host is not
    /// parsed (and IDNA-checked) again per request — a few µs of the generator's CPU.
    base_url: reqwest::Url,
}

impl HttpClient {
    /// The URL of a rendered path (`/groups/7?x=1`) on the base URL.
    fn url(&self, path: &str) -> reqwest::Url {
        let mut url = self.base_url.clone();
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        url.set_path(path);
        url.set_query(query);
        url
    }
}

fn transport(e: reqwest::Error) -> Failure {
    let mut chain = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        src = s.source();
    }
    Failure::Transport {
        kind: transport_kind(e.is_timeout(), e.is_connect(), &chain),
        message: chain,
    }
}

impl HttpClient {
    pub fn new(base: &str, timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .tcp_nodelay(true)
            .pool_max_idle_per_host(usize::MAX)
            // The scenario names its host; an environment proxy must not reroute it.
            .no_proxy()
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        let base_url = reqwest::Url::parse(base).map_err(|e| format!("base URL `{base}`: {e}"))?;
        Ok(Self {
            client,
            base: base.to_string(),
            base_url,
        })
    }

    /// A GET of `path` on the base URL, as text (the service version).
    pub async fn get_text(&self, path: &str) -> Result<String, String> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| format!("{url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{url}: status {status}"));
        }
        Ok(text.trim().chars().take(200).collect())
    }

    pub async fn run(
        &self,
        step: &Step,
        vars: &mut HashMap<String, String>,
    ) -> Result<(), Failure> {
        let StepKind::Http {
            method,
            path,
            headers,
            body,
            bearer,
        } = &step.kind
        else {
            return Err(Failure::Validation(format!(
                "{}: not an HTTP step",
                step.op
            )));
        };
        let path = path.render(vars).map_err(Failure::Validation)?;
        let mut req = self.client.request(method.clone(), self.url(&path));
        for (name, value) in headers {
            req = req.header(
                name.as_str(),
                value.render(vars).map_err(Failure::Validation)?,
            );
        }
        if let Some(b) = bearer {
            req = req.bearer_auth(b.render(vars).map_err(Failure::Validation)?);
        }
        if let Some(b) = body {
            let text = b.render(vars).map_err(Failure::Validation)?;
            let json = text.trim_start().starts_with(['{', '[']);
            if json
                && !headers
                    .iter()
                    .any(|(h, _)| h.eq_ignore_ascii_case("content-type"))
            {
                req = req.header("content-type", "application/json");
            }
            req = req.body(text);
        }
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let answer = resp.bytes().await.map_err(transport)?;
        let expected = if step.expect_status.is_empty() {
            (200..300).contains(&status)
        } else {
            step.expect_status.contains(&status)
        };
        if !expected {
            let head = String::from_utf8_lossy(&answer[..answer.len().min(80)]).into_owned();
            let want = if step.expect_status.is_empty() {
                "2xx".to_string()
            } else {
                format!("{:?}", step.expect_status)
            };
            return Err(Failure::Status {
                status,
                message: format!(
                    "{} {path}: status {status}, expected {want}: {head}",
                    method
                ),
            });
        }
        for (k, v) in extract_all(&answer, &step.extract).map_err(Failure::Validation)? {
            vars.insert(k, v);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_the_base_with_the_rendered_path() {
        let c = HttpClient::new("http://127.0.0.1:8080", Duration::from_secs(1)).unwrap();
        for path in [
            "/",
            "/groups/7/members",
            "/a%20b?x=1&y=%2F",
            "/search?q=a b",
            "/x?",
        ] {
            let parsed = reqwest::Url::parse(&format!("http://127.0.0.1:8080{path}")).unwrap();
            assert_eq!(c.url(path), parsed, "{path}");
        }
    }
}
