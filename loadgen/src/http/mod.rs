//! HTTP operations: render the step's templates, send, check the status, extract
//! variables from the JSON answer. Failures come back unclassified ([`Failure`]).
//! Plain `http://` targets are sent over hyper's HTTP/1 connections directly
//! ([`plain`]); `https://` ones through reqwest and its rustls stack.

mod plain;

use std::error::Error as _;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderMap, Request, Uri};
use http_body_util::Full;
use reqwest::Url;

use crate::extract::extract_all;
use crate::scenario::{Step, StepKind};
use crate::taxonomy::{transport_kind, Failure};
use crate::template::Template;
use crate::vars::Vars;

enum Transport {
    /// hyper connections to the base URL's host, with the Host header they send.
    Plain(std::sync::Arc<plain::Pool>, HeaderValue),
    Tls,
}

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    transport: std::sync::Arc<Transport>,
    timeout: Duration,
    base: String,
    /// `base` parsed once: a request's URL is this with the path set, so the host is not
    /// parsed (and IDNA-checked) again per request — a few µs of the generator's CPU.
    base_url: Url,
}

/// A step's request built once (see [`HttpClient::prepare`]); a request from it costs
/// a few clones of shared bytes instead of template rendering and URI parsing.
pub struct Prepared {
    method: http::Method,
    /// For error messages.
    path: String,
    uri: Uri,
    /// Host included.
    headers: HeaderMap,
    body: Bytes,
}

/// The request timer of one virtual user (or one open-model iteration): one tokio
/// timer entry re-armed per request. Moving a registered entry to a later deadline is
/// one atomic update, where a fresh `tokio::time::timeout` per request registered and
/// removed an entry in the timer wheel each time.
#[derive(Default)]
pub struct Deadline(Option<Pin<Box<tokio::time::Sleep>>>);

impl Deadline {
    fn arm(&mut self, at: tokio::time::Instant) -> Pin<&mut tokio::time::Sleep> {
        match &mut self.0 {
            Some(s) => s.as_mut().reset(at),
            None => self.0 = Some(Box::pin(tokio::time::sleep_until(at))),
        }
        self.0.as_mut().expect("armed above").as_mut()
    }
}

/// A rendered request, before it goes to one transport or the other.
struct Outgoing {
    method: http::Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// Whether `path` reaches the server byte for byte as the `url` crate would write it
/// (no character it percent-encodes or rewrites, no dot segment), so it can be sent
/// without building a URL.
fn verbatim(path: &str) -> bool {
    path.bytes()
        .all(|b| b.is_ascii_graphic() && !b"\"#<>`{}'\\|^[]".contains(&b))
        && !path.contains("/.")
}

impl HttpClient {
    /// The URL of a rendered path (`/groups/7?x=1`) on the base URL.
    fn url(&self, path: &str) -> Url {
        let mut url = self.base_url.clone();
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        url.set_path(path);
        url.set_query(query);
        url
    }

