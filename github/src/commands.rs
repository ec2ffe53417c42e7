//! `/perfwatch …` commands in pull-request comments, parsed strictly: one command per
//! comment, no unknown or repeated keys, so that a typo is answered with help instead
//! of silently running something the author did not mean.

use std::fmt;

/// The word that starts a command line.
const PREFIX: &str = "/perfwatch";
/// Longest user text echoed back in an error, so replies stay short.
const ECHO_MAX: usize = 40;

/// Markdown help, posted in answer to `/perfwatch help` and to any malformed command.
pub const HELP: &str = "\
**perfwatch commands** (one per comment, on a line of its own):

| command | what it does |
|---|---|
| `/perfwatch run [repeats=N]` | queue a performance job for the PR's current head (N = 1..50 runs) |
| `/perfwatch rerun` | run the last job of this PR again |
| `/perfwatch cancel` | cancel this PR's queued and running jobs |
| `/perfwatch retry` | rebuild a lost job from the PR's current state on GitHub |
| `/perfwatch compare <sha>` | compare the PR's head against the given commit (7–40 hex digits) |
| `/perfwatch help` | show this help |

Only repository owners, members, collaborators and allow-listed users may command.
";

/// A well-formed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/perfwatch run [repeats=N]`.
    Run {
        /// Number of runs; None = the job definition's own.
        repeats: Option<u32>,
    },
    /// `/perfwatch rerun`.
    Rerun,
    /// `/perfwatch cancel`.
    Cancel,
    /// `/perfwatch retry`.
    Retry,
    /// `/perfwatch compare <sha>`.
    Compare {
        /// Lower-cased abbreviated or full commit SHA (7–40 hex digits).
        sha: String,
    },
    /// `/perfwatch help`.
    Help,
}

impl fmt::Display for Command {
    /// The canonical text of the command, which `parse_comment` reads back unchanged.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Run { repeats: None } => write!(f, "{PREFIX} run"),
            Command::Run { repeats: Some(n) } => write!(f, "{PREFIX} run repeats={n}"),
            Command::Rerun => write!(f, "{PREFIX} rerun"),
            Command::Cancel => write!(f, "{PREFIX} cancel"),
            Command::Retry => write!(f, "{PREFIX} retry"),
            Command::Compare { sha } => write!(f, "{PREFIX} compare {sha}"),
            Command::Help => write!(f, "{PREFIX} help"),
        }
    }
}

/// What was wrong with a command. The Display text is meant for the reply comment;
/// user text in it is cut short and shown as code, so it cannot @-mention anyone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// More than one `/perfwatch` line.
    #[error("found {0} `/perfwatch` lines; put exactly one command in a comment")]
    Multiple(usize),
    /// `/perfwatch` alone.
    #[error("`/perfwatch` needs a command")]
    Empty,
    /// The word after `/perfwatch` is not a command.
    #[error("unknown command {}", echo(.0))]
    UnknownCommand(String),
    /// `key=value` with a key the command does not take.
    #[error("`{command}` takes no key {}", echo(.key))]
    UnknownKey {
        /// The command name.
        command: &'static str,
        /// The key given.
        key: String,
    },
    /// The same key twice.
    #[error("key {} is given twice", echo(.0))]
    DuplicateKey(String),
    /// A key's value is out of range or not a number.
    #[error("bad value {} for `{key}`: expected {expected}", echo(.value))]
    BadValue {
        /// The key.
        key: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
    /// An argument the command does not take.
    #[error("`{command}` takes no argument {}", echo(.arg))]
    UnexpectedArgument {
        /// The command name.
        command: &'static str,
        /// The argument given.
        arg: String,
    },
    /// `compare` without a SHA.
    #[error("`compare` needs a commit SHA (7 to 40 hex digits)")]
    MissingSha,
    /// `compare` with something that is not 7–40 hex digits.
    #[error("{} is not a commit SHA (7 to 40 hex digits)", echo(.0))]
    BadSha(String),
}

/// User text as inline code, cut to `ECHO_MAX` characters, backticks removed so it
/// cannot close the code span.
fn echo(s: &str) -> String {
    let clean: String = s.chars().filter(|&c| c != '`').take(ECHO_MAX).collect();
    let cut = if s.chars().count() > ECHO_MAX {
        "…"
    } else {
        ""
    };
    format!("`{clean}{cut}`")
}

