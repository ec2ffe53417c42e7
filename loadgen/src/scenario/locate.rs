//! Turning a byte offset in the scenario text into a line number and the dotted key
//! written there, for error messages.

/// 1-based line of `offset`.
pub fn line_of(src: &str, offset: usize) -> usize {
    let end = offset.min(src.len());
    src.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The dotted key at `offset`: the table header above it (`[load]`, `[[flow]]`) joined
/// with the key written on that line, e.g. `load.rate`.
pub fn key_at(src: &str, offset: usize) -> String {
    let line_no = line_of(src, offset);
    let lines: Vec<&str> = src.lines().collect();
    let Some(line) = lines.get(line_no.saturating_sub(1)) else {
        return String::new();
    };
    let header = lines[..line_no - 1]
        .iter()
        .rev()
        .chain(std::iter::once(line))
        .find_map(|l| table_header(l));
    if let Some(h) = table_header(line) {
        return h;
    }
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .unwrap_or_default();
    match (header, key.is_empty()) {
        (Some(h), false) => format!("{h}.{key}"),
        (Some(h), true) => h,
        (None, _) => key,
    }
}

fn table_header(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t.strip_prefix("[[").and_then(|s| s.split_once("]]"));
    let inner = inner.or_else(|| t.strip_prefix('[').and_then(|s| s.split_once(']')));
    inner.map(|(h, _)| h.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_table_and_key() {
        let src = "[run]\nname = \"x\"\n\n[load]\nmodel = \"open\"\nrat = 3\n";
        let off = src.find("rat").unwrap();
        assert_eq!(line_of(src, off), 6);
        assert_eq!(key_at(src, off), "load.rat");
        assert_eq!(key_at(src, 0), "run");
        assert_eq!(line_of(src, 10_000), 7);
    }
}
