//! Units and direction. Values are stored in a canonical unit per kind (time in ns,
//! sizes in bytes, rates per second) so that a suite that switches from `ms` to `µs`
//! keeps one continuous series; the unit the harness printed is kept for display.

use serde::{Deserialize, Serialize};

/// Which way is better for a measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Lower,
    Higher,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lower => "lower",
            Self::Higher => "higher",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "lower" => Some(Self::Lower),
            "higher" => Some(Self::Higher),
            _ => None,
        }
    }
}

/// What a unit measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Time,
    Bytes,
    Rate,
    ByteRate,
    Percent,
    /// Event counts from instruction-level tools (callgrind/cachegrind via iai and
    /// gungraun, dhat): instructions, cycles, cache hits and misses, heap blocks. They
    /// are noise-free, so they get first-class names instead of free-form units.
    Count,
    Other,
}

/// A unit turned into its canonical form: multiply a value by `factor` to get it in
/// `canonical`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NormalizedUnit {
    pub kind: UnitKind,
    pub canonical: String,
    pub factor: f64,
}

/// Normalises a unit as printed by a harness. A trailing `/op` (Go's `ns/op`) is
/// kept in the canonical name because it is part of what is measured; unknown units
/// pass through unchanged with factor 1.
pub fn normalize_unit(unit: &str) -> NormalizedUnit {
    let u = unit.trim();
    let (base, per_op) = match u.strip_suffix("/op") {
        Some(b) if !b.is_empty() => (b, true),
        _ => (u, false),
    };
    let suffix = if per_op { "/op" } else { "" };
    time_or_size_unit(base, suffix)
        .or_else(|| rate_count_or_percent_unit(base, suffix))
        .unwrap_or_else(|| NormalizedUnit {
            kind: if u.ends_with("/s") {
                UnitKind::Rate
            } else {
                UnitKind::Other
            },
            canonical: u.to_string(),
            factor: 1.0,
        })
}

/// Units that differ from their canonical one only by a scale: durations (to ns),
/// sizes (to B) and byte rates (to B/s).
fn time_or_size_unit(base: &str, suffix: &str) -> Option<NormalizedUnit> {
    let time = |f: f64| NormalizedUnit {
        kind: UnitKind::Time,
        canonical: format!("ns{suffix}"),
        factor: f,
    };
    let bytes = |f: f64| NormalizedUnit {
        kind: UnitKind::Bytes,
        canonical: format!("B{suffix}"),
        factor: f,
    };
    let byte_rate = |f: f64| NormalizedUnit {
        kind: UnitKind::ByteRate,
        canonical: "B/s".to_string(),
        factor: f,
    };
    Some(match base {
        "ns" | "nanoseconds" => time(1.0),
        "us" | "µs" | "μs" | "microseconds" => time(1e3),
        "ms" | "milliseconds" => time(1e6),
        "s" | "sec" | "seconds" => time(1e9),
        "min" | "minutes" => time(60e9),
        "B" | "bytes" => bytes(1.0),
        "KiB" => bytes(1024.0),
        "MiB" => bytes(1024.0 * 1024.0),
        "GiB" => bytes(1024.0 * 1024.0 * 1024.0),
        "kB" | "KB" => bytes(1e3),
        "MB" => bytes(1e6),
        "GB" => bytes(1e9),
        "B/s" | "bytes/s" => byte_rate(1.0),
        "KiB/s" => byte_rate(1024.0),
        "MiB/s" => byte_rate(1024.0 * 1024.0),
        "GiB/s" => byte_rate(1024.0 * 1024.0 * 1024.0),
        "kB/s" | "KB/s" => byte_rate(1e3),
        "MB/s" => byte_rate(1e6),
        "GB/s" => byte_rate(1e9),
        _ => return None,
    })
}

/// Operation rates (to ops/s), event counts under one name per event, and percentages.
fn rate_count_or_percent_unit(base: &str, suffix: &str) -> Option<NormalizedUnit> {
    let rate = |f: f64| NormalizedUnit {
        kind: UnitKind::Rate,
        canonical: "ops/s".to_string(),
        factor: f,
    };
    let count = |name: &str| NormalizedUnit {
        kind: UnitKind::Count,
        canonical: format!("{name}{suffix}"),
        factor: 1.0,
    };
    Some(match base {
        "ops/s" | "op/s" | "1/s" | "/s" | "ops/sec" | "iter/s" => rate(1.0),
        "ops/ms" => rate(1e3),
        "ops/us" | "ops/µs" => rate(1e6),
        "instructions" | "instruction" | "instrs" | "instr" | "Ir" => count("instructions"),
        "cycles" | "cycle" | "estimated cycles" => count("cycles"),
        "hits" | "hit" => count("hits"),
        "misses" | "miss" => count("misses"),
        "accesses" | "access" => count("accesses"),
        "blocks" | "block" => count("blocks"),
        "%" | "percent" => NormalizedUnit {
            kind: UnitKind::Percent,
            canonical: "%".to_string(),
            factor: 1.0,
        },
        _ => return None,
    })
}

