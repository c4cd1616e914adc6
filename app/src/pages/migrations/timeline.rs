//! When each applied migration ran.

use leptos::prelude::*;
use ops::model::MigrationEntry;

/// When each applied migration ran, as dots on a line.
#[allow(non_snake_case)]
pub fn Timeline(entries: Vec<MigrationEntry>) -> impl IntoView {
    let points: Vec<(u64, i64)> = entries
        .iter()
        .filter_map(|e| e.applied_at.map(|t| (e.version, t.timestamp_millis())))
        .collect();
    if points.is_empty() {
        return view! { <p class="muted small">"The timeline fills in as the console applies migrations (versions applied by HoloMUSH itself have no record)."</p> }.into_any();
    }
    let min = points.iter().map(|p| p.1).min().unwrap_or(0);
    let max = points.iter().map(|p| p.1).max().unwrap_or(0);
    let span = (max - min).max(1) as f64;
    let first = entries
        .iter()
        .filter_map(|e| e.applied_at)
        .min()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let last = entries
        .iter()
        .filter_map(|e| e.applied_at)
        .max()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    view! {
        <section class="card" data-testid="timeline">
            <h2>"Timeline"</h2>
            <svg viewBox="0 0 1000 70" class="timeline" role="img" aria-label="When migrations were applied">
                <line x1="20" y1="35" x2="980" y2="35" class="axis"/>
                {
                    let mut last_label = [f64::MIN, f64::MIN];
                    points.into_iter().enumerate().map(|(i, (v, t))| {
                        let x = 20.0 + 960.0 * (t - min) as f64 / span;
                        let row = i % 2;
                        // Migrations applied together sit on one spot: label only where there is room.
                        let label = (x - last_label[row] >= 30.0).then(|| {
                            last_label[row] = x;
                            view! { <text x=x y=if row == 0 { 22.0 } else { 58.0 } text-anchor="middle">{v}</text> }
                        });
                        view! {
                            <g>
                                <circle cx=x cy="35" r="6" class="dot-applied"><title>{format!("version {v}")}</title></circle>
                                {label}
                            </g>
                        }
                    }).collect_view()
                }
            </svg>
            <p class="muted small">{first} " … " {last}</p>
        </section>
    }
    .into_any()
}
