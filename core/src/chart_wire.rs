//! How a chart line's points travel from the server render to the hydrating browser:
//! column by column, integers as differences from the previous point.
//!
//! Why: the series page embeds its data for hydration, and a point written as a JSON
//! object (`{"x":…,"y":…,"lo":…,"hi":…,"run_id":…,"sha":…,"time":…,"n":…,"invalid":…}`)
//! repeats nine keys and a long integer or two per point: ~150 bytes, most of a
//! 390 KB page (docs/benchmarks.md, "Series page and memory"). As columns, commit
//! orders, run ids and times become small differences, a band edge equal to the median
//! is `null` (or its column is left out when every edge is), and the rare invalid
//! reasons are listed by index. Every value survives exactly (tests below); `y` stays
//! a plain number, so a value on the page is the value stored.
//!
//! Used through `#[serde(with = "crate::chart_wire")]` on `ChartLine::points`.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::chart::ChartPoint;

/// Whole numbers up to this size are exact in an f64 (2^53).
const EXACT: f64 = 9_007_199_254_740_992.0;

#[derive(Serialize, Deserialize)]
struct Columns {
    /// x as differences (the first from 0), when every x is a whole number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    dx: Vec<i64>,
    /// x as is, when some x is not a whole number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    x: Vec<f64>,
    y: Vec<f64>,
    /// `null`: equal to y; the column is left out when every value is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    lo: Vec<Option<f64>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    hi: Vec<Option<f64>>,
    /// Run ids, as differences.
    run: Vec<i64>,
    /// Times (ms since the epoch), as differences.
    t: Vec<i64>,
    n: Vec<i64>,
    sha: Vec<Option<String>>,
    /// (index, reason) of the invalid points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    invalid: Vec<(usize, String)>,
}

/// Differences from the previous value (wrapping, so any i64 round-trips).
fn deltas(v: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut prev = 0i64;
    v.map(|x| {
        let d = x.wrapping_sub(prev);
        prev = x;
        d
    })
    .collect()
}

fn undeltas(d: &[i64]) -> Vec<i64> {
    let mut acc = 0i64;
    d.iter()
        .map(|x| {
            acc = acc.wrapping_add(*x);
            acc
        })
        .collect()
}

/// A band edge column: `None` where it equals y, empty when it does everywhere.
fn edge(points: &[ChartPoint], v: impl Fn(&ChartPoint) -> f64) -> Vec<Option<f64>> {
    // Compared bit for bit, so NaN and -0.0 travel as they are.
    let same = |p: &ChartPoint| v(p).to_bits() == p.y.to_bits();
    if points.iter().all(same) {
        return Vec::new();
    }
    points.iter().map(|p| (!same(p)).then(|| v(p))).collect()
}

