//! The four renderers on the same digest: escaping of hostile names, no colour off a
//! terminal, and no panic for any digest.

use proptest::prelude::*;

use super::*;

/// A comparison whose benchmark name carries Markdown, Slack and terminal specials.
fn sample() -> Digest {
    Digest {
        title: "[shop] my-pr @ 0123456789: 1 regressions".into(),
        project: "shop".into(),
        outcome: None,
        state: None,
        sides: Some(Sides {
            head_sha: "0123456789abcdef".into(),
            head_url: Some("https://example.com/c/0123456789abcdef".into()),
            base: "main at fedcba9876 (parent of the head commit)".into(),
        }),
        counts: Some(Counts {
            total: 2,
            regressions: 1,
            improvements: 0,
            unchanged: 1,
            inconclusive: 0,
            geomean_pct: Some(4.5),
        }),
        sections: vec![Section {
            label: Some("Regressions".into()),
            changes: vec![Change {
                series_id: 7,
                benchmark: "*bold*_x_ <!channel> a|b `c` \u{1b}[31mred".into(),
                params: "n=1".into(),
                measure: "time".into(),
                testbed: "ci & co".into(),
                unit: "ms".into(),
                verdict: "regression".into(),
                change_pct: Some(30.25),
                change_low: None,
                change_high: None,
                before: Some(10.0),
                after: Some(13.025),
                n_before: None,
                n_after: None,
                confidence: Confidence::Test { p_value: 0.001 },
                p_adjusted: Some(0.002),
                chart_url: Some("https://pw.example/series/7".into()),
                chart_image_url: Some("https://pw.example/api/v1/series/7/chart.svg".into()),
            }],
            more: 2,
        }],
        suspects: Some(Suspects {
            total: 3,
            commits: vec![Commit {
                sha: "abcdef0123456789".into(),
                url: Some("https://example.com/c/abcdef0123456789".into()),
                message: "Make *it* faster".into(),
            }],
        }),
        invalid: vec![],
        links: vec![
            Link {
                kind: LinkKind::Compare,
                url: "https://pw.example/projects/shop/compare?base=commit:f&head=run:1".into(),
            },
            Link {
                kind: LinkKind::Triage,
                url: "https://pw.example/alerts/groups/4".into(),
            },
        ],
    }
}

#[test]
fn markdown_escapes_names_and_keeps_the_facts() {
    let md = to_markdown(&sample());
    assert!(
        md.contains(r"\*bold\*\_x\_ \<!channel\> a\|b \`c\` \[31mred \[n=1\]"),
        "{md}"
    );
    assert!(!md.contains('\u{1b}'), "{md}");
    assert!(md.contains("regression +30.25% (10.000 → 13.025 ms), confidence 99.90% (p = 1.0e-3)"));
    assert!(md.contains("— [chart](https://pw.example/api/v1/series/7/chart.svg)"));
    assert!(md.contains("\n**Regressions**:\n"), "{md}");
    assert!(md.contains("- … 2 more\n"));
    assert!(md.contains(
        "2 series: 1 regressions, 0 improvements, 1 unchanged, 0 inconclusive, geomean +4.50%"
    ));
    assert!(md.contains("Suspect commits (3):\n- [abcdef0123](https://example.com/c/abcdef0123456789) Make \\*it\\* faster\n"));
    assert!(
        md.ends_with("Triage: https://pw.example/alerts/groups/4\n"),
        "{md}"
    );
}

#[test]
fn markdown_link_targets_cannot_close_early() {
    let mut d = sample();
    d.links[0].url = "https://x.example/a (b)".into();
    d.suspects.as_mut().unwrap().commits[0].url = Some("https://x.example/c)d".into());
    let md = to_markdown(&d);
    assert!(md.contains("(https://x.example/c%29d)"), "{md}");
    assert!(
        md.contains("Compare: https://x.example/a%20%28b%29"),
        "{md}"
    );
}

#[test]
fn slack_escapes_mentions_and_links() {
    let msg = to_slack(&sample(), "[shop] Comparison finished");
    let blocks = msg["blocks"].to_string();
    // `<!channel>` would ping the whole channel unescaped.
    assert!(!blocks.contains("<!channel>"), "{blocks}");
    assert!(blocks.contains("&lt;!channel&gt;"), "{blocks}");
    assert!(blocks.contains("ci &amp; co"), "{blocks}");
    assert!(blocks.contains("*+30.25%*"), "{blocks}");
    assert!(blocks.contains("<https://pw.example/api/v1/series/7/chart.svg|chart>"));
    assert!(blocks.contains("<https://pw.example/alerts/groups/4|Triage>"));
    assert!(blocks.contains("<https://example.com/c/abcdef0123456789|abcdef0123>"));
    let text = msg["text"].as_str().unwrap();
    assert!(text.starts_with("[shop] Comparison finished\n"), "{text}");
    assert!(
        text.contains("&lt;!channel&gt;") && text.contains("Triage: "),
        "{text}"
    );
    assert_eq!(msg["blocks"][0]["text"]["type"], "mrkdwn");
    assert_eq!(
        msg["blocks"].as_array().unwrap().last().unwrap()["type"],
        "context"
    );
}

