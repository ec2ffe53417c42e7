//! Series files for offline detection (`perfwatch detect FILE`): a CSV or JSON table of
//! one or many series, with missing points kept as gaps.
//!
//! CSV: a header row, then one row per point (`#` comment lines and blank lines skipped,
//! cells trimmed, RFC 4180 quoting). An empty cell is a missing point of that series. The
//! first column is the x axis (not a series) when it is numeric and named `index`,
//! `time`, `date` or `commit` (any case), or when it is not numeric at all (commit hashes,
//! dates); its cells label the rows. Every other column is a series.
//!
//! JSON: an array of numbers, or an object of name → array of numbers; `null` is a gap.

use serde::Serialize;

/// A table of series read from a file. Row `i` of every column is point `i`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesTable {
    /// The x-axis column's name, when the first column is one.
    pub x_name: Option<String>,
    /// One label per row from the x-axis column (empty when there is none).
    pub labels: Vec<String>,
    pub columns: Vec<SeriesColumn>,
}

/// One series; `None` is a missing point (an empty CSV cell, a JSON `null`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesColumn {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

impl SeriesColumn {
    /// Row indices of the missing points.
    pub fn gaps(&self) -> Vec<usize> {
        self.values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_none())
            .map(|(i, _)| i)
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    #[error("the CSV file has no header row")]
    Empty,
    #[error("CSV line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("CSV line {line} has {fields} fields, the header {expected}")]
    Ragged {
        line: u64,
        fields: usize,
        expected: usize,
    },
    #[error("CSV line {line}, column '{column}': '{text}' is not a number")]
    NotANumber {
        line: u64,
        column: String,
        text: String,
    },
    #[error("{place}: value is not finite")]
    NotFinite { place: String },
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("JSON: {0}")]
    JsonShape(String),
}

/// Names that make a numeric first column the x axis.
const X_NAMES: [&str; 4] = ["index", "time", "date", "commit"];

