//! `perfwatch compare OLD NEW` on two files or directories of harness output, without a
//! server: each side is parsed with the harness auto-detection (or `--format`), its
//! samples pooled per series (benchmark × parameters × measure), and both compared by
//! the same pure statistics and view builder as the server's compare page, so the
//! table, JSON, CSV and Markdown are the server's formats.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use perfwatch_backend::comparison::{build_view_with_history, CompareConfig, ResolvedSide};
use perfwatch_core::comparison::{CompareSpec, ComparisonView, SideInfo, SideSpec};
use perfwatch_core::model::RunSubmission;
use perfwatch_core::validate::validate_run;
use perfwatch_core::view::{ProjectInfo, SeriesInfo};
use perfwatch_parsers::Format;

use super::ingest::read_input;

/// One side read from disk: series key → (series facts, pooled samples).
struct Side {
    label: String,
    series: BTreeMap<(String, String, String), (SeriesInfo, Vec<f64>)>,
}

/// The files a side means: the file itself; for a directory, the directory when it
/// holds Criterion output (`…/new/benchmark.json`), else every non-hidden file under it
/// (sorted, recursively), each parsed on its own and pooled.
fn side_inputs(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut criterion = false;
    walk(path, &mut files, &mut criterion)?;
    if criterion {
        return Ok(vec![path.to_path_buf()]);
    }
    if files.is_empty() {
        bail!("{}: an empty directory", path.display());
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, criterion: &mut bool) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let p = e.path();
        if e.file_type()?.is_dir() {
            walk(&p, files, criterion)?;
        } else {
            let in_new = p.parent().and_then(Path::file_name) == Some("new".as_ref());
            *criterion |= in_new && name == "benchmark.json";
            files.push(p);
        }
    }
    Ok(())
}

/// Reads one side; every file must parse (the error names it and why).
fn read_side(path: &Path, format: Option<Format>) -> anyhow::Result<Side> {
    let mut side = Side {
        label: path.display().to_string(),
        series: BTreeMap::new(),
    };
    for file in side_inputs(path)? {
        let input = read_input(&file, format)?;
        let run = RunSubmission {
            project: "offline".into(),
            testbed: Some("local".into()),
            ..input.parsed.into_submission("offline")
        };
        let valid = validate_run(run).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        for r in valid.results {
            let key = (r.benchmark.clone(), r.params_key.clone(), r.measure.clone());
            let entry = side.series.entry(key).or_insert_with(|| {
                let info = SeriesInfo {
                    id: 0,
                    project: "offline".into(),
                    benchmark: r.benchmark.clone(),
                    measure: r.measure.clone(),
                    unit: r.unit.clone(),
                    display_unit: r.display_unit.clone(),
                    direction: r.direction,
                    testbed: String::new(),
                    params: r.params_key.clone(),
                };
                (info, Vec::new())
            });
            if entry.0.unit != r.unit {
                bail!(
                    "{}: {} · {} is in {} here but in {} in an earlier file",
                    file.display(),
                    r.benchmark,
                    r.measure,
                    r.unit,
                    entry.0.unit
                );
            }
            entry.1.extend(r.samples);
        }
    }
    if side.series.is_empty() {
        bail!("{}: no benchmark results", path.display());
    }
    Ok(side)
}

/// Compares OLD and NEW read from disk under `cfg`.
pub fn compare_paths(
    old: &Path,
    new: &Path,
    format: Option<Format>,
    cfg: &CompareConfig,
    only_significant: bool,
) -> anyhow::Result<ComparisonView> {
    cfg.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let (base, head) = (read_side(old, format)?, read_side(new, format)?);
    // One id per series key over both sides; the unit must agree.
    let mut ids: HashMap<(String, String, String), i64> = HashMap::new();
    let mut series: Vec<SeriesInfo> = Vec::new();
    for (key, (info, _)) in base.series.iter().chain(head.series.iter()) {
        if let Some(&id) = ids.get(key) {
            let first = &series[(id - 1) as usize];
            if first.unit != info.unit {
                bail!(
                    "{} · {} is in {} in OLD but in {} in NEW",
                    info.benchmark,
                    info.measure,
                    first.unit,
                    info.unit
                );
            }
            continue;
        }
        let id = series.len() as i64 + 1;
        ids.insert(key.clone(), id);
        series.push(SeriesInfo { id, ..info.clone() });
    }
    let resolved = |side: Side| ResolvedSide {
        info: SideInfo {
            spec: SideSpec::Branch(side.label.clone()),
            label: side.label,
            runs: vec![],
            commits: vec![],
            branch: None,
            from_time: None,
            to_time: None,
        },
        samples: side
            .series
            .into_iter()
            .map(|(k, (_, samples))| (ids[&k], samples))
            .collect(),
        levels: HashMap::new(),
    };
    let project = ProjectInfo {
        id: 0,
        slug: "offline".into(),
        name: "offline".into(),
        main_branch: String::new(),
        repo_url: None,
        series_count: series.len() as i64,
        run_count: 0,
        last_run_at: None,
    };
    let spec = CompareSpec {
        base: Some(SideSpec::Branch(base.label.clone())),
        head: Some(SideSpec::Branch(head.label.clone())),
        only_significant,
        ..Default::default()
    };
    Ok(build_view_with_history(
        &project,
        spec,
        false,
        (resolved(base), resolved(head)),
        &series,
        None,
        cfg,
    ))
}
