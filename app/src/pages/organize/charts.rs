//! Bar charts as plain HTML drawn on the server: readable without
//! JavaScript, printable, and set in the page's own text size, so labels stay
//! legible on a phone (an SVG scaled to a phone's width shrank them to a few
//! pixels). Each bar is a `<progress>` element, which needs no inline style
//! and so no exception to the Content-Security-Policy.

use leptos::prelude::*;

/// Labels longer than this many characters are shortened with "…"; the
/// full text stays in the row's tooltip and its accessible name.
const LABEL_MAX_CHARS: usize = 40;

/// `text`, cut to `max` characters with an ellipsis when it is longer.
fn fitted(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut kept: String = text.chars().take(max.saturating_sub(1)).collect();
    kept.push('…');
    kept
}

/// Horizontal bars, one per row: the label, the bar, the number. The
/// longest bar is the largest value. On a phone the label sits above its bar.
/// The section's heading names the chart; each row reads as "label: number".
#[component]
pub fn BarChart(rows: Vec<(String, i64)>, #[prop(optional)] testid: &'static str) -> impl IntoView {
    let most = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    view! {
        <dl class="bar-chart" data-testid=testid>
            {rows.into_iter().map(|(label, n)| {
                let shown = fitted(&label, LABEL_MAX_CHARS);
                let tooltip = format!("{label}: {n}");
                view! {
                    <div class="bar-row" data-label=label.clone() data-value=n title=tooltip>
                        <dt class="bar-label">{shown}</dt>
                        <dd>
                            <progress max=most value=n aria-hidden="true"></progress>
                            <span class="bar-value">{n}</span>
                        </dd>
                    </div>
                }
            }).collect_view()}
        </dl>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_that_fit_stay_whole_and_long_ones_end_in_an_ellipsis() {
        assert_eq!(fitted("開発部 Engineering", 40), "開発部 Engineering");
        let long = "カスタマーサポート部 Customer Support and Success Operations";
        let cut = fitted(long, LABEL_MAX_CHARS);
        assert_eq!(cut.chars().count(), LABEL_MAX_CHARS);
        assert!(
            cut.ends_with('…') && long.starts_with(cut.trim_end_matches('…')),
            "{cut}"
        );
    }
}
