//! An answer against its step: the status the step expects (2xx by default), then the
//! variables the step extracts from the JSON body.

use bytes::Bytes;
use http::Method;

use crate::extract::extract_all;
use crate::scenario::Step;
use crate::taxonomy::Failure;
use crate::vars::Vars;

/// The answer's status against the step's expectation, then its extractions.
pub(super) fn check(
    step: &Step,
    method: &Method,
    path: &str,
    (status, answer): (u16, Bytes),
    vars: &mut Vars<'_>,
) -> Result<(), Failure> {
    let expected = if step.expect_status.is_empty() {
        (200..300).contains(&status)
    } else {
        step.expect_status.contains(&status)
    };
    if !expected {
        let head = String::from_utf8_lossy(&answer[..answer.len().min(80)]).into_owned();
        let want = if step.expect_status.is_empty() {
            "2xx".to_string()
        } else {
            format!("{:?}", step.expect_status)
        };
        return Err(Failure::Status {
            status,
            message: format!(
                "{} {path}: status {status}, expected {want}: {head}",
                method
            ),
        });
    }
    for (k, v) in extract_all(&answer, &step.extract).map_err(Failure::Validation)? {
        vars.set(k, v);
    }
    Ok(())
}