    /// The request target (`/groups/7?x=1`) of a rendered path, encoded as the full
    /// URL would encode it.
    fn origin_form(&self, path: &str) -> Result<Uri, Failure> {
        let bytes = if verbatim(path) {
            Bytes::copy_from_slice(path.as_bytes())
        } else {
            Bytes::from(self.url(path)[url::Position::BeforePath..].to_string())
        };
        Uri::from_maybe_shared(bytes)
            .map_err(|e| Failure::Validation(format!("path `{path}`: {e}")))
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
        let base_url = Url::parse(base).map_err(|e| format!("base URL `{base}`: {e}"))?;
        let transport = match (base_url.scheme(), base_url.host()) {
            ("http", Some(host)) => {
                let port = base_url.port_or_known_default().unwrap_or(80);
                let peer = match host {
                    url::Host::Ipv4(a) => plain::Peer::Addr((a, port).into()),
                    url::Host::Ipv6(a) => plain::Peer::Addr((a, port).into()),
                    url::Host::Domain(d) => plain::Peer::Name(d.to_string(), port),
                };
                let authority = match base_url.port() {
                    Some(p) => format!("{}:{p}", base_url.host_str().unwrap_or_default()),
                    None => base_url.host_str().unwrap_or_default().to_string(),
                };
                let host = HeaderValue::from_str(&authority)
                    .map_err(|e| format!("base URL `{base}`: host: {e}"))?;
                Transport::Plain(std::sync::Arc::new(plain::Pool::new(peer)), host)
            }
            _ => Transport::Tls,
        };
        Ok(Self {
            client,
            transport: std::sync::Arc::new(transport),
            timeout,
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

    /// The step's request with every template filled.
    fn render(step: &Step, vars: &Vars<'_>) -> Result<Outgoing, Failure> {
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
        let mut out = Outgoing {
            method: method.clone(),
            path: path.render(vars).map_err(Failure::Validation)?,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        };
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Failure::Validation(format!("header `{name}`: not a header name")))?;
            let text = value.render(vars).map_err(Failure::Validation)?;
            let value = HeaderValue::from_maybe_shared(Bytes::from(text)).map_err(|_| {
                Failure::Validation(format!("header `{name}`: not a valid header value"))
            })?;
            out.headers.append(name, value);
        }
        // reqwest's default, kept so a service sees the same request as before.
        if !out.headers.contains_key(ACCEPT) {
            out.headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        }
        if let Some(b) = bearer {
            let token = b.render(vars).map_err(Failure::Validation)?;
            let mut value = HeaderValue::from_maybe_shared(Bytes::from(format!("Bearer {token}")))
                .map_err(|_| Failure::Validation("bearer: not a valid header value".into()))?;
            value.set_sensitive(true);
            out.headers.append(AUTHORIZATION, value);
        }
        if let Some(b) = body {
            let text = b.render(vars).map_err(Failure::Validation)?;
            if text.trim_start().starts_with(['{', '[']) && !out.headers.contains_key(CONTENT_TYPE)
            {
                out.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            out.body = Bytes::from(text);
        }
        Ok(out)
    }

    /// Sends a rendered request; the status and the whole answer.
    async fn send(
        &self,
        out: &mut Outgoing,
        deadline: &mut Deadline,
    ) -> Result<(u16, Bytes), Failure> {
        let (headers, body) = (
            std::mem::take(&mut out.headers),
            std::mem::take(&mut out.body),
        );
        match &*self.transport {
            Transport::Plain(pool, host) => {
                let mut req = Request::new(Full::new(body));
                *req.method_mut() = out.method.clone();
                *req.uri_mut() = self.origin_form(&out.path)?;
                *req.headers_mut() = headers;
                req.headers_mut().insert(HOST, host.clone());
                self.send_plain(pool, req, deadline).await
            }
            Transport::Tls => {
                let resp = self
                    .client
                    .request(out.method.clone(), self.url(&out.path))
                    .headers(headers)
                    .body(body)
                    .send()
                    .await
                    .map_err(transport)?;
                let status = resp.status().as_u16();
                Ok((status, resp.bytes().await.map_err(transport)?))
            }
        }
    }

    /// A plain-HTTP request bounded by the client's timeout.
    async fn send_plain(
        &self,
        pool: &plain::Pool,
        req: Request<Full<Bytes>>,
        deadline: &mut Deadline,
    ) -> Result<(u16, Bytes), Failure> {
        let timer = deadline.arm(tokio::time::Instant::now() + self.timeout);
        tokio::select! {
            biased;
            r = pool.send(req) => r.map(|(status, body)| (status.as_u16(), body)),
            _ = timer => Err(plain::timed_out(self.timeout)),
        }
    }

    /// The request of `step` built once, when nothing in it depends on variables and it
    /// goes over plain HTTP; None otherwise (also when it would fail: it then fails per
    /// attempt, as a rendered one does).
    pub fn prepare(&self, step: &Step) -> Option<Prepared> {
        let Transport::Plain(_, host) = &*self.transport else {
            return None;
        };
        let StepKind::Http {
            path,
            headers,
            body,
            bearer,
            ..
        } = &step.kind
        else {
            return None;
        };
        let constant = path.is_constant()
            && headers.iter().all(|(_, t)| t.is_constant())
            && body.as_ref().is_none_or(Template::is_constant)
            && bearer.as_ref().is_none_or(Template::is_constant);
        if !constant {
            return None;
        }
        let mut out = Self::render(step, &Vars::new(0, 0, 0, "")).ok()?;
        let uri = self.origin_form(&out.path).ok()?;
        out.headers.insert(HOST, host.clone());
        Some(Prepared {
            method: out.method,
            path: out.path,
            uri,
            headers: out.headers,
            body: out.body,
        })
    }

    /// Runs one HTTP step: `prepared` is [`HttpClient::prepare`]'s request for it, if
    /// any; `deadline` is the timer of the virtual user (or open-model iteration) it runs in.
    pub async fn run(
        &self,
        step: &Step,
        prepared: Option<&Prepared>,
        vars: &mut Vars<'_>,
        deadline: &mut Deadline,
    ) -> Result<(), Failure> {
        match (prepared, &*self.transport) {
            (Some(p), Transport::Plain(pool, _)) => {
                let mut req = Request::new(Full::new(p.body.clone()));
                *req.method_mut() = p.method.clone();
                *req.uri_mut() = p.uri.clone();
                *req.headers_mut() = p.headers.clone();
                let answer = self.send_plain(pool, req, deadline).await?;
                Self::check(step, &p.method, &p.path, answer, vars)
            }
            _ => {
                let mut out = Self::render(step, vars)?;
                let answer = self.send(&mut out, deadline).await?;
                Self::check(step, &out.method, &out.path, answer, vars)
            }
        }
    }

    /// The answer's status against the step's expectation, then its extractions.
    fn check(
        step: &Step,
        method: &http::Method,
        path: &str,
        (status, answer): (u16, Bytes),
        vars: &mut Vars<'_>,
    ) -> Result<(), Failure> {
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
            vars.set(k, v);
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

    #[test]
    fn request_targets_are_encoded_as_the_url_would_be() {
        let c = HttpClient::new("http://127.0.0.1:8080", Duration::from_secs(1)).unwrap();
        for path in [
            "/",
            "/null",
            "/groups/7/members?x=1&y=%2F",
            "/search?q=a b",
            "/q?n='x'&m=\"y\"",
            "/a/./b/../c",
            "/é?ü=1",
            "/x?",
            "/back\\slash",
            "/{curly}",
        ] {
            let parsed = Url::parse(&format!("http://127.0.0.1:8080{path}")).unwrap();
            let want = &parsed[url::Position::BeforePath..];
            assert_eq!(c.origin_form(path).unwrap().to_string(), want, "{path}");
        }
    }

    fn step(extra: &str) -> Step {
        let toml = format!(
            "[run]\nname = \"x\"\nbase_url = \"http://127.0.0.1:8080\"\nduration = \"1s\"\n\n[load]\nmodel = \"closed\"\nvus = 1\n\n[[flow]]\nname = \"f\"\nsteps = [{{ op = \"a\", method = \"POST\", path = \"/g/1?q=a b\"{extra} }}]\n"
        );
        crate::scenario::parse(&toml).unwrap().flows[0].steps[0].clone()
    }

    #[test]
    fn a_prepared_request_is_the_rendered_one() {
        let c = HttpClient::new("http://127.0.0.1:8080", Duration::from_secs(1)).unwrap();
        let s = step(", headers = { x-tag = \"t\" }, bearer = \"tok\", body = '{\"name\":\"n\"}'");
        let p = c.prepare(&s).expect("a step without variables is prepared");
        let r = HttpClient::render(&s, &Vars::new(0, 0, 0, "f")).unwrap();
        assert_eq!(p.method, r.method);
        assert_eq!(p.uri, c.origin_form(&r.path).unwrap());
        assert_eq!(p.uri, "/g/1?q=a%20b");
        assert_eq!(p.body, r.body);
        let mut want = r.headers;
        want.insert(HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert_eq!(p.headers, want);
        assert_eq!(p.headers["content-type"], "application/json");
        assert_eq!(p.headers[AUTHORIZATION], "Bearer tok");
    }

    #[test]
    fn steps_with_variables_or_tls_are_rendered_per_request() {
        let c = HttpClient::new("http://127.0.0.1:8080", Duration::from_secs(1)).unwrap();
        assert!(c.prepare(&step(", bearer = \"{{vu}}\"")).is_none());
        assert!(c.prepare(&step(", body = \"{{iter}}\"")).is_none());
        let tls = HttpClient::new("https://127.0.0.1:8443", Duration::from_secs(1)).unwrap();
        assert!(tls.prepare(&step("")).is_none());
    }
}
