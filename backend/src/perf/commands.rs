//! `/perfwatch …` commands in PR comments. Only new comments by people allowed to
//! command count (OWNER, MEMBER, COLLABORATOR or the integration's allowlist); the
//! bot's own comments and edits are ignored. The head sha is pinned when the command
//! arrives, from GitHub's current state of the PR.

use perfwatch_github::commands::{may_command, parse_comment, Command, HELP};
use perfwatch_github::events::{IssueComment, PullRequest};

use super::deliveries::{pr_job, pull_as_event, reply};
use super::integration::client;
use crate::error::{Result, StoreError};
use crate::secrets::SealKey;
use crate::store::github::IntegrationRow;
use crate::store::perf_jobs::{NewPerfJob, Purpose};
use crate::time::now_ms;
use crate::Store;

/// Acts on one comment; returns the delivery's outcome text.
pub async fn on_comment(
    store: &Store,
    key: &SealKey,
    integ: &IntegrationRow,
    c: &IssueComment,
) -> Result<String> {
    if c.action != "created" {
        return Ok(format!("ignored: comment {}", c.action));
    }
    if c.user_is_bot || perfwatch_github::comment::is_sticky(&c.body) {
        return Ok("ignored: a bot's comment".into());
    }
    if !c.is_pull_request {
        return Ok("ignored: not a pull request".into());
    }
    let Some(parsed) = parse_comment(&c.body) else {
        return Ok("ignored: no command".into());
    };
    let pr = c.issue_number as i64;
    let result = command(store, key, integ, c, parsed, pr).await;
    // Recorded right after the command took effect (its job row committed on its own);
    // a command that failed is recorded without the error's text.
    let outcome = match &result {
        Ok(o) => o.clone(),
        Err(_) => "failed".to_string(),
    };
    let who = crate::audit::Audit::new(format!("github:@{}", c.user), None);
    let details = serde_json::json!({ "repo": integ.repo, "outcome": outcome });
    store
        .audit_after(who.entry("job.command", format!("pr:{}#{pr}", integ.repo), details))
        .await;
    result
}

/// Carries out a parsed command of an allowed (or refused) commenter.
async fn command(
    store: &Store,
    key: &SealKey,
    integ: &IntegrationRow,
    c: &IssueComment,
    parsed: std::result::Result<Command, perfwatch_github::commands::CommandError>,
    pr: i64,
) -> Result<String> {
    let project = integ.project_id;
    if !may_command(&c.author_association, &c.user, &integ.commanders) {
        let body = format!(
            "Sorry @{}, only maintainers of this repository can ask perfwatch for runs.",
            c.user
        );
        reply(store, project, pr, body).await?;
        return Ok(format!("refused: @{} may not command", c.user));
    }
    let cmd = match parsed {
        Ok(cmd) => cmd,
        Err(e) => {
            reply(store, project, pr, format!("{e}\n\n{HELP}")).await?;
            return Ok(format!("answered: {e}"));
        }
    };
    let who = format!("@{} ({cmd})", c.user);
    match cmd {
        Command::Help => {
            reply(store, project, pr, HELP.to_string()).await?;
            Ok("answered: help".into())
        }
        Command::Cancel => {
            let n = store
                .perf_jobs_cancel_pr(project, pr, &format!("canceled by @{}", c.user), now_ms())
                .await?;
            reply(
                store,
                project,
                pr,
                format!("Canceled {n} job(s) of this pull request."),
            )
            .await?;
            Ok(format!("canceled {n} job(s)"))
        }
        Command::Run { repeats } => {
            let head = current_head(key, integ, pr).await?;
            let (id, _) = pr_job(
                store,
                integ,
                &head,
                repeats.map_or(0, i64::from),
                &who,
                true,
            )
            .await?;
            Ok(format!("queued job {id}"))
        }
        Command::Rerun | Command::Retry => {
            let head = current_head(key, integ, pr).await?;
            let (id, _) = pr_job(store, integ, &head, 0, &who, true).await?;
            Ok(format!("queued job {id}"))
        }
        Command::Compare { sha } => {
            // Head against exactly that commit: a manual job reported on this PR, which
            // a new head does not supersede.
            let head = current_head(key, integ, pr).await?;
            let new = NewPerfJob {
                project_id: project,
                purpose: Purpose::Manual,
                sha: head.head_sha.to_ascii_lowercase(),
                branch: Some(head.head_ref.clone()),
                head_ref: Some(head.head_ref.clone()),
                pr_number: Some(pr),
                base_sha: Some(sha.to_ascii_lowercase()),
                repeats: 0,
                requested_by: who,
            };
            let (id, _) = store.perf_job_create(&new, true, now_ms()).await?;
            Ok(format!("queued job {id} against {sha}"))
        }
    }
}

/// The PR as GitHub has it now (its head is what the command runs).
async fn current_head(key: &SealKey, integ: &IntegrationRow, pr: i64) -> Result<PullRequest> {
    let Some(gh) = client(key, integ)? else {
        return Err(StoreError::invalid(
            "token",
            "commands need reporting credentials to read the pull request",
        ));
    };
    let p = gh
        .get_pull(&integ.repo, pr as u64)
        .await
        .map_err(|e| StoreError::Data(format!("reading PR #{pr} from GitHub: {e}")))?;
    Ok(pull_as_event(p, &integ.repo, "command"))
}
