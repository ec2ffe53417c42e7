//! `perfwatch holidays set --project P 2026-12-25:Christmas …` (or `--file F`, one
//! `DATE:NAME` a line) and `perfwatch holidays list --project P`: a project's holiday
//! calendar through `PUT`/`GET /api/v1/projects/{slug}/holidays` (docs/metrics.md,
//! "Holidays"). Dates are checked here first, so a typo is named by its argument or
//! line before anything is sent.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use perfwatch_backend::holidays::{HolidayCalendar, HolidayInput};
use perfwatch_detect::holidays::{parse_file, parse_spec, Holiday};

use crate::api::holidays::HolidaysBody;

use super::ingest::ServerArgs;

#[derive(Debug, Args)]
pub struct HolidaysArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Project slug (or PERFWATCH_PROJECT).
    #[arg(long, env = "PERFWATCH_PROJECT", global = true)]
    pub project: Option<String>,
    #[command(subcommand)]
    pub action: HolidaysAction,
}

#[derive(Debug, Subcommand)]
pub enum HolidaysAction {
    /// Replace the project's holidays with these (`DATE:NAME`, local dates).
    Set {
        /// `2026-12-25:Christmas` …
        holidays: Vec<String>,
        /// A file of `DATE:NAME` lines (blank lines and `#` comments skipped), added to
        /// the ones given as arguments.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Print the project's holidays.
    List,
}

/// The holidays of the arguments and the file; the error names the argument or line.
pub fn collect(specs: &[String], file: Option<(&str, &str)>) -> anyhow::Result<Vec<Holiday>> {
    let mut out = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        out.push(parse_spec(s).map_err(|e| anyhow::anyhow!("argument {}: {e}", i + 1))?);
    }
    if let Some((name, text)) = file {
        out.extend(parse_file(text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?);
    }
    Ok(out)
}

pub async fn run(args: HolidaysArgs) -> anyhow::Result<()> {
    let Some(project) = args.project else {
        bail!("--project (or PERFWATCH_PROJECT) is required");
    };
    let url = format!(
        "{}/api/v1/projects/{project}/holidays",
        args.server.server.trim_end_matches('/')
    );
    let http = reqwest::Client::new();
    let req = match &args.action {
        HolidaysAction::Set { holidays, file } => {
            let text = match file {
                Some(f) => Some(
                    std::fs::read_to_string(f)
                        .with_context(|| format!("reading {}", f.display()))?,
                ),
                None => None,
            };
            let name = file.as_ref().map(|f| f.display().to_string());
            let list = collect(holidays, name.as_deref().zip(text.as_deref()))?;
            let body = HolidaysBody {
                holidays: list
                    .iter()
                    .map(|h| HolidayInput {
                        date: h.date.to_string(),
                        name: h.name.clone(),
                    })
                    .collect(),
            };
            http.put(&url).json(&body)
        }
        HolidaysAction::List => http.get(&url),
    };
    let resp = req
        .bearer_auth(&args.server.token)
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        bail!("the server answered {status}: {body}");
    }
    let calendar: HolidayCalendar = resp.json().await.context("decoding the server's answer")?;
    let list = calendar.holidays;
    for h in &list {
        println!("{}  {}", h.date, h.name);
    }
    if matches!(args.action, HolidaysAction::Set { .. }) {
        println!("{} holidays set for {project}", list.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_arguments_and_lines_are_named() {
        let e = collect(
            &["2026-12-25:Christmas".into(), "2026-12-45:X".into()],
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("argument 2:") && e.contains("2026-12-45"),
            "{e}"
        );
        let e = collect(&[], Some(("h.txt", "2026-12-25:Christmas\nnonsense\n")))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("h.txt: line 2:"), "{e}");
        let ok = collect(
            &["2026-12-25:Christmas".into()],
            Some(("h.txt", "# x\n2026-12-26:Boxing Day\n")),
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
    }
}
