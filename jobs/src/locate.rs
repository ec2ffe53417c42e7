//! Byte offsets in a `.perfwatch.toml` turned into the 1-based line and the dotted key
//! written there, so every error can say where to look.

/// 1-based line of byte `offset` (clamped to the text).
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = floor_char_boundary(text, offset.min(text.len()));
    text[..end].bytes().filter(|&b| b == b'\n').count() + 1
}

/// The dotted key at `offset`: the nearest `[table]` header at or above its line joined
/// with the key written on the line itself (`service.ready_url`). Best effort: it reads
/// lines, not TOML, because it runs on text that may not parse.
pub fn key_at(text: &str, offset: usize) -> String {
    let line_no = line_of(text, offset);
    let lines: Vec<&str> = text.lines().collect();
    let Some(line) = lines.get(line_no.saturating_sub(1)) else {
        return String::new();
    };
    if let Some(h) = header(line) {
        return h;
    }
    let table = lines[..line_no.saturating_sub(1)]
        .iter()
        .rev()
        .find_map(|l| header(l));
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').trim_matches('\'').to_string())
        .unwrap_or_default();
    match (table, key.is_empty()) {
        (Some(t), false) => format!("{t}.{key}"),
        (Some(t), true) => t,
        (None, _) => key,
    }
}

fn header(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t
        .strip_prefix("[[")
        .and_then(|s| s.split_once("]]"))
        .or_else(|| t.strip_prefix('[').and_then(|s| s.split_once(']')));
    inner.map(|(h, _)| h.trim().to_string())
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_and_keys() {
        let t = "repeats = 3\n\n[service]\ncommand = \"x\"\nready_url = 5\n";
        assert_eq!(line_of(t, 0), 1);
        let off = t.find("ready_url").unwrap();
        assert_eq!(line_of(t, off), 5);
        assert_eq!(key_at(t, off), "service.ready_url");
        assert_eq!(key_at(t, 0), "repeats");
        assert_eq!(key_at(t, t.find("[service]").unwrap()), "service");
        assert_eq!(line_of("é", 1), 1);
        assert_eq!(key_at("", 99), "");
    }
}
