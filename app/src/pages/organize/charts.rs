//! Charts as SVG drawn on the server: readable without JavaScript, printable,
//! and styled by the site's stylesheet.

use leptos::prelude::*;

const WIDTH: i64 = 640;
const ROW: i64 = 30;
const BAR: i64 = 20;
/// The label column grows with the longest label between these bounds;
/// longer labels are shortened with "…" (the full text is the row's tooltip).
const LABEL_MIN: i64 = 80;
const LABEL_MAX: i64 = 320;
const LABEL_GAP: i64 = 10;

/// Roughly how wide `text` is at the chart's 13 px: full-width characters
/// (Japanese) take a whole em, others a little over half of one.
fn text_width(text: &str) -> i64 {
    text.chars()
        .map(|c| if c.len_utf8() >= 3 { 13 } else { 7 })
        .sum()
}

/// `text`, cut to fit `width` with an ellipsis when it does not.
fn fitted(text: &str, width: i64) -> String {
    if text_width(text) <= width {
        return text.to_string();
    }
    let mut kept = String::new();
    let mut used = text_width("…");
    for c in text.chars() {
        used += text_width(c.encode_utf8(&mut [0; 4]));
        if used > width {
            break;
        }
        kept.push(c);
    }
    kept.push('…');
    kept
}

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
    let longest = rows
        .iter()
        .map(|(label, _)| text_width(label))
        .max()
        .unwrap_or(0);
    let label_column = (longest + LABEL_GAP + 4).clamp(LABEL_MIN, LABEL_MAX);
    let room = WIDTH - label_column - 60;
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
                let shown = fitted(&label, label_column - LABEL_GAP);
                let tooltip = format!("{label}: {n}");
                view! {
                    <g class="bar-row" data-label=label data-value=n>
                        <title>{tooltip}</title>
                        <text class="bar-label" x=label_column - LABEL_GAP y=y + BAR - 5 text-anchor="end">{shown}</text>
                        <rect class="bar" x=label_column y=y width=length height=BAR rx="3"></rect>
                        <text class="bar-value" x=label_column + length + 8 y=y + BAR - 5>{n}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_that_fit_stay_whole_and_long_ones_end_in_an_ellipsis() {
        assert_eq!(fitted("開発部 Engineering", 300), "開発部 Engineering");
        let long = "カスタマーサポート部 Customer Support and Success Operations";
        let cut = fitted(long, LABEL_MAX - LABEL_GAP);
        assert!(
            cut.ends_with('…') && long.starts_with(cut.trim_end_matches('…')),
            "{cut}"
        );
        assert!(text_width(&cut) <= LABEL_MAX - LABEL_GAP, "{cut}");
        // A Japanese character is wider than a Latin one.
        assert!(text_width("部") > text_width("a"));
    }
}
