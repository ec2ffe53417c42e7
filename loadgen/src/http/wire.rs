//! An HTTP/1.1 request as the bytes that go on the connection. A step without
//! variables is encoded once before the run (see `HttpClient::prepare`), so sending it
//! is one `write` of shared bytes.

use http::header::CONTENT_LENGTH;
use http::{HeaderMap, HeaderValue, Method, Uri};

/// The request line, `Host`, the step's headers and the body. `Content-Length` is added
/// as hyper did (which served plain HTTP before): for a body, and for an empty one on
/// methods that normally carry one, so a service sees the same request as before.
pub fn encode(
    method: &Method,
    target: &Uri,
    host: &HeaderValue,
    headers: &HeaderMap,
    body: &[u8],
) -> Vec<u8> {
    let target = target.path_and_query().map_or("/", |p| p.as_str());
    let mut out = Vec::with_capacity(64 + target.len() + 32 * headers.len() + body.len());
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        line(&mut out, name.as_str().as_bytes(), value.as_bytes());
    }
    let carries_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if !headers.contains_key(CONTENT_LENGTH) && (carries_body || !body.is_empty()) {
        line(
            &mut out,
            b"content-length",
            body.len().to_string().as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_its_line_host_headers_and_body() {
        let mut h = HeaderMap::new();
        h.insert("accept", HeaderValue::from_static("*/*"));
        let host = HeaderValue::from_static("127.0.0.1:8080");
        let get = encode(&Method::GET, &Uri::from_static("/a?b=1"), &host, &h, b"");
        assert_eq!(
            String::from_utf8(get).unwrap(),
            "GET /a?b=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\naccept: */*\r\n\r\n"
        );
        let post = encode(&Method::POST, &Uri::from_static("/g"), &host, &h, b"{}");
        assert_eq!(
            String::from_utf8(post).unwrap(),
            "POST /g HTTP/1.1\r\nhost: 127.0.0.1:8080\r\naccept: */*\r\ncontent-length: 2\r\n\r\n{}"
        );
        let empty = encode(&Method::POST, &Uri::from_static("/g"), &host, &h, b"");
        assert!(String::from_utf8(empty)
            .unwrap()
            .ends_with("content-length: 0\r\n\r\n"));
    }
}
