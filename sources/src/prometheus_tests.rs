use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn decodes_vector_matrix_scalar_and_special_values() {
    let v = br#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"endpoint":"a"},"value":[1796000000,"1.5"]},
        {"metric":{},"value":[1796000000,"NaN"]},
        {"metric":{},"value":[1796000000,"+Inf"]}]}}"#;
    match decode(200, v) {
        Ok(QueryData::Vector(s)) => {
            assert_eq!(s[0].0.get("endpoint").map(String::as_str), Some("a"));
            assert_eq!(s[0].1, 1.5);
            assert!(s[1].1.is_nan());
            assert_eq!(s[2].1, f64::INFINITY);
        }
        other => panic!("{other:?}"),
    }
    let m = br#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"a":"b"},"values":[[1.5,"1"],[2.5,"-Inf"]]}]}}"#;
    match decode(200, m) {
        Ok(QueryData::Matrix(s)) => assert_eq!(s[0].1.len(), 2),
        other => panic!("{other:?}"),
    }
    let sc = br#"{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#;
    assert_eq!(decode(200, sc), Ok(QueryData::Scalar(2.0)));
}

#[test]
fn typed_errors_and_retryability() {
    let bad = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#;
    let e = decode(400, bad).unwrap_err();
    assert_eq!(
        e,
        SourceError::Query("bad_data: parse error at char 5".into())
    );
    assert!(!e.is_retryable());
    let busy = br#"{"status":"error","errorType":"timeout","error":"query timed out"}"#;
    let e = decode(503, busy).unwrap_err();
    assert!(matches!(e, SourceError::Http { status: 503, .. }) && e.is_retryable());
    let e = decode(401, b"<html>login</html>").unwrap_err();
    assert!(matches!(e, SourceError::Http { status: 401, .. }) && !e.is_retryable());
    let e = decode(502, b"bad gateway").unwrap_err();
    assert!(e.is_retryable());
    assert!(matches!(
        decode(200, b"not json"),
        Err(SourceError::Decode(_))
    ));
    let odd = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}"#;
    assert!(matches!(decode(200, odd), Err(SourceError::Decode(_))));
    let odd = br#"{"status":"success","data":{"resultType":"tensor","result":[]}}"#;
    assert!(matches!(decode(200, odd), Err(SourceError::Decode(_))));
}

#[test]
fn basic_auth_encoding() {
    assert_eq!(
        base64(b"Aladdin:open sesame"),
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b""), "");
}

/// Serves one canned answer on 127.0.0.1 and hands back the request it got.
async fn one_shot(status: &str, body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/prefix", listener.local_addr().expect("addr"));
    let status = status.to_string();
    let task = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = sock.read(&mut buf).await.expect("read");
            req.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&req).to_string();
            if let Some(h) = text.find("\r\n\r\n") {
                let len = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if req.len() >= h + 4 + len || n == 0 {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let resp = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(resp.as_bytes()).await.expect("write");
        String::from_utf8_lossy(&req).to_string()
    });
    (url, task)
}

#[tokio::test]
async fn sends_form_auth_and_headers_under_the_prefix() {
    let (url, task) = one_shot(
        "200 OK",
        r#"{"status":"success","data":{"resultType":"scalar","result":[1,"3"]}}"#,
    )
    .await;
    let src = PromSource {
        headers: vec![("X-Scope-OrgID".into(), "team-a".into())],
        auth: Auth::Bearer("s3cret".into()),
        ..PromSource::new(url)
    };
    let client = PromClient::new(&src).expect("client");
    let t = DateTime::from_timestamp(1_796_000_000, 500_000_000).expect("time");
    let got = client.instant("sum(x{a=\"b c\"})", t).await;
    assert_eq!(got, Ok(QueryData::Scalar(3.0)));
    let req = task.await.expect("server");
    assert!(req.starts_with("POST /prefix/api/v1/query "), "{req}");
    assert!(
        req.to_ascii_lowercase()
            .contains("authorization: bearer s3cret"),
        "{req}"
    );
    assert!(
        req.to_ascii_lowercase().contains("x-scope-orgid: team-a"),
        "{req}"
    );
    assert!(
        req.ends_with("query=sum%28x%7Ba%3D%22b%20c%22%7D%29&time=1796000000%2E500"),
        "{req}"
    );
}

#[tokio::test]
async fn errors_never_carry_credentials() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let src = PromSource {
        auth: Auth::Basic {
            user: "perf".into(),
            password: "hunter2".into(),
        },
        ..PromSource::new(format!("http://127.0.0.1:{port}"))
    };
    let client = PromClient::new(&src).expect("client");
    let e = client.instant("up", Utc::now()).await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("hunter2"));
    let (url, task) = one_shot("500 Internal Server Error", "boom").await;
    let src = PromSource {
        auth: Auth::Bearer("tok3n".into()),
        ..PromSource::new(url)
    };
    let e = PromClient::new(&src)
        .expect("client")
        .range("up", Utc::now(), Utc::now(), Duration::from_secs(15))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        SourceError::Http {
            status: 500,
            body_excerpt: "boom".into()
        }
    );
    assert!(e.is_retryable() && !format!("{e:?}").contains("tok3n"));
    assert!(task
        .await
        .expect("server")
        .starts_with("POST /prefix/api/v1/query_range "));
}

#[tokio::test]
async fn redirects_are_reported_not_followed() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let resp = "HTTP/1.1 301 Moved Permanently\r\nlocation: https://prom.internal/api/v1/query?x=1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        sock.write_all(resp.as_bytes()).await.expect("write");
    });
    let client = PromClient::new(&PromSource::new(url)).expect("client");
    let e = client.instant("up", Utc::now()).await.unwrap_err();
    match &e {
        SourceError::Http {
            status: 301,
            body_excerpt,
        } => {
            assert!(
                body_excerpt.contains("https://prom.internal/api/v1/query`"),
                "{body_excerpt}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.is_retryable());
    server.await.expect("server");
}
