//! One flow iteration: its steps in order (each repeated as asked), every attempt
//! recorded. The first attempt counts from the iteration's intended start; later ones
//! start when the previous ends, so a delay is charged to the step that caused it. A
//! failed step ends the iteration (later steps may need what it would have set).

use std::sync::atomic::Ordering;
use std::time::Instant;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Shared;
use crate::http::{Prepared, Session};
use crate::recorder::Attempt;
use crate::scenario::StepKind;
use crate::taxonomy::Failure;
use crate::vars::Vars;

/// What a step needs at run time, worked out once before the run.
pub struct Plan {
    pub op: usize,
    pub prepared: Option<Prepared>,
}

/// Picks a flow by weight.
pub fn pick(sh: &Shared, rng: &mut ChaCha8Rng) -> usize {
    let flows = &sh.scenario.flows;
    let total: u64 = flows.iter().map(|f| u64::from(f.weight)).sum();
    let mut x = rng.random_range(0..total.max(1));
    for (i, f) in flows.iter().enumerate() {
        if x < u64::from(f.weight) {
            return i;
        }
        x -= u64::from(f.weight);
    }
    0
}

/// Runs one iteration of flow `flow`; `session` holds its request timer and connection.
pub async fn iteration(
    sh: &Shared,
    flow: usize,
    vu: u64,
    iter: u64,
    intended: Instant,
    session: &mut Session,
) {
    let seq = sh.seq.fetch_add(1, Ordering::Relaxed);
    sh.in_flight.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    sh.rec()
        .record_start(sh.offset(intended), sh.offset(started));
    let f = &sh.scenario.flows[flow];
    let mut vars = Vars::new(vu, iter, seq, &f.name);
    vars.extend_base(
        sh.scenario
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    if !sh.feeder.is_empty() {
        let row = &sh.feeder[(vu as usize) % sh.feeder.len()];
        vars.extend_base(row.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    let mut first = true;
    'steps: for (step, plan) in f.steps.iter().zip(&sh.plans[flow]) {
        let op = plan.op;
        for _ in 0..step.repeat {
            let s = Instant::now();
            let i = if first { intended } else { s };
            first = false;
            let r = match &step.kind {
                StepKind::Http { .. } => {
                    sh.http
                        .run(step, plan.prepared.as_ref(), &mut vars, session)
                        .await
                }
                StepKind::Driver { vars: extra } => match &sh.driver {
                    Some(d) => {
                        let rendered: Result<Vec<(String, String)>, String> = extra
                            .iter()
                            .map(|(k, t)| t.render(&vars).map(|v| (k.clone(), v)))
                            .collect();
                        match rendered {
                            Ok(x) => match d.call(&step.op, &mut vars, &x).await {
                                Ok(()) => take_driver_vars(&step.extract, &mut vars),
                                Err(e) => Err(e),
                            },
                            Err(e) => Err(Failure::Validation(e)),
                        }
                    }
                    None => Err(Failure::Validation("no [driver]".into())),
                },
            };
            let e = Instant::now();
            let error = r
                .err()
                .map(|f| (sh.scenario.taxonomy.classify(&f), f.message().to_string()));
            let failed = error.is_some();
            sh.rec().record(&Attempt {
                op,
                iteration: sh.offset(intended),
                intended: sh.offset(i),
                started: sh.offset(s),
                ended: sh.offset(e),
                error,
            });
            if failed {
                break 'steps;
            }
        }
    }
    sh.in_flight.fetch_sub(1, Ordering::Relaxed);
}

/// A driver step's `extract = { var = "name" }` copies the answered variable `name`
/// into `var`; a missing one is a validation failure.
fn take_driver_vars(extract: &[(String, String)], vars: &mut Vars<'_>) -> Result<(), Failure> {
    for (var, name) in extract {
        match vars.get(name) {
            Some(v) => {
                vars.set(var.clone(), v);
            }
            None => {
                return Err(Failure::Validation(format!(
                    "extract `{var}`: the driver's answer has no `{name}`"
                )))
            }
        }
    }
    Ok(())
}
