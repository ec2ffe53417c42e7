//! DHAT's JSON profile (`valgrind --tool=dhat`, `dhat-heap.json` from the dhat crate):
//! `dhatFileVersion`, the command, and one program point (`pps`) per allocation stack.
//!
//! One benchmark, the profiled command (`cmd`). Measures, summed over all program
//! points: `total_bytes` (`tb`, B) and `total_blocks` (`tbk`, blocks) allocated over
//! the run; at the global heap peak `peak_bytes` (`gb`) and `peak_blocks` (`gbk`); at
//! exit `end_bytes` (`eb`) and `end_blocks` (`ebk`, what was never freed); and
//! `bytes_read`/`bytes_written` (`rb`/`wb`) when DHAT tracked accesses. A profile made
//! in copy or ad-hoc mode only has the totals, in its own unit (`tu`/`verb`).

use perfwatch_core::Direction;
use serde_json::{Map, Value};

use crate::common::{
    at_path, copy_scalars, index_path, key_path, parse_json, Obs, Params, Series, J,
};
use crate::{Format, ParseError, Parsed};

const F: Format = Format::Dhat;

/// (program-point field, measure, unit).
const FIELDS: [(&str, &str, &str); 8] = [
    ("tb", "total_bytes", "B"),
    ("tbk", "total_blocks", "blocks"),
    ("gb", "peak_bytes", "B"),
    ("gbk", "peak_blocks", "blocks"),
    ("eb", "end_bytes", "B"),
    ("ebk", "end_blocks", "blocks"),
    ("rb", "bytes_read", "B"),
    ("wb", "bytes_written", "B"),
];

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let root = j.obj(&v, "")?;
    let version = j.req_num(root, "dhatFileVersion", "")?;
    let mode = j.opt_str(root, "mode", "")?.unwrap_or("heap");
    let heap = mode.contains("heap");
    let cmd = j
        .opt_str(root, "cmd", "")?
        .filter(|c| !c.trim().is_empty())
        .unwrap_or("dhat");
    let pps = j.arr(j.field(root, "pps", "")?, "pps")?;
    let mut sums = [None::<f64>; 8];
    for (i, pp) in pps.iter().enumerate() {
        let path = index_path("pps", i);
        let pp = j.obj(pp, &path)?;
        for (k, (field, _, _)) in FIELDS.iter().enumerate() {
            if let Some(x) = j.opt_num(pp, field, &path)? {
                if x < 0.0 {
                    return Err(j.err(&key_path(&path, field), "a non-negative count"));
                }
                if let Some(s) = sums.get_mut(k) {
                    *s = Some(s.unwrap_or(0.0) + x);
                }
            }
        }
    }
    let mut series = Series::default();
    let no_params = Params::new();
    for ((_, measure, unit), sum) in FIELDS.iter().zip(sums) {
        // An empty profile (no allocation at all) still reports zero totals.
        let x = match sum {
            Some(x) => x,
            None if pps.is_empty() && (*measure == "total_bytes" || *measure == "total_blocks") => {
                0.0
            }
            None => continue,
        };
        // Copy/ad-hoc profiles count something else than heap bytes: keep their unit.
        let unit = if heap {
            unit.to_string()
        } else {
            j.opt_str(root, "tu", "")?.unwrap_or("count").to_string()
        };
        series
            .add(Obs {
                benchmark: cmd,
                params: &no_params,
                measure,
                unit: &unit,
                direction: Some(Direction::Lower),
                samples: &[x],
                iterations: None,
            })
            .map_err(at_path(F, "pps"))?;
        if !heap {
            break;
        }
    }
    let mut metadata = Map::new();
    metadata.insert("dhat_file_version".into(), Value::from(version));
    copy_scalars(&mut metadata, root, &["mode", "verb", "pid"], "dhat_");
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint: None,
    })
}
