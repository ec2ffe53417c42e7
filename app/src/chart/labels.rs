//! Marker labels above the plot: laid out in lanes (stagger rows) so that no two
//! overlap, truncated with an ellipsis when even the lanes run out of room (the full
//! name stays in a `<title>` tooltip), and dropped (line and tooltip only) when a
//! marker sits so close to its neighbours that not even a few letters fit.
//! Pure, so the server render and the hydrated browser lay them out alike.

/// Width of one character of the 11 px chart font, in SVG units. Measured widest
/// (digits and capitals of the sans-serif stack are ≤ 6.6 px at 11 px); estimating
/// wide keeps real boxes inside the estimated ones, so estimated disjoint means disjoint.
pub const CHAR_W: f64 = 6.8;
/// Height of one lane: an 11 px line box is about 13 px tall, so 15 keeps rows apart.
pub const LANE_H: f64 = 15.0;
/// At most this many lanes; more would push the plot down too far.
pub const MAX_LANES: usize = 3;
/// Space kept between two labels in one lane.
const GAP: f64 = 6.0;
/// A label is drawn this far right of its marker line.
pub const OFFSET: f64 = 3.0;
/// Shortest truncated label worth drawing: three characters and the ellipsis.
const MIN_CHARS: usize = 4;

/// Estimated width of `s` in the chart font.
pub fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_W
}

/// Where one marker's label goes.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedLabel {
    /// Index of the marker in the input.
    pub index: usize,
    /// Lane, 0 at the top.
    pub lane: usize,
    /// Left edge of the text (SVG x).
    pub x: f64,
    /// Text to draw: the name, or its start and "…".
    pub text: String,
    pub truncated: bool,
}

impl PlacedLabel {
    /// Estimated box: left, right.
    pub fn span(&self) -> (f64, f64) {
        (self.x, self.x + text_width(&self.text))
    }
}

fn truncate(name: &str, width: f64) -> Option<String> {
    let fit = (width / CHAR_W).floor() as usize;
    let n = name.chars().count();
    if fit >= n {
        return Some(name.to_string());
    }
    if fit < MIN_CHARS {
        return None;
    }
    let mut s: String = name.chars().take(fit - 1).collect();
    s.push('…');
    Some(s)
}

/// Lays out labels of markers at SVG x positions `xs` with names `names`, within
/// `right` (the right edge of the drawing). Returns one entry per label drawn, in
/// input order of x; markers without an entry show their name only as a tooltip.
///
/// Greedy by x: a label takes the first lane whose last label ends before it starts;
/// when every lane is taken, the lane that frees up first is used and its last label
/// is shortened to end before this one (or this marker keeps no label when that would
/// leave fewer than a few letters of either).
pub fn layout(xs: &[f64], names: &[String], right: f64) -> Vec<PlacedLabel> {
    let mut order: Vec<usize> = (0..xs.len().min(names.len())).collect();
    order.sort_by(|a, b| xs[*a].total_cmp(&xs[*b]));
    let mut placed: Vec<PlacedLabel> = Vec::new();
    // Per lane: index into `placed` of its last label.
    let mut lanes: Vec<Option<usize>> = vec![None; MAX_LANES];
    for i in order {
        let x = xs[i] + OFFSET;
        let Some(text) = truncate(&names[i], right - x) else {
            continue;
        };
        let end_of = |p: &Option<usize>| p.map(|k| placed[k].span().1 + GAP);
        let free = lanes
            .iter()
            .position(|l| end_of(l).is_none_or(|end| end <= x));
        let lane = match free {
            Some(lane) => lane,
            None => {
                // Every lane is busy at x: shorten the one that ends first.
                let lane = (0..MAX_LANES)
                    .min_by(|a, b| {
                        let (ea, eb) = (end_of(&lanes[*a]), end_of(&lanes[*b]));
                        ea.unwrap_or(0.0).total_cmp(&eb.unwrap_or(0.0))
                    })
                    .unwrap_or(0);
                let k = lanes[lane].expect("a busy lane has a label");
                let prev = &placed[k];
                match truncate(&names[prev.index], x - GAP - prev.x) {
                    Some(t) => {
                        let full = t == names[prev.index];
                        placed[k].truncated = !full;
                        placed[k].text = t;
                        lane
                    }
                    None => continue,
                }
            }
        };
        let truncated = text != names[i];
        lanes[lane] = Some(placed.len());
        placed.push(PlacedLabel {
            index: i,
            lane,
            x,
            text,
            truncated,
        });
    }
    placed
}