pub fn parse_csv(text: &str) -> Result<SeriesTable, TableError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    for r in reader.records() {
        let r = r.map_err(|e| TableError::Csv {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        // A line of only spaces carries nothing; one of separators is a row of gaps.
        if r.len() == 1 && r[0].is_empty() {
            continue;
        }
        let line = r.position().map_or(0, |p| p.line());
        records.push((line, r));
    }
    let mut rows = records.into_iter();
    let (_, header) = rows.next().ok_or(TableError::Empty)?;
    let header: Vec<String> = header.iter().map(str::to_string).collect();
    let rows: Vec<(u64, csv::StringRecord)> = rows.collect();
    for (line, r) in &rows {
        if r.len() != header.len() {
            return Err(TableError::Ragged {
                line: *line,
                fields: r.len(),
                expected: header.len(),
            });
        }
    }
    let number = |s: &str| s.parse::<f64>().ok();
    let first_numeric = rows
        .iter()
        .all(|(_, r)| r[0].is_empty() || number(&r[0]).is_some());
    let named_x = header
        .first()
        .is_some_and(|h| X_NAMES.iter().any(|x| h.eq_ignore_ascii_case(x)));
    let x_col = !header.is_empty() && !rows.is_empty() && (named_x || !first_numeric);
    let mut columns = Vec::new();
    for (c, name) in header.iter().enumerate().skip(usize::from(x_col)) {
        let mut values = Vec::with_capacity(rows.len());
        for (line, r) in &rows {
            let cell = &r[c];
            if cell.is_empty() {
                values.push(None);
                continue;
            }
            let v = number(cell).ok_or_else(|| TableError::NotANumber {
                line: *line,
                column: name.clone(),
                text: cell.to_string(),
            })?;
            if !v.is_finite() {
                return Err(TableError::NotFinite {
                    place: format!("CSV line {line}, column '{name}'"),
                });
            }
            values.push(Some(v));
        }
        columns.push(SeriesColumn {
            name: name.clone(),
            values,
        });
    }
    Ok(SeriesTable {
        x_name: x_col.then(|| header[0].clone()),
        labels: if x_col {
            rows.iter().map(|(_, r)| r[0].to_string()).collect()
        } else {
            Vec::new()
        },
        columns,
    })
}

pub fn parse_json(text: &str) -> Result<SeriesTable, TableError> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| TableError::Json(e.to_string()))?;
    let numbers = |name: &str, v: &serde_json::Value| -> Result<SeriesColumn, TableError> {
        let arr = v.as_array().ok_or_else(|| {
            TableError::JsonShape(format!("'{name}' must be an array of numbers"))
        })?;
        let values = arr
            .iter()
            .enumerate()
            .map(|(i, x)| {
                if x.is_null() {
                    return Ok(None);
                }
                match x.as_f64() {
                    Some(f) if f.is_finite() => Ok(Some(f)),
                    Some(_) => Err(TableError::NotFinite {
                        place: format!("JSON '{name}'[{i}]"),
                    }),
                    None => Err(TableError::JsonShape(format!(
                        "'{name}'[{i}] is not a number or null"
                    ))),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(SeriesColumn {
            name: name.to_string(),
            values,
        })
    };
    let columns = match &v {
        serde_json::Value::Array(_) => vec![numbers("values", &v)?],
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, x)| numbers(k, x))
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(TableError::JsonShape(
                "expected an array of numbers or an object of name → array".into(),
            ))
        }
    };
    Ok(SeriesTable {
        x_name: None,
        labels: Vec::new(),
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_cells_are_gaps_with_their_row() {
        let t = parse_csv("commit,a,b\nc1,1,2\nc2,,2\nc3,1,\n\"c4\",2,3e0\n").unwrap();
        assert_eq!(t.x_name.as_deref(), Some("commit"));
        assert_eq!(t.labels, vec!["c1", "c2", "c3", "c4"]);
        assert_eq!(
            t.columns[0].values,
            vec![Some(1.0), None, Some(1.0), Some(2.0)]
        );
        assert_eq!(t.columns[0].gaps(), vec![1]);
        assert_eq!(t.columns[1].gaps(), vec![2]);
    }

    #[test]
    fn numeric_first_column_named_like_an_axis_is_the_x_axis() {
        for name in ["index", "Time", "DATE", "commit"] {
            let t = parse_csv(&format!("{name},p50\n1,10\n2,11\n3,\n")).unwrap();
            assert_eq!(t.x_name.as_deref(), Some(name));
            assert_eq!(t.labels, vec!["1", "2", "3"]);
            assert_eq!(t.columns.len(), 1);
            assert_eq!(t.columns[0].name, "p50");
            assert_eq!(t.columns[0].gaps(), vec![2]);
        }
        // Any other numeric first column is a series.
        let t = parse_csv("x,y\n1,2\n3,4\n").unwrap();
        assert_eq!(t.x_name, None);
        assert_eq!(t.columns.len(), 2);
    }

    #[test]
    fn quoting_comments_and_blank_lines() {
        let t = parse_csv("# exported\nlabel,v\n\n\"a, b\",1\n   \n ,\nc,2\n").unwrap();
        assert_eq!(t.labels, vec!["a, b", "", "c"]);
        assert_eq!(t.columns[0].values, vec![Some(1.0), None, Some(2.0)]);
        assert_eq!(t.columns[0].gaps(), vec![1]);
    }

    #[test]
    fn bad_cells_name_the_line_and_column() {
        let e = parse_csv("a,b\n1,2\n1,x\n").unwrap_err();
        assert_eq!(e.to_string(), "CSV line 3, column 'b': 'x' is not a number");
        let e = parse_csv("a,b\n1,2\n1\n").unwrap_err();
        assert_eq!(e.to_string(), "CSV line 3 has 1 fields, the header 2");
        assert!(matches!(
            parse_csv("a\nNaN\n"),
            Err(TableError::NotFinite { .. })
        ));
        assert_eq!(parse_csv(""), Err(TableError::Empty));
    }

    #[test]
    fn json_nulls_are_gaps() {
        let t = parse_json("[1, null, 2.5]").unwrap();
        assert_eq!(t.columns[0].values, vec![Some(1.0), None, Some(2.5)]);
        let t = parse_json(r#"{"p99": [1, 2], "p50": [null, 4]}"#).unwrap();
        assert_eq!(t.columns.len(), 2);
        assert!(parse_json(r#"{"a": [1, "x"]}"#).is_err());
        assert!(parse_json("3").is_err());
        assert!(parse_json("[1e999]").is_err());
    }
}