#[test]
fn slack_link_urls_cannot_end_early() {
    let mut d = sample();
    d.links[1].url = "https://x.example/a|b>c".into();
    let blocks = to_slack(&d, "h")["blocks"].to_string();
    assert!(
        blocks.contains("<https://x.example/a%7Cb%3Ec|Triage>"),
        "{blocks}"
    );
}

#[test]
fn slack_sections_stay_under_the_block_limit() {
    let mut d = sample();
    let c = d.sections[0].changes[0].clone();
    d.sections[0].changes = vec![c; 60];
    for b in to_slack(&d, "h")["blocks"].as_array().unwrap() {
        if let Some(t) = b["text"]["text"].as_str() {
            assert!(t.chars().count() <= 3000, "{}", t.len());
        }
    }
}

#[test]
fn terminal_has_no_colour_off_a_terminal_and_drops_escapes() {
    let plain = to_terminal(&sample(), false);
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert!(plain.contains("*bold*_x_ <!channel> a|b `c` [31mred [n=1] / time on ci & co: regression +30.25% (10.000 → 13.025 ms), confidence 99.90% (p = 1.0e-3)"), "{plain}");
    assert!(plain.contains("Head: 0123456789abcdef (https://example.com/c/0123456789abcdef)\n"));
    assert!(plain.contains("Suspect commits (3):\n  abcdef0123 Make *it* faster\n"));
    assert!(plain.ends_with("Triage: https://pw.example/alerts/groups/4\n"));
    let coloured = to_terminal(&sample(), true);
    // Red for the regression, bold for the title; the name's own ESC is still dropped.
    assert!(
        coloured.contains("\u{1b}[31mregression +30.25%\u{1b}[0m"),
        "{coloured:?}"
    );
    assert!(coloured.starts_with("\u{1b}[1m[shop]"), "{coloured:?}");
    assert_eq!(coloured.matches('\u{1b}').count(), 6, "{coloured:?}");
}

#[test]
fn json_keeps_the_fields_receivers_read() {
    let d = sample();
    let v = to_json(&d);
    assert_eq!(v["title"], d.title);
    assert_eq!(v["body"], to_markdown(&d));
    assert_eq!(v["triage_url"], "https://pw.example/alerts/groups/4");
    assert!(v["compare_url"].as_str().unwrap().contains("/compare?"));
    assert!(v["chart_url"].is_null());
    assert_eq!(
        v["sections"][0]["changes"][0]["confidence"]["p_value"],
        0.001
    );
    assert_eq!(
        v["sections"][0]["changes"][0]["benchmark"],
        d.sections[0].changes[0].benchmark
    );
    let back: Digest = serde_json::from_value(v).unwrap();
    assert_eq!(back, d);
}

#[test]
fn alert_group_without_sides_renders_its_state() {
    let mut d = sample();
    d.sides = None;
    d.counts = None;
    d.state = Some("open".into());
    d.sections[0].label = None;
    let md = to_markdown(&d);
    assert!(
        md.starts_with(
            "**\\[shop\\] my-pr @ 0123456789: 1 regressions** — project `shop`, state open\n\n- "
        ),
        "{md}"
    );
    assert!(to_terminal(&d, false).contains("\nproject shop, state open\n"));
}

fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("(?s).{0,40}").unwrap()
}

fn opt_f64() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![Just(None), any::<f64>().prop_map(Some)]
}

fn change() -> impl Strategy<Value = Change> {
    (
        (text(), text(), text(), text(), text(), text()),
        (opt_f64(), opt_f64(), opt_f64(), opt_f64()),
        prop_oneof![
            Just(Confidence::Unknown),
            Just(Confidence::Threshold),
            any::<f64>().prop_map(|p_value| Confidence::Test { p_value })
        ],
        (proptest::option::of(text()), proptest::option::of(text())),
    )
        .prop_map(
            |((b, p, m, t, u, dir), (c, be, af, pa), confidence, (cu, ci))| Change {
                series_id: 1,
                benchmark: b,
                params: p,
                measure: m,
                testbed: t,
                unit: u,
                verdict: dir,
                change_pct: c,
                change_low: c.map(|c| c - 1.0),
                change_high: pa,
                before: be,
                after: af,
                n_before: Some(3),
                n_after: None,
                confidence,
                p_adjusted: pa,
                chart_url: cu,
                chart_image_url: ci,
            },
        )
}

