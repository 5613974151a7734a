//! The order lists: a buyer's order history and the staff order desk, filtered and paged by key.

use super::Side;
use crate::domain::money::Money;
use crate::domain::orders::{Channel, OrderStatus};
use crate::domain::pricing::parse_iso_date;
use crate::service::orders::{self, OrderFilter, OrderRow};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::ordering::{can_order, working};
use crate::web::session::Ctx;
use crate::web::shell::{Shell, date};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/portal/orders", get(portal_orders)).route("/orders", get(staff_orders))
}

#[derive(Deserialize, Default)]
pub(super) struct HistoryQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    po: String,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    placed_by: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    pub(super) account: String,
    after_at: Option<i64>,
    after_id: Option<String>,
}

fn day_start(s: &str) -> Option<i64> {
    parse_iso_date(s.trim()).map(|d| d.midnight().assume_utc().unix_timestamp())
}

impl HistoryQuery {
    pub(super) fn filter(&self) -> OrderFilter {
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        OrderFilter {
            account_id: some(&self.account),
            owner_rep_id: None,
            status: some(&self.status),
            channel: some(&self.channel),
            from: day_start(&self.from),
            to: day_start(&self.to).map(|t| t + 86_400),
            po: some(&self.po),
            sku: some(&self.sku),
            placed_by: some(&self.placed_by),
            q: some(&self.q),
        }
    }

    /// The filter as query parameters (for the next page's and the CSV's links).
    fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("status", &self.status),
            ("channel", &self.channel),
            ("from", &self.from),
            ("to", &self.to),
            ("po", &self.po),
            ("sku", &self.sku),
            ("q", &self.q),
            ("placed_by", &self.placed_by),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.clone()))
        .collect()
    }
}

/// An order as a row of a list.
pub struct OrderItem {
    pub number: String,
    pub placed: String,
    pub status: String,
    pub status_label: &'static str,
    pub channel: &'static str,
    pub placed_by: String,
    pub for_you: bool,
    pub po_number: String,
    pub subtotal: Money,
    pub lines: i64,
    pub backordered: bool,
}

impl From<&OrderRow> for OrderItem {
    fn from(o: &OrderRow) -> OrderItem {
        OrderItem {
            number: o.number.clone(),
            placed: date(o.placed_at),
            status: o.status.clone(),
            status_label: o.status().label(),
            channel: Channel::label(&o.channel),
            placed_by: o.placed_by_name.clone(),
            for_you: o.on_behalf_of_account_id.is_some(),
            po_number: o.po_number.clone(),
            subtotal: Money::from_raw(o.subtotal),
            lines: o.line_count,
            backordered: o.backordered,
        }
    }
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    shell: Shell,
    base: &'static str,
    staff: bool,
    items: Vec<OrderItem>,
    q: HistoryQueryView,
    statuses: Vec<(&'static str, &'static str)>,
    channels: Vec<(&'static str, &'static str)>,
    /// Who placed orders for this account (the "placed by" filter); empty on the staff list.
    placers: Vec<(String, String)>,
    can_order: bool,
    /// The current filters, for the CSV download of the same history.
    csv_query: String,
    next_page: Option<String>,
}

struct HistoryQueryView {
    status: String,
    channel: String,
    from: String,
    to: String,
    po: String,
    sku: String,
    q: String,
    placed_by: String,
}

const PAGE: i64 = 25;

async fn render_orders(state: &AppState, ctx: &Ctx, mut q: HistoryQuery, side: Side) -> Result<Html<String>, WebError> {
    let staff = side == Side::Staff;
    let actor = ctx.order_actor();
    if !staff {
        q.account = working(ctx)?;
    }
    let after = match (q.after_at, q.after_id.as_deref()) {
        (Some(at), Some(id)) => Some((at, id)),
        _ => None,
    };
    let mut rows = orders::list_orders(&state.db, &actor, q.filter(), after, PAGE + 1).await?;
    let next_page = if rows.len() as i64 > PAGE {
        rows.truncate(PAGE as usize);
        rows.last().map(|o| {
            let mut pairs = q.filter_pairs();
            pairs.extend([("after_at", o.placed_at.to_string()), ("after_id", o.id.clone())]);
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        })
    } else {
        None
    };
    let placers = if staff { Vec::new() } else { orders::placers(&state.db, &actor, &q.account).await? };
    let csv_query = serde_urlencoded::to_string(q.filter_pairs()).unwrap_or_default();
    let page = OrdersPage {
        csv_query,
        placers,
        can_order: can_order(ctx),
        shell: Shell::new(ctx, if staff { "Orders" } else { "Order history" }),
        base: side.base(),
        staff,
        items: rows.iter().map(OrderItem::from).collect(),
        q: HistoryQueryView {
            status: q.status,
            channel: q.channel,
            from: q.from,
            to: q.to,
            po: q.po,
            sku: q.sku,
            q: q.q,
            placed_by: q.placed_by,
        },
        statuses: OrderStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        channels: Channel::ALL.iter().map(|c| (c.as_str(), Channel::label(c.as_str()))).collect(),
        next_page,
    };
    Ok(Html(page.render()?))
}

async fn portal_orders(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HistoryQuery>,
) -> Result<Html<String>, WebError> {
    render_orders(&state, &ctx, q, Side::Portal).await
}

async fn staff_orders(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HistoryQuery>,
) -> Result<Html<String>, WebError> {
    if !ctx.session.principal.is_staff() {
        return Err(WebError::NotFound);
    }
    render_orders(&state, &ctx, q, Side::Staff).await
}
