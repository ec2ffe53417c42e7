//! The `[load]` table: the open model (rate or stages, arrivals, in-flight limit) or
//! the closed one (virtual users, think time, pacing), and the measured duration.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::raw::{RawLoad, RawStage};
use super::{Ctx, Load, ScenarioError, WhenFull};
use crate::schedule::{Arrival, RateProfile, Stage as RateStage};
use crate::units::{parse_duration, parse_rate};

pub(super) fn check_load(
    c: &Ctx,
    l: &RawLoad,
    duration: Option<&Spanned<String>>,
    warmup: Duration,
) -> Result<(Load, Duration), ScenarioError> {
    let duration = match duration {
        Some(d) => Some(c.duration(d, "run.duration")?),
        None => None,
    };
    match l.model.get_ref().as_str() {
        "open" => check_open(c, l, duration, warmup),
        "closed" => check_closed(c, l, duration),
        _ => Err(c.err(
            l.model.span(),
            "load.model",
            "is `open` (arrival rate) or `closed` (virtual users)",
        )),
    }
}

/// A key of the other model, set by mistake.
fn not_for(c: &Ctx, v: Option<Range<usize>>, key: &str, model: &str) -> Result<(), ScenarioError> {
    match v {
        Some(span) => Err(c.err(
            span,
            format!("load.{key}"),
            format!("does not apply to the {model} model"),
        )),
        None => Ok(()),
    }
}

fn check_open(
    c: &Ctx,
    l: &RawLoad,
    duration: Option<Duration>,
    warmup: Duration,
) -> Result<(Load, Duration), ScenarioError> {
    not_for(c, l.vus.as_ref().map(|v| v.span()), "vus", "open")?;
    not_for(c, l.think.as_ref().map(|v| v.span()), "think", "open")?;
    not_for(c, l.pacing.as_ref().map(|v| v.span()), "pacing", "open")?;
    let initial = match &l.rate {
        Some(r) => parse_rate(r.get_ref()).map_err(|m| c.err(r.span(), "load.rate", m))?,
        None => 0.0,
    };
    let (stages, stage_total) = check_stages(c, l.stages.iter().flatten())?;
    if l.rate.is_none() && stages.is_empty() {
        return Err(c.err(
            l.model.span(),
            "load.rate",
            "the open model needs `rate` or `stages`",
        ));
    }
    let duration = open_duration(
        c,
        l,
        duration,
        (!stages.is_empty()).then_some(stage_total),
        warmup,
    )?;
    let total = (warmup + duration).as_secs_f64();
    let profile = RateProfile::from_stages(initial, &stages, total);
    let rate_text = match (&l.rate, stages.is_empty()) {
        (Some(r), true) => r.get_ref().clone(),
        _ => "stages".to_string(),
    };
    Ok((
        Load::Open {
            profile,
            arrival: check_arrival(c, l)?,
            max_in_flight: check_max_in_flight(c, l)?,
            when_full: check_when_full(c, l)?,
            rate_text,
        },
        duration,
    ))
}

/// The rate stages and the time they span together.
fn check_stages<'a>(
    c: &Ctx,
    raw: impl Iterator<Item = &'a Spanned<RawStage>>,
) -> Result<(Vec<RateStage>, Duration), ScenarioError> {
    let mut stages = Vec::new();
    let mut stage_total = Duration::ZERO;
    for (i, s) in raw.enumerate() {
        let key = format!("load.stages[{i}]");
        let st = s.get_ref();
        let dur = |t: &str| parse_duration(t).map_err(|m| c.err(s.span(), key.clone(), m));
        let stage = match (&st.to, &st.over, &st.hold) {
            (Some(to), Some(over), None) => {
                let to = parse_rate(to).map_err(|m| c.err(s.span(), key.clone(), m))?;
                let over = dur(over)?;
                stage_total += over;
                RateStage::Ramp {
                    to,
                    over: over.as_secs_f64(),
                }
            }
            (None, None, Some(hold)) => {
                let over = dur(hold)?;
                stage_total += over;
                RateStage::Hold {
                    over: over.as_secs_f64(),
                }
            }
            _ => {
                return Err(c.err(
                    s.span(),
                    key,
                    "a stage is {to = \"RATE\", over = \"TIME\"} or {hold = \"TIME\"}",
                ))
            }
        };
        stages.push(stage);
    }
    Ok((stages, stage_total))
}

