//! A project's holiday calendar (docs/metrics.md, "Holidays"): local dates on which
//! traffic is not a normal day of the week. Deploy verdicts, production detection and
//! the backtest read it (`perfwatch_detect::holidays`); admins replace it as a whole.

use perfwatch_detect::holidays::{check_name, parse_date, Holiday, Holidays, MAX_HOLIDAYS};
use serde::{Deserialize, Serialize};

use crate::accounts::{Actor, Right};
use crate::error::{Result, StoreError};
use crate::Store;

/// One holiday as sent by a client: the date is text so a bad one is named by its field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HolidayInput {
    /// Local date `YYYY-MM-DD` (in the timezone of the project's production series).
    pub date: String,
    pub name: String,
}

/// A project's holidays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HolidayCalendar {
    pub project: String,
    pub holidays: Vec<Holiday>,
}

/// The holidays of `slug`, by date.
pub async fn holidays(store: &Store, slug: &str) -> Result<HolidayCalendar> {
    let p = store.project(slug).await?;
    Ok(HolidayCalendar {
        holidays: store.holidays(p.id).await?,
        project: p.slug,
    })
}

/// The calendar the statistics use.
pub async fn calendar(store: &Store, project_id: i64) -> Result<Holidays> {
    Ok(Holidays::new(&store.holidays(project_id).await?))
}

/// Checks `input`: every bad entry is named by its field (`holidays[2].date`), a date
/// listed twice too.
pub fn check(input: &[HolidayInput]) -> Result<Vec<Holiday>> {
    if input.len() > MAX_HOLIDAYS {
        return Err(StoreError::invalid(
            "holidays",
            format!("at most {MAX_HOLIDAYS} holidays"),
        ));
    }
    let mut errors = Vec::new();
    let mut out: Vec<Holiday> = Vec::with_capacity(input.len());
    for (i, h) in input.iter().enumerate() {
        let date = parse_date(&h.date)
            .map_err(|e| {
                errors.push(perfwatch_core::FieldError::new(
                    format!("holidays[{i}].date"),
                    e,
                ))
            })
            .ok();
        let name = check_name(&h.name)
            .map_err(|e| {
                errors.push(perfwatch_core::FieldError::new(
                    format!("holidays[{i}].name"),
                    e,
                ))
            })
            .ok();
        if let Some(d) = date {
            if out.iter().any(|x| x.date == d) {
                errors.push(perfwatch_core::FieldError::new(
                    format!("holidays[{i}].date"),
                    format!("{d} is listed twice"),
                ));
                continue;
            }
        }
        if let (Some(date), Some(name)) = (date, name) {
            out.push(Holiday { date, name });
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Invalid(perfwatch_core::ValidationErrors {
            errors,
        }));
    }
    out.sort_by_key(|h| h.date);
    Ok(out)
}

/// Replaces the holidays of `slug` (project admins). Nothing is written when any entry
/// is bad.
pub async fn set_holidays(
    store: &Store,
    actor: &Actor,
    slug: &str,
    input: &[HolidayInput],
) -> Result<HolidayCalendar> {
    let p = store.project(slug).await?;
    actor.require(Right::Admin, Some(p.id))?;
    let list = check(input)?;
    store.replace_holidays(p.id, &list).await?;
    Ok(HolidayCalendar {
        project: p.slug,
        holidays: list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(date: &str, name: &str) -> HolidayInput {
        HolidayInput {
            date: date.into(),
            name: name.into(),
        }
    }

    #[test]
    fn bad_entries_are_named_by_field() {
        let e = check(&[
            h("2026-12-25", "Christmas"),
            h("2026-12-32", "X"),
            h("2026-12-25", "Again"),
            h("2027-01-01", ""),
        ])
        .unwrap_err();
        let StoreError::Invalid(v) = e else {
            panic!("{e:?}")
        };
        let paths: Vec<&str> = v.errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["holidays[1].date", "holidays[2].date", "holidays[3].name"]
        );
        let ok = check(&[
            h("2027-01-01", "New Year"),
            h(" 2026-12-25 ", " Christmas "),
        ])
        .unwrap();
        assert_eq!(ok[0].name, "Christmas");
        assert_eq!(ok[1].date.to_string(), "2027-01-01");
    }
}
