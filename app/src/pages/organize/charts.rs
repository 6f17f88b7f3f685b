//! Charts as SVG drawn on the server: readable without JavaScript, printable,
//! and styled by the site's stylesheet.

use leptos::prelude::*;

const WIDTH: i64 = 640;
const LABEL: i64 = 200;
const ROW: i64 = 30;
const BAR: i64 = 20;

/// Horizontal bars, one per row, with the label on the left and the value at
/// the end of the bar; the longest bar is the largest value.
#[component]
pub fn BarChart(
    /// What the chart shows, for screen readers.
    title: String,
    rows: Vec<(String, i64)>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let most = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = ROW * rows.len().max(1) as i64 + 6;
    let room = WIDTH - LABEL - 60;
    let summary = rows
        .iter()
        .map(|(label, n)| format!("{label}: {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let aria_label = format!("{title}: {summary}");
    view! {
        <svg class="bar-chart" viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label=aria_label data-testid=testid preserveAspectRatio="xMinYMin meet">
            <title>{title}</title>
            {rows.into_iter().enumerate().map(|(i, (label, n))| {
                let y = i as i64 * ROW + 4;
                let length = (room * n / most).max(if n > 0 { 2 } else { 0 });
                let key = label.clone();
                view! {
                    <g class="bar-row" data-label=key data-value=n>
                        <text class="bar-label" x=LABEL - 10 y=y + BAR - 5 text-anchor="end">{label}</text>
                        <rect class="bar" x=LABEL y=y width=length height=BAR rx="3"></rect>
                        <text class="bar-value" x=LABEL + length + 8 y=y + BAR - 5>{n}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}
