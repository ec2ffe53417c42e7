//! Mirrors and checkouts against a repository made by the test.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

mod common;

use common::{commit, git, init_repo};
use perfwatch_jobs::{GitError, Mirror};

#[test]
fn mirror_reads_commits_files_and_checkouts() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("origin");
    init_repo(&repo);
    let a = commit(&repo, &[("a.txt", "one\n")], "first commit\n\nbody");
    let b = commit(&repo, &[("a.txt", "two\n"), ("dir/b.txt", "b\n")], "second");
    git(&repo, &["checkout", "-q", "-b", "side", &a]);
    let c = commit(&repo, &[("c.txt", "c\n")], "on a side branch");

    let mirrors = tmp.path().join("mirrors");
    let url = format!("file://{}", repo.display());
    let m = Mirror::open(&mirrors, &url).unwrap();
    assert!(m.path().starts_with(&mirrors));
    assert!(m.has_commit(&b).unwrap());
    assert!(m.has_commit(&b[..10]).unwrap());
    assert_eq!(m.resolve(&b[..8]).unwrap(), b);
    assert_eq!(m.merge_base(&b, &c).unwrap(), a);

    assert_eq!(m.file_at(&b, "dir/b.txt").unwrap().as_deref(), Some("b\n"));
    assert_eq!(m.file_at(&a, "dir/b.txt").unwrap(), None);
    assert_eq!(m.file_at(&b, "dir").unwrap(), None, "a tree is not a file");
    assert!(matches!(
        m.file_at(&b, "../x"),
        Err(GitError::InvalidPath(_))
    ));

    let info = m.commit_info(&b).unwrap();
    assert_eq!(info.sha, b);
    assert_eq!(info.parent.as_deref(), Some(a.as_str()));
    assert_eq!(
        (info.author.as_str(), info.message.as_str()),
        ("Test", "second")
    );
    assert_eq!(m.commit_info(&a).unwrap().parent, None);
    assert_eq!(m.commit_info(&a).unwrap().message, "first commit");

    let dest = tmp.path().join("work/head");
    m.checkout(&b, &dest).unwrap();
    assert_eq!(
        std::fs::read_to_string(dest.join("a.txt")).unwrap(),
        "two\n"
    );
    assert_eq!(git(&dest, &["rev-parse", "HEAD"]), b);
    std::fs::remove_dir_all(&dest).unwrap();

    // A commit made after the mirror was cloned appears after a fetch.
    let d = commit(&repo, &[("d.txt", "d\n")], "later");
    assert!(!m.has_commit(&d).unwrap());
    let again = Mirror::open(&mirrors, &url).unwrap();
    again.fetch().unwrap();
    assert!(m.has_commit(&d).unwrap());
}

#[test]
fn bad_ids_and_unknown_commits_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("origin");
    init_repo(&repo);
    let a = commit(&repo, &[("a.txt", "a")], "a");
    let m = Mirror::open(&tmp.path().join("m"), repo.to_str().unwrap()).unwrap();
    for bad in [
        "--upload-pack=x",
        "HEAD",
        "abc",
        "g123456",
        &"a".repeat(41),
        "1234567 ",
    ] {
        assert!(
            matches!(m.has_commit(bad), Err(GitError::InvalidSha(_))),
            "{bad}"
        );
        assert!(matches!(
            m.checkout(bad, &tmp.path().join("x")),
            Err(GitError::InvalidSha(_))
        ));
    }
    let missing = "0123456789abcdef0123456789abcdef01234567";
    assert!(!m.has_commit(missing).unwrap());
    assert_eq!(
        m.resolve(missing),
        Err(GitError::UnknownCommit(missing.into()))
    );
    assert!(matches!(
        m.commit_info(missing),
        Err(GitError::UnknownCommit(_))
    ));
    assert!(m.has_commit(&a).unwrap());
    assert!(matches!(
        Mirror::open(&tmp.path().join("m"), "-oProxyCommand=x"),
        Err(GitError::InvalidUrl(_))
    ));
    let e = Mirror::open(&tmp.path().join("m"), "/nonexistent/repo").unwrap_err();
    assert!(matches!(e, GitError::Command { .. }), "{e:?}");
}

#[test]
fn concurrent_workers_share_one_mirror() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("origin");
    init_repo(&repo);
    let a = commit(&repo, &[("a", "a")], "a");
    let mirrors = tmp.path().join("mirrors");
    let url = repo.display().to_string();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (mirrors, url, a) = (mirrors.clone(), url.clone(), a.clone());
            std::thread::spawn(move || {
                let m = Mirror::open(&mirrors, &url)?;
                m.fetch()?;
                m.has_commit(&a)
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), Ok(true));
    }
    let repos = std::fs::read_dir(&mirrors)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "git"))
        .count();
    assert_eq!(repos, 1);
}