fn digest() -> impl Strategy<Value = Digest> {
    (
        (text(), text(), proptest::option::of(text())),
        proptest::option::of((text(), proptest::option::of(text()), text())),
        proptest::collection::vec(
            (
                proptest::option::of(text()),
                proptest::collection::vec(change(), 0..4),
                0usize..5,
            ),
            0..3,
        ),
        proptest::collection::vec((text(), proptest::option::of(text()), text()), 0..3),
        proptest::collection::vec(text(), 0..3),
        (any::<usize>(), opt_f64()),
    )
        .prop_map(
            |((title, project, state), sides, sections, commits, links, (n, g))| Digest {
                outcome: Some(Outcome {
                    mark: project.clone(),
                    word: title.clone(),
                    text: project.clone(),
                    bad: n % 2 == 0,
                }),
                invalid: links.clone(),
                title,
                project,
                state,
                sides: sides.map(|(head_sha, head_url, base)| Sides {
                    head_sha,
                    head_url,
                    base,
                }),
                counts: Some(Counts {
                    total: n,
                    regressions: n / 2,
                    improvements: 0,
                    unchanged: 0,
                    inconclusive: 0,
                    geomean_pct: g,
                }),
                sections: sections
                    .into_iter()
                    .map(|(label, changes, more)| Section {
                        label,
                        changes,
                        more,
                    })
                    .collect(),
                suspects: Some(Suspects {
                    total: commits.len() as i64,
                    commits: commits
                        .into_iter()
                        .map(|(sha, url, message)| Commit { sha, url, message })
                        .collect(),
                }),
                links: links
                    .into_iter()
                    .map(|url| Link {
                        kind: LinkKind::Chart,
                        url,
                    })
                    .collect(),
            },
        )
}

proptest! {
    #[test]
    fn any_digest_renders_in_all_four_forms(d in digest()) {
        let md = to_markdown(&d);
        let slack = to_slack(&d, &d.title);
        let json = to_json(&d);
        let plain = to_terminal(&d, false);
        let _ = to_terminal(&d, true);
        prop_assert!(!plain.contains('\x1b'), "ESC off a terminal");
        prop_assert!(md.starts_with("**"));
        prop_assert!(slack["blocks"].is_array());
        prop_assert!(json.is_object());
        for b in slack["blocks"].as_array().unwrap() {
            if let Some(t) = b["text"]["text"].as_str() {
                prop_assert!(t.chars().count() <= 3000);
            }
        }
    }
}

#[test]
fn a_job_verdict_with_intervals_and_invalid_runs() {
    let mut d = sample();
    d.outcome = Some(Outcome {
        mark: "❌".into(),
        word: "Slower".into(),
        text: "at least one series regressed beyond run-to-run noise.".into(),
        bad: true,
    });
    d.invalid = vec!["run 3: metrics produced no data for `svc_rate`".into()];
    let c = &mut d.sections[0].changes[0];
    (c.change_low, c.change_high) = (Some(20.0), Some(40.5));
    (c.n_before, c.n_after) = (Some(5), Some(6));
    c.confidence = Confidence::Unknown;
    let md = to_markdown(&d);
    assert!(
        md.contains(
            "\n\n❌ **Slower**: at least one series regressed beyond run-to-run noise.\n\n"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "regression +30.25% [+20.0%, +40.5%] (10.000 → 13.025 ms, n = 5 → 6) — [chart]"
        ),
        "{md}"
    );
    assert!(md.contains("**Invalid runs** (left out of the comparison):\n- run 3: metrics produced no data for \\`svc\\_rate\\`\n"), "{md}");
    let plain = to_terminal(&d, false);
    assert!(plain.contains("❌ Slower: at least one"), "{plain}");
    assert!(
        plain.contains("Invalid runs (left out of the comparison):\n  run 3:"),
        "{plain}"
    );
    assert!(
        to_terminal(&d, true).contains("\u{1b}[1m\u{1b}[31mSlower"),
        "{:?}",
        to_terminal(&d, true)
    );
    let blocks = to_slack(&d, "h")["blocks"].to_string();
    assert!(
        blocks.contains("❌ *Slower*: at least one") && blocks.contains("*Invalid runs*"),
        "{blocks}"
    );
}
