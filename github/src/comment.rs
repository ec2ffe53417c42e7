//! The sticky pull-request comment: one comment per PR, found again by a hidden marker
//! and edited in place (edits notify nobody), kept under GitHub's size limit.

/// Hidden HTML comment that starts every sticky comment perfwatch writes.
pub const MARKER: &str = "<!-- perfwatch:sticky -->";

/// GitHub refuses comment bodies longer than this many characters.
pub const MAX_COMMENT_CHARS: usize = 65_536;

/// The sticky comment body for `markdown`: the marker, then the markdown, cut at a line
/// boundary with a link to `full_report_url` when the whole would exceed GitHub's limit.
pub fn sticky_body(markdown: &str, full_report_url: &str) -> String {
    let whole = format!("{MARKER}\n{markdown}");
    if whole.chars().count() <= MAX_COMMENT_CHARS {
        return whole;
    }
    let mut note = format!("\n… truncated: the full report is at {full_report_url}\n");
    // A URL too long to fit is useless anyway; say only that the report was cut.
    if note.chars().count() > MAX_COMMENT_CHARS / 2 {
        note = "\n… truncated\n".to_string();
    }
    // Room for the note and for a closing fence should the cut fall inside code.
    let budget = MAX_COMMENT_CHARS - note.chars().count() - "```\n".len();
    let mut kept = cut_at_line(&whole, budget);
    if open_fence(kept) {
        // Without closing it the truncation note would render as code.
        let mut closed = kept.to_string();
        closed.push_str("```\n");
        closed.push_str(&note);
        return closed;
    }
    if kept.is_empty() {
        kept = MARKER;
    }
    format!("{kept}{note}")
}

/// The longest prefix of `text` ending at a line break with at most `budget` chars.
/// When even the first line is longer, the cut falls inside it (at a char boundary).
fn cut_at_line(text: &str, budget: usize) -> &str {
    let mut end_of_budget = text.len();
    let mut last_newline = None;
    for (count, (i, c)) in text.char_indices().enumerate() {
        if count == budget {
            end_of_budget = i;
            break;
        }
        if c == '\n' {
            last_newline = Some(i + 1);
        }
    }
    match last_newline {
        Some(end) if end <= end_of_budget => &text[..end],
        _ => &text[..end_of_budget],
    }
}

/// True when `text` leaves a ``` fenced block open.
fn open_fence(text: &str) -> bool {
    text.lines()
        .filter(|l| l.trim_start().starts_with("```"))
        .count()
        % 2
        == 1
}

/// True for a comment perfwatch wrote as the sticky one. It must *start* with the
/// marker: someone quoting or mentioning the marker elsewhere does not make theirs ours.
pub fn is_sticky(body: &str) -> bool {
    body.trim_start().starts_with(MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://perf.example/compare/1";

    #[test]
    fn small_body_is_kept_whole() {
        let b = sticky_body("| a | b |\n|---|---|\n", URL);
        assert_eq!(b, format!("{MARKER}\n| a | b |\n|---|---|\n"));
        assert!(is_sticky(&b));
        assert!(!is_sticky("hello"));
        assert!(!is_sticky(&format!("see {MARKER}")));
        assert!(is_sticky(&format!("\n {MARKER}x")));
    }

    #[test]
    fn exactly_at_the_limit_is_not_cut() {
        let md = "x".repeat(MAX_COMMENT_CHARS - MARKER.len() - 1);
        let b = sticky_body(&md, URL);
        assert_eq!(b.chars().count(), MAX_COMMENT_CHARS);
        assert!(!b.contains("truncated"));
        let b = sticky_body(&format!("{md}y"), URL);
        assert!(b.contains("truncated"));
        assert!(b.chars().count() <= MAX_COMMENT_CHARS);
    }

    #[test]
    fn large_report_is_cut_at_a_line() {
        // 200 KB of table rows with multi-byte characters (chars ≠ bytes).
        let row = "| förändring | +1.5 % | ±0.3 |\n";
        let md = row.repeat(200_000 / row.len() + 1);
        let b = sticky_body(&md, URL);
        let n = b.chars().count();
        assert!(n <= MAX_COMMENT_CHARS && n > MAX_COMMENT_CHARS - 200, "{n}");
        assert!(is_sticky(&b));
        assert!(b.ends_with(&format!("\n… truncated: the full report is at {URL}\n")));
        let body = b.split("\n… truncated").next().unwrap_or_default();
        // Every kept row is whole.
        for line in body.lines().skip(1) {
            assert_eq!(format!("{line}\n"), row);
        }
    }

    #[test]
    fn cut_inside_code_closes_the_fence() {
        let md = format!("```\n{}", "line of log\n".repeat(10_000));
        let b = sticky_body(&md, URL);
        assert!(b.chars().count() <= MAX_COMMENT_CHARS);
        assert!(b.contains("```\n\n… truncated"));
    }

    proptest::proptest! {
        #[test]
        fn always_sticky_and_within_the_limit(
            line in "(\\PC{0,40}|```|\n){1,8}",
            repeat in 1usize..6000,
            url in "\\PC{0,80}",
        ) {
            let md = line.repeat(repeat);
            let b = sticky_body(&md, &url);
            proptest::prop_assert!(is_sticky(&b));
            proptest::prop_assert!(b.chars().count() <= MAX_COMMENT_CHARS);
            if md.chars().count() + MARKER.len() < MAX_COMMENT_CHARS {
                proptest::prop_assert_eq!(b, format!("{MARKER}\n{md}"));
            }
        }
    }

    #[test]
    fn one_huge_line_and_huge_url() {
        let b = sticky_body(&"é".repeat(100_000), URL);
        assert!(b.chars().count() <= MAX_COMMENT_CHARS);
        assert!(b.starts_with(MARKER) && b.contains(URL));
        let long_url = "u".repeat(70_000);
        let b = sticky_body(&"a\n".repeat(50_000), &long_url);
        assert!(b.chars().count() <= MAX_COMMENT_CHARS);
        assert!(b.ends_with("… truncated\n"));
    }
}