pub fn serialize<S: Serializer>(points: &[ChartPoint], s: S) -> Result<S::Ok, S::Error> {
    let whole = points
        .iter()
        .all(|p| p.x.fract() == 0.0 && p.x.abs() < EXACT);
    let (dx, x) = if whole {
        (deltas(points.iter().map(|p| p.x as i64)), Vec::new())
    } else {
        (Vec::new(), points.iter().map(|p| p.x).collect())
    };
    Columns {
        dx,
        x,
        y: points.iter().map(|p| p.y).collect(),
        lo: edge(points, |p| p.lo),
        hi: edge(points, |p| p.hi),
        run: deltas(points.iter().map(|p| p.run_id)),
        t: deltas(points.iter().map(|p| p.time)),
        n: points.iter().map(|p| p.n).collect(),
        sha: points.iter().map(|p| p.sha.clone()).collect(),
        invalid: points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((i, p.invalid.clone()?)))
            .collect(),
    }
    .serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ChartPoint>, D::Error> {
    let c = Columns::deserialize(d)?;
    let len = c.y.len();
    let xs: Vec<f64> = if c.x.is_empty() {
        undeltas(&c.dx).into_iter().map(|x| x as f64).collect()
    } else {
        c.x
    };
    let optional = |v: &Vec<Option<f64>>| v.is_empty() || v.len() == len;
    if xs.len() != len
        || !optional(&c.lo)
        || !optional(&c.hi)
        || c.run.len() != len
        || c.t.len() != len
        || c.n.len() != len
        || c.sha.len() != len
    {
        return Err(D::Error::custom("chart line columns of different lengths"));
    }
    let (runs, times) = (undeltas(&c.run), undeltas(&c.t));
    let mut points: Vec<ChartPoint> = (0..len)
        .map(|i| {
            let y = c.y[i];
            let edge = |v: &Vec<Option<f64>>| v.get(i).copied().flatten().unwrap_or(y);
            ChartPoint {
                x: xs[i],
                y,
                lo: edge(&c.lo),
                hi: edge(&c.hi),
                run_id: runs[i],
                sha: c.sha[i].clone(),
                time: times[i],
                n: c.n[i],
                invalid: None,
            }
        })
        .collect();
    for (i, why) in c.invalid {
        points
            .get_mut(i)
            .ok_or_else(|| D::Error::custom("invalid point index out of range"))?
            .invalid = Some(why);
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::chart::{ChartLine, ChartPoint};

    fn line(points: Vec<ChartPoint>) -> ChartLine {
        ChartLine {
            label: "box · main".into(),
            series_id: 7,
            points,
            total_points: 1_000_000,
        }
    }

    fn round_trip(l: &ChartLine) -> ChartLine {
        serde_json::from_slice(serde_json::to_string(l).unwrap().as_bytes()).unwrap()
    }

    /// A downsampled commit-axis line: orders and times far apart, one sample a run.
    fn long_line(n: usize) -> ChartLine {
        line(
            (0..n)
                .map(|i| {
                    let y = 1000.0 + ((i * 31) % 97) as f64;
                    ChartPoint {
                        x: (i * 1163 + 1) as f64,
                        y,
                        lo: y,
                        hi: y,
                        run_id: (i * 1163 + 40) as i64,
                        sha: Some(format!("{:010x}", i * 7_919_993)),
                        time: 1_767_225_600_000 + (i * 1163 * 60_000) as i64,
                        n: 1,
                        invalid: None,
                    }
                })
                .collect(),
        )
    }

    #[test]
    fn a_long_line_takes_a_fraction_of_its_object_form() {
        let l = long_line(860);
        let columns = serde_json::to_string(&l).unwrap().len();
        let objects = serde_json::to_string(&l.points).unwrap().len();
        assert!(columns * 3 < objects, "{columns} bytes vs {objects}");
        // ~41 bytes a point (13 of them the short sha): 35 KB for a full line.
        assert!(columns < 860 * 45, "{columns} bytes");
        assert_eq!(round_trip(&l), l);
    }

    #[test]
    fn band_edges_invalid_reasons_and_fractional_x_survive() {
        let mut l = long_line(5);
        l.points[1].lo = 990.5;
        l.points[3].hi = 1200.25;
        l.points[2].invalid = Some("3 arrivals dropped".into());
        l.points[4].sha = None;
        l.points[0].x = 0.5;
        let back = round_trip(&l);
        assert_eq!(back, l);
        let text = serde_json::to_string(&l).unwrap();
        assert!(text.contains("[2,\"3 arrivals dropped\"]"), "{text}");
    }

    #[test]
    fn columns_of_different_lengths_are_refused() {
        let mut v = serde_json::to_value(long_line(3)).unwrap();
        v["points"]["n"] = serde_json::json!([1, 1]);
        let err = serde_json::from_value::<ChartLine>(v).unwrap_err();
        assert!(err.to_string().contains("different lengths"), "{err}");
    }

    /// A measured value: up to 15 significant digits, which serde_json reads back
    /// exactly (without its `float_roundtrip` feature, longer ones may come back an ulp
    /// off, in any encoding).
    fn value() -> impl Strategy<Value = f64> {
        (-100_000_000_000i64..100_000_000_000).prop_map(|c| c as f64 / 100.0)
    }

    fn point() -> impl Strategy<Value = ChartPoint> {
        (
            prop_oneof![
                (-1e12f64..1e12).prop_map(|x| x.round()),
                value(),
                Just(4e18f64)
            ],
            value(),
            prop::option::of(value()),
            any::<i64>(),
            any::<i64>(),
            prop::option::of("[0-9a-f]{10}"),
            prop::option::of("[a-z ]{1,12}"),
        )
            .prop_map(|(x, y, lo, run_id, time, sha, invalid)| ChartPoint {
                x,
                y,
                lo: lo.unwrap_or(y),
                hi: y,
                run_id,
                sha,
                time,
                n: run_id.rem_euclid(9),
                invalid,
            })
    }

    proptest! {
        #[test]
        fn any_line_round_trips(points in prop::collection::vec(point(), 0..40)) {
            let l = line(points);
            prop_assert_eq!(round_trip(&l), l);
        }
    }
}