/// Guesses which way is better from a measure's name and unit: rates and throughput
/// are better higher, everything else (time, size, allocations, errors) lower.
pub fn default_direction(measure: &str, unit: &str) -> Direction {
    let m = measure.to_ascii_lowercase();
    let kind = normalize_unit(unit).kind;
    let higher_words = [
        "throughput",
        "rate",
        "ops",
        "qps",
        "rps",
        "per_second",
        "hit",
    ];
    let lower_words = ["error", "fail", "latency", "duration", "miss", "alloc"];
    if lower_words.iter().any(|w| m.contains(w)) {
        return Direction::Lower;
    }
    if matches!(kind, UnitKind::Rate | UnitKind::ByteRate)
        || higher_words.iter().any(|w| m.contains(w))
    {
        return Direction::Higher;
    }
    Direction::Lower
}

/// Formats a canonical value for people: picks ns/µs/ms/s or B/KiB/MiB/GiB so the
/// number has few digits.
pub fn format_value(value: f64, canonical_unit: &str) -> String {
    let (base, suffix) = match canonical_unit.strip_suffix("/op") {
        Some(b) => (b, "/op"),
        None => (canonical_unit, ""),
    };
    let abs = value.abs();
    let (v, u) = match base {
        "ns" => {
            if abs >= 1e9 {
                (value / 1e9, "s")
            } else if abs >= 1e6 {
                (value / 1e6, "ms")
            } else if abs >= 1e3 {
                (value / 1e3, "µs")
            } else {
                (value, "ns")
            }
        }
        "B" | "B/s" => {
            let per = if base == "B/s" { "/s" } else { "" };
            let (v, u) = if abs >= 1024.0 * 1024.0 * 1024.0 {
                (value / (1024.0 * 1024.0 * 1024.0), "GiB")
            } else if abs >= 1024.0 * 1024.0 {
                (value / (1024.0 * 1024.0), "MiB")
            } else if abs >= 1024.0 {
                (value / 1024.0, "KiB")
            } else {
                (value, "B")
            };
            return format!("{} {u}{per}{suffix}", sig(v));
        }
        other if is_count_unit(other) => {
            let (v, prefix) = if abs >= 1e9 {
                (value / 1e9, "G ")
            } else if abs >= 1e6 {
                (value / 1e6, "M ")
            } else if abs >= 1e3 {
                (value / 1e3, "k ")
            } else {
                (value, " ")
            };
            return format!("{}{prefix}{other}{suffix}", sig(v));
        }
        other => return format!("{} {other}{suffix}", sig(value)),
    };
    format!("{} {u}{suffix}", sig(v))
}

/// The canonical count units (see [`UnitKind::Count`]).
pub const COUNT_UNITS: [&str; 6] = [
    "instructions",
    "cycles",
    "hits",
    "misses",
    "accesses",
    "blocks",
];

fn is_count_unit(canonical: &str) -> bool {
    COUNT_UNITS.contains(&canonical)
}

/// Four significant digits without a trailing `.0` run.
pub fn sig(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let abs = v.abs();
    let decimals = if abs >= 1000.0 {
        0
    } else if abs >= 100.0 {
        1
    } else if abs >= 10.0 {
        2
    } else {
        3
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_units_share_one_canonical_unit() {
        assert_eq!(normalize_unit("ms").canonical, "ns");
        assert_eq!(normalize_unit("ms").factor, 1e6);
        assert_eq!(normalize_unit("µs").factor, 1e3);
        assert_eq!(normalize_unit("ns/op").canonical, "ns/op");
        assert_eq!(normalize_unit("B/op").canonical, "B/op");
        assert_eq!(normalize_unit("KiB").factor, 1024.0);
        assert_eq!(normalize_unit("MB/s").canonical, "B/s");
        assert_eq!(normalize_unit("allocs/op").canonical, "allocs/op");
    }

    #[test]
    fn direction_is_guessed_from_measure_and_unit() {
        assert_eq!(default_direction("time", "ns/op"), Direction::Lower);
        assert_eq!(default_direction("throughput", "ops/s"), Direction::Higher);
        assert_eq!(default_direction("speed", "MB/s"), Direction::Higher);
        assert_eq!(default_direction("error_rate", "%"), Direction::Lower);
        assert_eq!(default_direction("allocs", "allocs/op"), Direction::Lower);
    }

    #[test]
    fn values_are_formatted_in_a_readable_unit() {
        assert_eq!(format_value(1_500_000.0, "ns"), "1.5 ms");
        assert_eq!(format_value(2048.0, "B/op"), "2 KiB/op");
        assert_eq!(format_value(12.0, "allocs/op"), "12 allocs/op");
        assert_eq!(
            format_value(1_234_567.0, "instructions"),
            "1.235M instructions"
        );
        assert_eq!(format_value(980.0, "cycles"), "980 cycles");
    }

    #[test]
    fn instruction_level_counts_are_first_class_units() {
        for (printed, canonical) in [
            ("Ir", "instructions"),
            ("instrs", "instructions"),
            ("estimated cycles", "cycles"),
            ("misses", "misses"),
            ("hits", "hits"),
            ("blocks", "blocks"),
        ] {
            let u = normalize_unit(printed);
            assert_eq!((u.kind, u.canonical.as_str()), (UnitKind::Count, canonical));
        }
        assert_eq!(default_direction("l1_hits", "hits"), Direction::Higher);
        assert_eq!(default_direction("ll_misses", "misses"), Direction::Lower);
        assert_eq!(
            default_direction("instructions", "instructions"),
            Direction::Lower
        );
    }
}
