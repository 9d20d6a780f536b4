//! Community health for facilitators and the staff: the dashboard (`/moderation/health`) and
//! the unanswered lane (`/moderation/unanswered`). The figures and who sees them are decided
//! in `hearth_core::health`; here they are drawn.

use actix_web::{web, HttpResponse};
use hearth_core::clock;
use hearth_core::health::{self, Series, Window};
use serde::{Deserialize, Serialize};

use crate::errors::WebError;
use crate::handlers::threads::pager;
use crate::handlers::Page;
use crate::state::{read, State};
use crate::viewer::Viewer;

/// The chart's drawing area, in the SVG's own units (it scales to the page's width).
const CHART_WIDTH: f64 = 300.0;
const CHART_HEIGHT: f64 = 100.0;

#[derive(Deserialize)]
pub struct HealthQuery {
    days: Option<String>,
    group: Option<String>,
}

/// One bar of a chart, in SVG units.
#[derive(Debug, Serialize, PartialEq)]
struct Bar {
    x: String,
    y: String,
    width: String,
    height: String,
}

/// One row of a chart's table: the day, in words, and its count.
#[derive(Debug, Serialize)]
struct Row {
    date: String,
    label: String,
    count: i64,
}

/// A bar chart of one series: the bars of the days that had any, and its table (the truth
/// the bars draw).
#[derive(Debug, Serialize)]
struct Chart {
    width: f64,
    height: f64,
    bars: Vec<Bar>,
    rows: Vec<Row>,
    first_label: String,
    last_label: String,
}

impl Chart {
    /// Each day one slot of the width; a bar as tall as its count against the busiest day.
    fn of(series: &Series) -> Chart {
        let slot = CHART_WIDTH / series.days.len().max(1) as f64;
        let gap = (slot * 0.2).min(2.0);
        let scale = if series.max > 0 {
            CHART_HEIGHT / series.max as f64
        } else {
            0.0
        };
        let bars = series
            .days
            .iter()
            .enumerate()
            .filter(|(_, day)| day.count > 0)
            .map(|(i, day)| {
                // At least a sliver, so a day of 1 among days of 500 still shows.
                let height = (day.count as f64 * scale).max(1.0);
                Bar {
                    x: format!("{:.2}", i as f64 * slot + gap / 2.0),
                    y: format!("{:.2}", CHART_HEIGHT - height),
                    width: format!("{:.2}", slot - gap),
                    height: format!("{height:.2}"),
                }
            })
            .collect();
        let rows: Vec<Row> = series
            .days
            .iter()
            .map(|day| Row {
                date: day.day.format("%Y-%m-%d").to_string(),
                label: day.day.format("%a %-d %b").to_string(),
                count: day.count,
            })
            .collect();
        Chart {
            width: CHART_WIDTH,
            height: CHART_HEIGHT,
            bars,
            first_label: rows.first().map_or(String::new(), |r| r.label.clone()),
            last_label: rows.last().map_or(String::new(), |r| r.label.clone()),
            rows,
        }
    }
}

/// `GET /moderation/health?days=30|90&group=slug`: the figures of the viewer's groups (the
/// site's, for the staff), per group and in all, or of one group.
pub async fn dashboard(
    state: State,
    viewer: Viewer,
    query: web::Query<HealthQuery>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let window = Window::from_days(query.days.as_deref());
    let group = query
        .group
        .as_deref()
        .map(str::trim)
        .filter(|slug| !slug.is_empty())
        .map(str::to_owned);
    let zone = health::zone_named(&state.config.default_time_zone);
    let now = clock::now();
    let dashboard = read(&state, move |conn| {
        health::dashboard(conn, &member, group.as_deref(), window, zone, now)
    })
    .await?;
    let here = dashboard
        .focus
        .as_ref()
        .map_or(String::new(), |g| format!("&group={}", g.slug));
    Page::new(&state, &viewer, "health.html")
        .with("health", &dashboard)
        .with("posts_chart", &Chart::of(&dashboard.total.posts))
        .with("members_chart", &Chart::of(&dashboard.total.new_members))
        .with("group_query", &here)
        .render(&state)
}

#[derive(Deserialize)]
pub struct LaneQuery {
    page: Option<String>,
}

/// `GET /moderation/unanswered?page=N`: first posts no one else has answered, oldest first,
/// in the viewer's groups.
pub async fn unanswered(
    state: State,
    viewer: Viewer,
    query: web::Query<LaneQuery>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    // Read leniently, as the queue's: anything but a number is the first page, and the core
    // clamps a page past the end to the last.
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1);
    let now = clock::now();
    let lane = read(&state, move |conn| {
        health::unanswered(conn, &member, page, now)
    })
    .await?;
    let page = i32::try_from(lane.page).unwrap_or(i32::MAX);
    let n_pages = i32::try_from(lane.n_pages).unwrap_or(i32::MAX);
    let mut built = Page::new(&state, &viewer, "unanswered.html")
        .with("lane", &lane)
        .with("page", &page)
        .with("n_pages", &n_pages)
        .with("pages", &pager(page, n_pages));
    if page > 1 {
        built = built.later_page();
    }
    built.render(&state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use hearth_core::health::DayCount;

    fn series(counts: &[i64]) -> Series {
        let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        Series {
            days: counts
                .iter()
                .enumerate()
                .map(|(i, count)| DayCount {
                    day: day + chrono::TimeDelta::days(i as i64),
                    count: *count,
                })
                .collect(),
            total: counts.iter().sum(),
            max: counts.iter().copied().max().unwrap_or(0),
        }
    }

    #[test]
    fn bars_are_as_tall_as_their_day_against_the_busiest() {
        let chart = Chart::of(&series(&[0, 5, 10]));
        assert_eq!(chart.bars.len(), 2, "a day of none draws no bar");
        assert_eq!(
            chart.bars[0],
            Bar {
                x: "101.00".to_owned(),
                y: "50.00".to_owned(),
                width: "98.00".to_owned(),
                height: "50.00".to_owned(),
            }
        );
        assert_eq!(chart.bars[1].height, "100.00");
        assert_eq!(chart.bars[1].y, "0.00");
        assert_eq!(
            chart.rows.len(),
            3,
            "the table has every day, quiet ones too"
        );
        assert_eq!(chart.first_label, "Mon 1 Jun");
        assert_eq!(chart.rows[2].date, "2026-06-03");
        // A quiet window draws nothing and divides by nothing.
        assert!(Chart::of(&series(&[0, 0])).bars.is_empty());
    }
}