/// Number of lanes the layout uses (for the top margin).
pub fn lanes_used(placed: &[PlacedLabel]) -> usize {
    placed.iter().map(|p| p.lane + 1).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intersect(a: &PlacedLabel, b: &PlacedLabel) -> bool {
        let ((a0, a1), (b0, b1)) = (a.span(), b.span());
        a.lane == b.lane && a0 < b1 && b0 < a1
    }

    fn assert_disjoint(p: &[PlacedLabel], right: f64) {
        for (i, a) in p.iter().enumerate() {
            assert!(a.span().1 <= right + 1e-9, "{a:?} runs past {right}");
            for b in &p[i + 1..] {
                assert!(!intersect(a, b), "{a:?} and {b:?} overlap");
            }
        }
    }

    /// A small deterministic generator (no dependency for a test).
    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn sparse_labels_stay_whole_in_the_first_lane() {
        let names = vec!["v1.0.0".to_string(), "v1.1.0".to_string()];
        let p = layout(&[100.0, 400.0], &names, 940.0);
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(|l| l.lane == 0 && !l.truncated));
        assert_eq!(p[0].text, "v1.0.0");
    }

    #[test]
    fn close_labels_are_staggered() {
        let names: Vec<String> = (0..3).map(|i| format!("release-{i}")).collect();
        let p = layout(&[100.0, 120.0, 140.0], &names, 940.0);
        assert_eq!(p.iter().map(|l| l.lane).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert!(p.iter().all(|l| !l.truncated));
        assert_eq!(lanes_used(&p), 3);
        assert_disjoint(&p, 940.0);
    }

    #[test]
    fn crowded_labels_are_truncated_or_dropped_never_overlapping() {
        let names: Vec<String> = (0..40).map(|i| format!("deploy api@{i:07x}")).collect();
        let xs: Vec<f64> = (0..40).map(|i| 80.0 + i as f64 * 6.0).collect();
        let p = layout(&xs, &names, 940.0);
        assert_disjoint(&p, 940.0);
        assert!(p.iter().any(|l| l.truncated && l.text.ends_with('…')));
        assert!(p.len() < 40, "some markers keep only their tooltip");
    }

    #[test]
    fn a_label_at_the_right_edge_is_shortened() {
        let names = vec!["a very long release name".to_string()];
        let p = layout(&[900.0], &names, 940.0);
        assert_eq!(p.len(), 1);
        assert!(p[0].truncated);
        assert_disjoint(&p, 940.0);
    }

    /// Property: for random marker positions and names, no two label boxes intersect
    /// and none leaves the drawing.
    #[test]
    fn no_two_label_boxes_intersect_for_random_markers() {
        let mut seed = 7u64;
        for _ in 0..500 {
            let n = (lcg(&mut seed) % 60) as usize;
            let right = 600.0 + (lcg(&mut seed) % 400) as f64;
            let xs: Vec<f64> = (0..n)
                .map(|_| 40.0 + (lcg(&mut seed) % (right as u64 - 40)) as f64)
                .collect();
            let names: Vec<String> = (0..n)
                .map(|_| "x".repeat(1 + (lcg(&mut seed) % 24) as usize))
                .collect();
            let p = layout(&xs, &names, right);
            assert_disjoint(&p, right);
            for l in &p {
                assert!(names[l.index].starts_with(l.text.trim_end_matches('…')));
            }
        }
    }
}
