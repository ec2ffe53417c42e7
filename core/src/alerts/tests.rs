//! Alert directions, suspect ranges, matching moved change points, group states and the
//! list filter's URL.

use super::*;

#[test]
fn direction_follows_the_measure() {
    assert_eq!(
        AlertDirection::of_change(5.0, Direction::Lower),
        AlertDirection::Regression
    );
    assert_eq!(
        AlertDirection::of_change(-5.0, Direction::Lower),
        AlertDirection::Improvement
    );
    assert_eq!(
        AlertDirection::of_change(5.0, Direction::Higher),
        AlertDirection::Improvement
    );
    assert_eq!(
        AlertDirection::of_change(-5.0, Direction::Higher),
        AlertDirection::Regression
    );
}

#[test]
fn suspect_ranges_overlap_only_when_they_share_a_commit() {
    let a = SuspectRange::between(Some(10), 12); // commits 11, 12
    let b = SuspectRange::between(Some(12), 13); // commit 13
    let c = SuspectRange::between(Some(11), 14); // commits 12..14
    assert!(!a.overlaps(&b));
    assert!(a.overlaps(&c));
    assert!(b.overlaps(&c));
    assert_eq!(a.union(&b), SuspectRange { lo: 10, hi: 13 });
    assert_eq!(
        SuspectRange::between(None, 7),
        SuspectRange { lo: 6, hi: 7 }
    );
}

#[test]
fn moved_change_points_match_the_nearest_alert() {
    let existing = [Some(50), Some(100), None];
    assert_eq!(match_moved(&existing, &[52, 140], 5), vec![Some(0), None]);
    assert_eq!(match_moved(&existing, &[98, 101], 5), vec![None, Some(1)]);
    assert_eq!(match_moved(&existing, &[], 5), Vec::<Option<usize>>::new());
}

#[test]
fn group_state_follows_alerts_unless_set() {
    use TriageState::*;
    assert_eq!(group_state(None, &[]), Untriaged);
    assert_eq!(group_state(None, &[Fixed, Fixed]), Fixed);
    assert_eq!(group_state(None, &[Fixed, Untriaged]), Untriaged);
    assert_eq!(group_state(None, &[Fixed, Invalid]), Acknowledged);
    assert_eq!(group_state(Some(Wontfix), &[Untriaged]), Wontfix);
    for s in TriageState::ALL {
        assert_eq!(TriageState::parse(s.as_str()), Some(s));
    }
}

#[test]
fn filter_round_trips_through_the_url() {
    let f = AlertFilter {
        project: Some("mongo-go".into()),
        direction: Some(AlertDirection::Regression),
        min_change: Some(2.5),
        max_age_days: Some(30),
        kind: Some(AlertKind::Changepoint),
        series_id: None,
        limit: None,
        state: Some(TriageState::Acknowledged),
        assignee: Some("ana".into()),
    };
    let s = f.to_query_string();
    assert_eq!(
        s,
        "project=mongo-go&direction=regression&min_change=2.5&max_age_days=30&kind=changepoint&state=acknowledged&assignee=ana"
    );
    let pairs: Vec<(&str, &str)> = s.split('&').map(|kv| kv.split_once('=').unwrap()).collect();
    assert_eq!(AlertFilter::from_pairs(pairs), f);
    let bad = AlertFilter::from_pairs([
        ("direction", "sideways"),
        ("min_change", "NaN"),
        ("max_age_days", "-3"),
    ]);
    assert_eq!(bad, AlertFilter::default());
}
