//! Unit and property tests of `commands`.

use super::*;
use proptest::prelude::*;

fn ok(body: &str) -> Command {
    match parse_comment(body) {
        Some(Ok(c)) => c,
        other => panic!("{body:?} → {other:?}"),
    }
}

fn err(body: &str) -> CommandError {
    match parse_comment(body) {
        Some(Err(e)) => e,
        other => panic!("{body:?} → {other:?}"),
    }
}

#[test]
fn all_commands() {
    assert_eq!(ok("/perfwatch run"), Command::Run { repeats: None });
    assert_eq!(
        ok("  /perfwatch   run   repeats=5  \n"),
        Command::Run { repeats: Some(5) }
    );
    assert_eq!(
        ok("/perfwatch run repeats=1"),
        Command::Run { repeats: Some(1) }
    );
    assert_eq!(
        ok("/perfwatch run repeats=50"),
        Command::Run { repeats: Some(50) }
    );
    assert_eq!(ok("/perfwatch rerun"), Command::Rerun);
    assert_eq!(ok("/perfwatch cancel"), Command::Cancel);
    assert_eq!(ok("/perfwatch retry"), Command::Retry);
    assert_eq!(ok("/perfwatch help"), Command::Help);
    assert_eq!(
        ok("/perfwatch compare ABCDEF1"),
        Command::Compare {
            sha: "abcdef1".into()
        }
    );
    let full = "0123456789abcdef0123456789abcdef01234567";
    assert_eq!(
        ok(&format!("/perfwatch compare {full}")),
        Command::Compare { sha: full.into() }
    );
}

#[test]
fn not_a_command() {
    assert_eq!(parse_comment(""), None);
    assert_eq!(parse_comment("LGTM, thanks"), None);
    assert_eq!(parse_comment("please /perfwatch run"), None);
    assert_eq!(parse_comment("/perfwatchrun"), None);
    assert_eq!(parse_comment("> /perfwatch run\n\nagreed"), None);
    assert_eq!(parse_comment("```\n/perfwatch run\n```"), None);
    assert_eq!(
        parse_comment("~~~~md\n/perfwatch run\n~~~\n/perfwatch x\n~~~~"),
        None
    );
}

#[test]
fn fences_close_and_inline_code_is_no_fence() {
    assert_eq!(
        ok("```\n/perfwatch help\n```\n/perfwatch rerun"),
        Command::Rerun
    );
    assert_eq!(ok("```inline```\n/perfwatch cancel"), Command::Cancel);
    // Quoted earlier command + a new one: only the new one counts.
    assert_eq!(ok("> /perfwatch run\n/perfwatch retry"), Command::Retry);
}

#[test]
fn errors() {
    assert_eq!(
        err("/perfwatch run\n/perfwatch cancel"),
        CommandError::Multiple(2)
    );
    assert_eq!(err("/perfwatch"), CommandError::Empty);
    assert_eq!(
        err("/perfwatch bench"),
        CommandError::UnknownCommand("bench".into())
    );
    assert!(matches!(
        err("/perfwatch run count=3"),
        CommandError::UnknownKey { .. }
    ));
    assert_eq!(
        err("/perfwatch run repeats=2 repeats=3"),
        CommandError::DuplicateKey("repeats".into())
    );
    for bad in ["0", "51", "-1", "x", "", "3.5"] {
        assert!(
            matches!(
                err(&format!("/perfwatch run repeats={bad}")),
                CommandError::BadValue { .. }
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        err("/perfwatch run now"),
        CommandError::UnexpectedArgument { .. }
    ));
    assert!(matches!(
        err("/perfwatch rerun please"),
        CommandError::UnexpectedArgument { .. }
    ));
    assert_eq!(err("/perfwatch compare"), CommandError::MissingSha);
    assert_eq!(
        err("/perfwatch compare abc"),
        CommandError::BadSha("abc".into())
    );
    assert_eq!(
        err("/perfwatch compare abcdefg"),
        CommandError::BadSha("abcdefg".into())
    );
    assert!(matches!(
        err(&format!("/perfwatch compare {}", "a".repeat(41))),
        CommandError::BadSha(_)
    ));
    assert!(matches!(
        err("/perfwatch compare abcdef1 x"),
        CommandError::UnexpectedArgument { .. }
    ));
}

#[test]
fn error_text_is_safe_to_post() {
    let e = err(&format!("/perfwatch @everyone`{}", "x".repeat(100)));
    let text = e.to_string();
    assert!(text.contains("`@everyone"), "{text}");
    assert_eq!(text.matches('`').count(), 2, "{text}");
    assert!(text.chars().count() < 80, "{text}");
    assert!(HELP.contains("/perfwatch compare <sha>") && HELP.contains("repeats=N"));
}

#[test]
fn who_may_command() {
    let allow = vec!["Carol".to_string()];
    assert!(may_command("OWNER", "x", &[]));
    assert!(may_command("member", "x", &[]));
    assert!(may_command("COLLABORATOR", "x", &[]));
    assert!(!may_command("CONTRIBUTOR", "x", &allow));
    assert!(!may_command("NONE", "mallory", &allow));
    assert!(may_command("NONE", "carol", &allow));
    assert!(!may_command("", "", &[]));
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        proptest::option::of(1u32..=50).prop_map(|repeats| Command::Run { repeats }),
        Just(Command::Rerun),
        Just(Command::Cancel),
        Just(Command::Retry),
        Just(Command::Help),
        "[0-9a-f]{7,40}".prop_map(|sha| Command::Compare { sha }),
    ]
}

proptest! {
    #[test]
    fn never_panics(body in any::<String>()) {
        let _ = parse_comment(&body);
    }

    #[test]
    fn never_panics_on_near_commands(body in "(/perfwatch|>|```|~~~| |\n|run|repeats=|[0-9]{1,3}|compare|[a-f0-9`@]{1,8}){0,12}") {
        if let Some(Err(e)) = parse_comment(&body) {
            let _ = e.to_string();
        }
    }

    #[test]
    fn rendered_command_round_trips(cmd in command(), before in "[a-z ,.]{0,20}", after in "[a-z ,.]{0,20}") {
        let body = format!("{before}\n{cmd}\n{after}");
        prop_assert_eq!(parse_comment(&body), Some(Ok(cmd)));
    }
}