/// The measured time of the open model: `run.duration`, or what the stages span after
/// the warm-up (stages span warm-up and measured time together).
fn open_duration(
    c: &Ctx,
    l: &RawLoad,
    duration: Option<Duration>,
    stage_total: Option<Duration>,
    warmup: Duration,
) -> Result<Duration, ScenarioError> {
    let duration = match (duration, stage_total) {
        (Some(d), _) => d,
        (None, Some(t)) => t.saturating_sub(warmup),
        (None, None) => {
            return Err(c.err(
                l.model.span(),
                "run.duration",
                "required with a constant rate",
            ))
        }
    };
    if duration.is_zero() {
        return Err(c.err(
            l.model.span(),
            "run.duration",
            "the measured time must be longer than 0 (stages cover warm-up plus duration)",
        ));
    }
    Ok(duration)
}

fn check_arrival(c: &Ctx, l: &RawLoad) -> Result<Arrival, ScenarioError> {
    match l.arrival.as_ref().map(|a| (a.get_ref().as_str(), a.span())) {
        None | Some(("uniform", _)) => Ok(Arrival::Uniform),
        Some(("poisson", _)) => Ok(Arrival::Poisson),
        Some((_, span)) => Err(c.err(span, "load.arrival", "is `uniform` or `poisson`")),
    }
}

fn check_max_in_flight(c: &Ctx, l: &RawLoad) -> Result<usize, ScenarioError> {
    match &l.max_in_flight {
        Some(m) if !(1..=1_000_000).contains(m.get_ref()) => {
            Err(c.err(m.span(), "load.max_in_flight", "must be 1 to 1,000,000"))
        }
        Some(m) => Ok(*m.get_ref() as usize),
        None => Ok(1000),
    }
}

fn check_when_full(c: &Ctx, l: &RawLoad) -> Result<WhenFull, ScenarioError> {
    match l
        .when_full
        .as_ref()
        .map(|a| (a.get_ref().as_str(), a.span()))
    {
        None | Some(("queue", _)) => Ok(WhenFull::Queue),
        Some(("drop", _)) => Ok(WhenFull::Drop),
        Some((_, span)) => Err(c.err(span, "load.when_full", "is `queue` or `drop`")),
    }
}

fn check_closed(
    c: &Ctx,
    l: &RawLoad,
    duration: Option<Duration>,
) -> Result<(Load, Duration), ScenarioError> {
    not_for(c, l.rate.as_ref().map(|v| v.span()), "rate", "closed")?;
    not_for(
        c,
        l.stages.as_ref().and_then(|s| s.first()).map(|v| v.span()),
        "stages",
        "closed",
    )?;
    not_for(
        c,
        l.max_in_flight.as_ref().map(|v| v.span()),
        "max_in_flight",
        "closed",
    )?;
    let vus = match &l.vus {
        Some(v) if !(1..=100_000).contains(v.get_ref()) => {
            return Err(c.err(v.span(), "load.vus", "must be 1 to 100,000"))
        }
        Some(v) => *v.get_ref() as usize,
        None => return Err(c.err(l.model.span(), "load.vus", "the closed model needs `vus`")),
    };
    let think = match &l.think {
        Some(t) => c.duration(t, "load.think")?,
        None => Duration::ZERO,
    };
    let pacing = check_pacing(c, l)?;
    let duration = duration.ok_or_else(|| c.err(l.model.span(), "run.duration", "required"))?;
    if duration.is_zero() {
        return Err(c.err(l.model.span(), "run.duration", "must be longer than 0"));
    }
    Ok((Load::Closed { vus, think, pacing }, duration))
}

fn check_pacing(c: &Ctx, l: &RawLoad) -> Result<Option<Duration>, ScenarioError> {
    let Some(p) = &l.pacing else {
        return Ok(None);
    };
    let d = c.duration(p, "load.pacing")?;
    if d.is_zero() {
        return Err(c.err(p.span(), "load.pacing", "must be longer than 0"));
    }
    Ok(Some(d))
}
