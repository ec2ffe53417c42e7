//! The "Threshold rules" section of the series page: the rules that apply to the series
//! and, for who may triage its project, a form to add one (for the series or its whole
//! measure) and a delete button per rule. The forms post to the server functions of
//! `crate::api_thresholds` (`crate::enhance`): plain form posts before hydration,
//! `fetch` plus a fresh server render of the list after it.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::api_thresholds::{
    fetch_series_thresholds, CreateSeriesThreshold, DeleteSeriesThreshold, SeriesThresholds,
};

/// The rules of a series, rendered on the server.
#[component]
pub fn ThresholdRules(series_id: i64) -> impl IntoView {
    let data = crate::codec::resource(move || series_id, fetch_series_thresholds);
    view! {
        <section class="thresholds" data-testid="thresholds">
            <h2>"Threshold rules"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(t) => body(series_id, t).into_any(),
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn body(series_id: i64, t: SeriesThresholds) -> impl IntoView {
    let manage = t.can_manage;
    let list = if t.rules.is_empty() {
        view! { <p class="muted" data-testid="no-thresholds">"No threshold rule applies to this series."</p> }
            .into_any()
    } else {
        view! {
            <table class="list" data-testid="threshold-rules">
                <thead><tr><th>"Applies to"</th><th>"Checks"</th>{manage.then(|| view! { <th></th> })}</tr></thead>
                <tbody>
                    {t.rules.into_iter().map(|r| view! {
                        <tr data-rule=r.id class=format!("scope-{}", r.scope)>
                            <td>{r.scope_label}</td>
                            <td>{r.what}</td>
                            {manage.then(|| view! {
                                <td>
                                    <form method="post" action=DeleteSeriesThreshold::url() class="inline-form"
                                        data-post data-result="threshold-delete-result" data-ok=""
                                        data-err-testid="threshold-delete-error">
                                        <input type="hidden" name="id" value=r.id />
                                        <input type="hidden" name="series_id" value=series_id />
                                        <button type="submit" data-testid="delete-threshold">"Delete"</button>
                                    </form>
                                </td>
                            })}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    let form = manage.then(|| form(series_id, &t.measure, &t.unit));
    view! {
        <div data-region="thresholds">{list}</div>
        {crate::enhance::result_slot::<DeleteSeriesThreshold>("threshold-delete-result", Some("threshold-delete-error"))}
        {form}
    }
}

fn form(series_id: i64, measure: &str, unit: &str) -> impl IntoView {
    let measure_opt = format!("every series of measure {measure}");
    let static_hint = format!(" in {unit}; give min, max or both.");
    let pinned_hint =
        format!(" in {unit}, e.g. a release's median (see the project's releases page).");
    view! {
        <form method="post" action=CreateSeriesThreshold::url() class="threshold-form" data-testid="threshold-form"
            data-post data-result="threshold-result" data-ok="" data-err-testid="threshold-error">
            <input type="hidden" name="series_id" value=series_id />
            <div class="row">
                <label>"Add a rule for "
                    <select name="scope">
                        <option value="series" selected>"this series"</option>
                        <option value="measure">{measure_opt}</option>
                    </select>
                </label>
                <label>" that checks "
                    <select name="kind">
                        <option value="static" selected>"a static bound"</option>
                        <option value="percent_change">"the percent change"</option>
                        <option value="z_score">"the z-score"</option>
                    </select>
                </label>
            </div>
            <fieldset class="k-static">
                <legend>"Static bound"</legend>
                <label>"min " <input name="min" inputmode="decimal" size="8" /></label>
                <label>" max " <input name="max" inputmode="decimal" size="8" /></label>
                <span class="hint muted">{static_hint}</span>
            </fieldset>
            <fieldset class="k-percent_change">
                <legend>"Percent change"</legend>
                <label>"largest rise % " <input name="max_up" inputmode="decimal" size="5" /></label>
                <label>" largest fall % " <input name="max_down" inputmode="decimal" size="5" /></label>
                <br />
                <label><input type="radio" name="baseline" value="median_of_last" checked />" against the median of the last "</label>
                <input name="n" inputmode="numeric" size="4" value="10" />" points"
                <br />
                <label><input type="radio" name="baseline" value="pinned" />" against a pinned value "</label>
                <input name="pinned" inputmode="decimal" size="8" />
                <label>" label " <input name="pinned_label" size="10" placeholder="v1.4" /></label>
                <span class="hint muted">{pinned_hint}</span>
            </fieldset>
            <fieldset class="k-z_score">
                <legend>"Z-score"</legend>
                <label>"|z| at most " <input name="max_z" inputmode="decimal" size="4" value="4" /></label>
                <label>" over the last " <input name="lookback" inputmode="numeric" size="4" value="30" />" points"</label>
                <label>" "
                    <select name="side">
                        <option value="both" selected>"either way"</option>
                        <option value="increase">"rises only"</option>
                        <option value="decrease">"falls only"</option>
                    </select>
                </label>
            </fieldset>
            <button type="submit" data-testid="add-threshold">"Add rule"</button>
        </form>
        {crate::enhance::result_slot::<CreateSeriesThreshold>("threshold-result", Some("threshold-error"))}
    }
}
