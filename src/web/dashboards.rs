//! The seller's dashboards (issue 18 §4): `/dashboards` (orders and revenue by channel),
//! `/dashboards/adoption`, `/reorders`, `/carts`, `/products`, each with its chart (SVG from
//! [`super::charts`], inline), the table behind it and a CSV of that table
//! (`/dashboards/<name>.csv`, streamed). Query: `months` (12 or 24), `account` or `rep` to narrow
//! the scope; the service decides what the actor may see (a rep: their book only).

use super::AppState;
use super::charts::{self, Series, Unit};
use super::error::WebError;
use super::session::{Ctx, urlencode};
use super::shell::Shell;
use crate::domain::dashboards::WINDOWS;
use crate::domain::import::neutralise_cell;
use crate::domain::orders::Channel;
use crate::service::dashboards::{
    self as service, AdoptionView, CartLine, ChannelsView, Dashboard, Filter, OwnedScope, ProductsView, RhythmLine,
};
use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/dashboards", get(channels_page)).route("/dashboards/{name}", get(named))
}

#[derive(Deserialize, Default)]
pub struct DashQuery {
    months: Option<String>,
    account: Option<String>,
    rep: Option<String>,
}

impl DashQuery {
    fn months(&self) -> u32 {
        crate::domain::dashboards::window(self.months.as_deref().and_then(|m| m.trim().parse().ok()))
    }

    fn filter(&self) -> Filter {
        Filter {
            account: self.account.clone().filter(|s| !s.trim().is_empty()),
            rep: self.rep.clone().filter(|s| !s.trim().is_empty()),
        }
    }

    /// The scope part of a link (`account=…&` or `rep=…&`), kept across tabs and windows.
    fn scope_query(&self) -> String {
        let f = self.filter();
        match (f.account, f.rep) {
            (Some(a), _) => format!("account={}&", urlencode(&a)),
            (None, Some(r)) => format!("rep={}&", urlencode(&r)),
            _ => String::new(),
        }
    }
}

/// A tab of the dashboards' navigation.
pub struct Tab {
    pub href: String,
    pub label: &'static str,
    pub active: bool,
}

fn path_of(d: Dashboard) -> &'static str {
    match d {
        Dashboard::Channels => "/dashboards",
        Dashboard::Adoption => "/dashboards/adoption",
        Dashboard::Reorders => "/dashboards/reorders",
        Dashboard::Carts => "/dashboards/carts",
        Dashboard::Products => "/dashboards/products",
    }
}

#[derive(Template)]
#[template(path = "dashboards.html")]
struct DashboardPage {
    shell: Shell,
    which: &'static str,
    heading: &'static str,
    scope_label: String,
    scoped: bool,
    tabs: Vec<Tab>,
    /// (href, label, active) for the 12/24-month windows (dashboards with a window).
    windows: Vec<(String, String, bool)>,
    csv: String,
    chart: String,
    channels: Option<ChannelsView>,
    channel_labels: Vec<&'static str>,
    adoption: Option<AdoptionView>,
    rhythms: Vec<RhythmLine>,
    stopped: usize,
    carts: Vec<CartLine>,
    products: Option<ProductsView>,
}

async fn channels_page(state: State<AppState>, ctx: Ctx, q: Query<DashQuery>) -> Result<Response, WebError> {
    page(state, ctx, q, Dashboard::Channels).await
}

async fn named(
    state: State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    q: Query<DashQuery>,
) -> Result<Response, WebError> {
    if let Some(which) = name.strip_suffix(".csv").and_then(Dashboard::parse) {
        return csv(state, ctx, q, which).await;
    }
    match Dashboard::parse(&name) {
        Some(Dashboard::Channels) | None => Err(WebError::NotFound),
        Some(which) => page(state, ctx, q, which).await,
    }
}

