//! HTTP operations: render the step's templates, send, check the status, extract
//! variables from the JSON answer. Failures come back unclassified ([`Failure`]).
//! Plain `http://` targets are sent on each virtual user's own HTTP/1.1 connection
//! ([`conn`], [`session`]); `https://` ones through reqwest and its rustls stack.

mod check;
mod conn;
mod render;
mod response;
mod session;
mod wire;

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::HeaderValue;
use http::{Method, Uri};
use reqwest::Url;

use render::Outgoing;
pub use session::Session;

use crate::scenario::{Step, StepKind};
use crate::taxonomy::{transport_kind, Failure};
use crate::template::Template;
use crate::vars::Vars;

enum Transport {
    /// Connections to the base URL's host, with the Host header they send.
    Plain(Arc<session::Pool>, HeaderValue),
    Tls,
}

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    transport: Arc<Transport>,
    timeout: Duration,
    base: String,
    /// `base` parsed once: a request's URL is this with the path set, so the host is not
    /// parsed (and IDNA-checked) again per request — a few µs of the generator's CPU.
    base_url: Url,
}

/// A step's request built once (see [`HttpClient::prepare`]): sending it is one write
/// of these bytes instead of template rendering, URI parsing and encoding.
pub struct Prepared {
    method: Method,
    /// For error messages.
    path: String,
    /// The whole request as it goes on the connection.
    request: Bytes,
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
                    url::Host::Ipv4(a) => conn::Peer::Addr((a, port).into()),
                    url::Host::Ipv6(a) => conn::Peer::Addr((a, port).into()),
                    url::Host::Domain(d) => conn::Peer::Name(d.to_string(), port),
                };
                let authority = match base_url.port() {
                    Some(p) => format!("{}:{p}", base_url.host_str().unwrap_or_default()),
                    None => base_url.host_str().unwrap_or_default().to_string(),
                };
                let host = HeaderValue::from_str(&authority)
                    .map_err(|e| format!("base URL `{base}`: host: {e}"))?;
                Transport::Plain(Arc::new(session::Pool::new(peer)), host)
            }
            _ => Transport::Tls,
        };
        Ok(Self {
            client,
            transport: Arc::new(transport),
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

    /// Sends a rendered request; the status and the whole answer.
    async fn send(&self, out: Outgoing, session: &mut Session) -> Result<(u16, Bytes), Failure> {
        match &*self.transport {
            Transport::Plain(pool, host) => {
                let target = self.origin_form(&out.path)?;
                let request = wire::encode(&out.method, &target, host, &out.headers, &out.body);
                session
                    .send_plain(pool, &request, out.method == Method::HEAD, self.timeout)
                    .await
            }
            Transport::Tls => {
                let resp = self
                    .client
                    .request(out.method, self.url(&out.path))
                    .headers(out.headers)
                    .body(out.body)
                    .send()
                    .await
                    .map_err(transport)?;
                let status = resp.status().as_u16();
                Ok((status, resp.bytes().await.map_err(transport)?))
            }
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
        let out = render::render(step, &Vars::new(0, 0, 0, "")).ok()?;
        let target = self.origin_form(&out.path).ok()?;
        let request = wire::encode(&out.method, &target, host, &out.headers, &out.body);
        Some(Prepared {
            method: out.method,
            path: out.path,
            request: Bytes::from(request),
        })
    }

    /// Runs one HTTP step: `prepared` is [`HttpClient::prepare`]'s request for it, if
    /// any; `session` is the virtual user (or open-model iteration) it runs in.
    pub async fn run(
        &self,
        step: &Step,
        prepared: Option<&Prepared>,
        vars: &mut Vars<'_>,
        session: &mut Session,
    ) -> Result<(), Failure> {
        match (prepared, &*self.transport) {
            (Some(p), Transport::Plain(pool, _)) => {
                let head = p.method == Method::HEAD;
                let answer = session
                    .send_plain(pool, &p.request, head, self.timeout)
                    .await?;
                check::check(step, &p.method, &p.path, answer, vars)
            }
            _ => {
                let out = render::render(step, vars)?;
                let (method, path) = (out.method.clone(), out.path.clone());
                let answer = self.send(out, session).await?;
                check::check(step, &method, &path, answer, vars)
            }
        }
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
        let r = render::render(&s, &Vars::new(0, 0, 0, "f")).unwrap();
        assert_eq!(p.method, r.method);
        let target = c.origin_form(&r.path).unwrap();
        let host = HeaderValue::from_static("127.0.0.1:8080");
        let want = wire::encode(&r.method, &target, &host, &r.headers, &r.body);
        assert_eq!(p.request, want);
        let text = String::from_utf8(want).unwrap();
        assert!(
            text.starts_with("POST /g/1?q=a%20b HTTP/1.1\r\nhost: 127.0.0.1:8080\r\n"),
            "{text}"
        );
        assert!(
            text.contains("\r\ncontent-type: application/json\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nauthorization: Bearer tok\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\n{\"name\":\"n\"}"), "{text}");
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
