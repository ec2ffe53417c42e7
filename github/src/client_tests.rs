//! Unit tests of `client` that need no server.

use super::*;

#[test]
fn construction_and_redaction() {
    let c = Client::new(
        "http://127.0.0.1:1/",
        Credentials::Token("ghp_secret".into()),
    )
    .unwrap();
    assert!(!format!("{c:?}").contains("ghp_secret"));
    assert!(!format!("{:?}", Credentials::Token("ghp_secret".into())).contains("ghp_secret"));
    assert_eq!(
        c.url("/x", &[("a", "b c")]).unwrap().as_str(),
        "http://127.0.0.1:1/x?a=b+c"
    );
    let ghe = Client::new("https://ghe.example/api/v3", Credentials::Token("t".into())).unwrap();
    assert_eq!(
        ghe.url("/repos/o/r", &[]).unwrap().as_str(),
        "https://ghe.example/api/v3/repos/o/r"
    );
    for bad in ["", "ftp://x", "not a url", "mailto:a@b"] {
        assert!(
            matches!(
                Client::new(bad, Credentials::Token("t".into())),
                Err(ClientError::Invalid(_))
            ),
            "{bad}"
        );
    }
    assert!(Client::new("http://x", Credentials::Token("a\nb".into())).is_err());
}

#[test]
fn api_base_that_is_not_http_is_refused_naming_the_field() {
    for (bad, why) in [
        ("ftp://ghe.example/api/v3", "scheme `ftp`"),
        ("javascript:alert(1)", "scheme `javascript`"),
    ] {
        let Err(ClientError::Invalid(msg)) = Client::new(bad, Credentials::Token("t".into()))
        else {
            panic!("{bad} accepted");
        };
        assert!(msg.starts_with("api_base: "), "{msg}");
        assert!(msg.contains(why), "{msg}");
    }
}

#[test]
fn repo_and_sha_checks() {
    assert!(check_repo("o/r.rs").is_ok());
    for bad in ["o", "o/", "/r", "o/r/x", "../r", "o/..", "o r/x", "o/r?x"] {
        assert!(check_repo(bad).is_err(), "{bad}");
    }
    assert!(check_sha("abc123").is_ok());
    assert!(check_sha("").is_err() && check_sha("xyz").is_err() && check_sha("a/b").is_err());
}

#[tokio::test]
async fn bad_arguments_fail_before_any_request() {
    // Port 1 is closed: reaching the network would give Transient, not Invalid.
    let c = Client::new("http://127.0.0.1:1", Credentials::Token("t".into())).unwrap();
    assert!(matches!(
        c.branch_head("o/r", "..").await,
        Err(ClientError::Invalid(_))
    ));
    assert!(matches!(
        c.get_pull("../x", 1).await,
        Err(ClientError::Invalid(_))
    ));
    let s = StatusReq {
        state: "green".into(),
        context: "c".into(),
        description: String::new(),
        target_url: None,
    };
    assert!(matches!(
        c.create_status("o/r", "abc", &s).await,
        Err(ClientError::Invalid(_))
    ));
    let mut check = CheckRunReq {
        name: "perfwatch".into(),
        head_sha: "abc".into(),
        status: "completed".into(),
        conclusion: None,
        external_id: None,
        details_url: None,
        title: String::new(),
        summary: String::new(),
    };
    assert!(matches!(
        c.create_check_run("o/r", &check).await,
        Err(ClientError::Invalid(_))
    ));
    check.status = "done".into();
    assert!(matches!(
        c.update_check_run("o/r", 1, &check).await,
        Err(ClientError::Invalid(_))
    ));
    assert!(matches!(
        c.get_pull("o/r", 1).await,
        Err(ClientError::Transient(_))
    ));
}