async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DashQuery>,
    which: Dashboard,
) -> Result<Response, WebError> {
    let actor = ctx.actor();
    let (now, months, filter) = (state.now(), q.months(), q.filter());
    let scope_q = q.scope_query();
    let mut page = DashboardPage {
        shell: Shell::new(&ctx, format!("Dashboards · {}", which.title())),
        which: which.as_str(),
        heading: which.title(),
        scope_label: String::new(),
        scoped: filter.account.is_some() || filter.rep.is_some(),
        tabs: Dashboard::ALL
            .into_iter()
            .map(|d| Tab {
                href: format!("{}?{scope_q}months={months}", path_of(d)),
                label: d.title(),
                active: d == which,
            })
            .collect(),
        windows: match which {
            Dashboard::Reorders | Dashboard::Carts => Vec::new(),
            _ => WINDOWS
                .into_iter()
                .map(|w| (format!("{}?{scope_q}months={w}", path_of(which)), format!("{w} months"), w == months))
                .collect(),
        },
        csv: format!("/dashboards/{}.csv?{scope_q}months={months}", which.as_str()),
        chart: String::new(),
        channels: None,
        channel_labels: Vec::new(),
        adoption: None,
        rhythms: Vec::new(),
        stopped: 0,
        carts: Vec::new(),
        products: None,
    };
    let scope: OwnedScope = match which {
        Dashboard::Channels => {
            let v = service::channels(&state.db, now, &actor, &filter, months).await?;
            let labels: Vec<String> = v.rows.iter().map(|r| r.month.clone()).collect();
            let series: Vec<Series> = v
                .channels
                .iter()
                .enumerate()
                .map(|(i, c)| Series {
                    name: Channel::label(c).to_string(),
                    colour: charts::channel_colour(c),
                    values: v.rows.iter().map(|r| Some(r.cells[i].1.raw())).collect(),
                })
                .collect();
            page.chart = charts::stacked_bars(
                "Revenue by channel and month; the figures are in the table below",
                &labels,
                &series,
                Unit::Money,
            );
            page.channel_labels = v.channels.iter().map(|c| Channel::label(c)).collect();
            let scope = v.scope.clone();
            page.channels = Some(v);
            scope
        }
        Dashboard::Adoption => {
            let v = service::adoption(&state.db, now, &actor, &filter, months).await?;
            let labels: Vec<String> = v.trend.iter().map(|r| r.month.clone()).collect();
            let share = |f: &dyn Fn(&crate::domain::dashboards::Adoption) -> Option<i64>| -> Vec<Option<i64>> {
                v.trend.iter().map(|r| f(&r.adoption)).collect()
            };
            let series = vec![
                Series {
                    name: "Share of orders".into(),
                    colour: charts::channel_colour("portal"),
                    values: share(&|a| a.order_share().permille()),
                },
                Series {
                    name: "Share of revenue".into(),
                    colour: charts::channel_colour("rep"),
                    values: share(&|a| a.revenue_share().permille()),
                },
            ];
            page.chart = charts::lines(
                "Self-service share of orders and revenue by month; the figures are in the table below",
                &labels,
                &series,
                Unit::Permille,
            );
            let scope = v.scope.clone();
            page.adoption = Some(v);
            scope
        }
        Dashboard::Reorders => {
            let (scope, lines) = service::rhythms(&state.db, now, &actor, &filter).await?;
            page.stopped = lines.iter().filter(|l| l.stopped).count();
            page.rhythms = lines.into_iter().take(PAGE_ROWS).collect();
            scope
        }
        Dashboard::Carts => {
            let (scope, carts) = service::abandoned_carts(&state.db, now, &actor, &filter).await?;
            page.carts = carts;
            scope
        }
        Dashboard::Products => {
            let v = service::products(&state.db, now, &actor, &filter, months).await?;
            let scope = v.scope.clone();
            page.products = Some(v);
            scope
        }
    };
    page.scope_label = scope.label();
    Ok(Html(page.render()?).into_response())
}

/// Rows a table shows on the page (the CSV has them all).
const PAGE_ROWS: usize = 200;

/// The table of a dashboard as CSV, streamed in chunks like the exports; text cells are neutralised
/// against spreadsheet formulas.
async fn csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DashQuery>,
    which: Dashboard,
) -> Result<Response, WebError> {
    let rows = service::csv_rows(&state.db, state.now(), &ctx.actor(), which, &q.filter(), q.months()).await?;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = rows
        .chunks(500)
        .map(|chunk| {
            let mut w = csv::Writer::from_writer(Vec::new());
            for r in chunk {
                w.write_record(r.iter().map(|c| neutralise_cell(c))).map_err(std::io::Error::other)?;
            }
            w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
        })
        .collect();
    let file = format!("dashboard-{}.csv", which.as_str());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(futures_util::stream::iter(chunks)),
    )
        .into_response())
}