/// Finds and parses the `/perfwatch` command in a comment body.
///
/// None when no line (outside fenced code and `>` quotes) starts with `/perfwatch`;
/// otherwise the one command, or what was wrong with it.
pub fn parse_comment(body: &str) -> Option<Result<Command, CommandError>> {
    let lines = command_lines(body);
    match lines.as_slice() {
        [] => None,
        [line] => Some(parse_line(line)),
        many => Some(Err(CommandError::Multiple(many.len()))),
    }
}

/// The lines whose first word is `/perfwatch`, skipping fenced code blocks (a command
/// shown as an example) and `>` quotes (someone quoting an earlier command in a reply).
fn command_lines(body: &str) -> Vec<&str> {
    let mut fence: Option<(char, usize)> = None;
    let mut found = Vec::new();
    for raw in body.lines() {
        let line = raw.trim();
        let run = fence_run(line);
        match (fence, run) {
            (None, Some(open)) => fence = Some(open),
            // A closing fence uses the same character, at least as many, and nothing else.
            (Some((c, n)), Some((rc, rn)))
                if rc == c && rn >= n && line.chars().all(|x| x == c) =>
            {
                fence = None
            }
            (Some(_), _) => {}
            (None, None) => {
                if !line.starts_with('>') && line.split_whitespace().next() == Some(PREFIX) {
                    found.push(line);
                }
            }
        }
    }
    found
}

/// The fence character and length when `line` opens or closes a fenced code block.
fn fence_run(line: &str) -> Option<(char, usize)> {
    let c = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = line.chars().take_while(|x| *x == c).count();
    // "```x```" on one line is inline code, not a fence (CommonMark: a backtick
    // fence's info string holds no backticks).
    let inline = c == '`' && line[n..].contains('`');
    (n >= 3 && !inline).then_some((c, n))
}

fn parse_line(line: &str) -> Result<Command, CommandError> {
    let mut words = line.split_whitespace().skip(1);
    let name = words.next().ok_or(CommandError::Empty)?;
    let args: Vec<&str> = words.collect();
    match name.to_ascii_lowercase().as_str() {
        "run" => parse_run(&args),
        "rerun" => no_args("rerun", &args).map(|()| Command::Rerun),
        "cancel" => no_args("cancel", &args).map(|()| Command::Cancel),
        "retry" => no_args("retry", &args).map(|()| Command::Retry),
        "help" => no_args("help", &args).map(|()| Command::Help),
        "compare" => parse_compare(&args),
        _ => Err(CommandError::UnknownCommand(name.to_string())),
    }
}

fn no_args(command: &'static str, args: &[&str]) -> Result<(), CommandError> {
    match args.first() {
        None => Ok(()),
        Some(arg) => Err(CommandError::UnexpectedArgument {
            command,
            arg: (*arg).to_string(),
        }),
    }
}

fn parse_run(args: &[&str]) -> Result<Command, CommandError> {
    let mut repeats = None;
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(CommandError::UnexpectedArgument {
                command: "run",
                arg: (*arg).to_string(),
            });
        };
        if !key.eq_ignore_ascii_case("repeats") {
            return Err(CommandError::UnknownKey {
                command: "run",
                key: key.to_string(),
            });
        }
        if repeats.is_some() {
            return Err(CommandError::DuplicateKey(key.to_string()));
        }
        let n = value
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=50).contains(n))
            .ok_or_else(|| CommandError::BadValue {
                key: "repeats",
                value: value.to_string(),
                expected: "a whole number from 1 to 50",
            })?;
        repeats = Some(n);
    }
    Ok(Command::Run { repeats })
}

fn parse_compare(args: &[&str]) -> Result<Command, CommandError> {
    match args {
        [] => Err(CommandError::MissingSha),
        [sha] => {
            let ok = (7..=40).contains(&sha.len()) && sha.chars().all(|c| c.is_ascii_hexdigit());
            if ok {
                Ok(Command::Compare {
                    sha: sha.to_ascii_lowercase(),
                })
            } else {
                Err(CommandError::BadSha((*sha).to_string()))
            }
        }
        [_, extra, ..] => Err(CommandError::UnexpectedArgument {
            command: "compare",
            arg: (*extra).to_string(),
        }),
    }
}

/// May this comment author command perfwatch? Repository owners, organisation members
/// and collaborators may, and so may logins in the project's allowlist (compared
/// case-insensitively, as GitHub logins are).
pub fn may_command(author_association: &str, login: &str, allowlist: &[String]) -> bool {
    let trusted = ["OWNER", "MEMBER", "COLLABORATOR"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(author_association.trim()));
    trusted
        || allowlist
            .iter()
            .any(|allowed| allowed.trim().eq_ignore_ascii_case(login.trim()))
}

#[cfg(test)]
#[path = "commands_tests.rs"]
mod tests;
