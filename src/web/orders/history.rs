//! The order lists: a buyer's order history and the staff order desk, filtered and paged by key.

use super::Side;
use crate::domain::auth::Permission;
use crate::domain::money::Money;
use crate::domain::orders::{Channel, OrderStatus};
use crate::domain::pricing::parse_iso_date;
use crate::service::orders::{self, ListedOrder, OrderCursor, OrderFilter, OrderRow, OrderSort, SortBy, SortValue};
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
    /// The staff list's sort (`placed`, `total`, `account`, `status`) and direction (`asc`, `desc`).
    #[serde(default)]
    sort: String,
    #[serde(default)]
    dir: String,
    after_at: Option<i64>,
    after_id: Option<String>,
    /// The previous page's last sort value (total or name or status) when not sorting by date.
    after_v: Option<String>,
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

    /// The sort asked for; each has its natural direction (newest, largest first; accounts and
    /// statuses A→Z) unless `dir` says otherwise.
    fn sort(&self) -> Result<OrderSort, WebError> {
        let by = match self.sort.trim() {
            "" => SortBy::Placed,
            s => SortBy::parse(s).ok_or_else(|| invalid("sort", "Sort by placed, total, account or status."))?,
        };
        let descending = match self.dir.trim() {
            "" => matches!(by, SortBy::Placed | SortBy::Total),
            "desc" => true,
            "asc" => false,
            _ => return Err(invalid("dir", "The direction is asc or desc.")),
        };
        Ok(OrderSort { by, descending })
    }

    /// The cursor of the page asked for (after the previous page's last row).
    fn cursor(&self, by: SortBy) -> Result<Option<OrderCursor>, WebError> {
        let (Some(at), Some(id)) = (self.after_at, self.after_id.clone()) else { return Ok(None) };
        let value = match (by, self.after_v.as_deref()) {
            (SortBy::Placed, _) => None,
            (SortBy::Total, Some(v)) => {
                Some(SortValue::Int(v.parse().map_err(|_| invalid("after_v", "Not a page of this list."))?))
            }
            (_, Some(v)) => Some(SortValue::Text(v.to_string())),
            (_, None) => return Err(invalid("after_v", "Not a page of this list.")),
        };
        Ok(Some(OrderCursor { value, placed_at: at, id }))
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

fn invalid(field: &str, message: &str) -> WebError {
    WebError::from(crate::service::ServiceError::invalid(field, message))
}

/// An order as a row of a list.
pub struct OrderItem {
    /// The account's name and number (the staff list; empty on the buyer's own).
    pub account_id: String,
    pub account_name: String,
    pub account_number: String,
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
            account_id: o.account_id.clone(),
            account_name: String::new(),
            account_number: String::new(),
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

impl From<&ListedOrder> for OrderItem {
    fn from(l: &ListedOrder) -> OrderItem {
        OrderItem {
            account_name: l.account_name.clone(),
            account_number: l.account_number.clone(),
            ..(&l.order).into()
        }
    }
}

/// A sortable column heading of the staff list: (label, link, arrow when it is the sort).
pub struct SortLink {
    pub key: &'static str,
    pub label: &'static str,
    pub href: String,
    pub arrow: &'static str,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    shell: Shell,
    exports: Vec<crate::web::exports::ExportLink>,
    base: &'static str,
    staff: bool,
    items: Vec<OrderItem>,
    q: HistoryQueryView,
    statuses: Vec<(&'static str, &'static str)>,
    channels: Vec<(&'static str, &'static str)>,
    /// Who placed orders for this account (the "placed by" filter); empty on the staff list.
    placers: Vec<(String, String)>,
    can_order: bool,
    /// Whether the buyer may see the catalog side of the account, its quotes and what it bought
    /// before (a finance contact may not): the Quotes and Buy again links.
    can_browse: bool,
    /// The current filters, for the CSV download of the same history.
    csv_query: String,
    next_page: Option<String>,
    /// The staff list's column headings that sort (empty on the buyer's history).
    sorts: Vec<SortLink>,
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
    let sort = if staff { q.sort()? } else { OrderSort::default() };
    let after = q.cursor(sort.by)?;
    let mut rows: Vec<OrderItem> = Vec::new();
    let mut last: Option<OrderCursor> = None;
    if staff {
        let mut listed =
            orders::list_orders_sorted(&state.db, &actor, q.filter(), sort, after.as_ref(), PAGE + 1).await?;
        if listed.len() as i64 > PAGE {
            listed.truncate(PAGE as usize);
            last = listed.last().map(|o| o.cursor(sort.by));
        }
        rows.extend(listed.iter().map(OrderItem::from));
    } else {
        let after = after.as_ref().map(|c| (c.placed_at, c.id.as_str()));
        let mut plain = orders::list_orders(&state.db, &actor, q.filter(), after, PAGE + 1).await?;
        if plain.len() as i64 > PAGE {
            plain.truncate(PAGE as usize);
            last = plain.last().map(|o| OrderCursor { value: None, placed_at: o.placed_at, id: o.id.clone() });
        }
        rows.extend(plain.iter().map(OrderItem::from));
    }
    let filter_pairs = || {
        let mut pairs = q.filter_pairs();
        pairs.retain(|(_, v)| !v.is_empty());
        if staff && !q.account.is_empty() {
            pairs.push(("account", q.account.clone()));
        }
        pairs
    };
    let sort_pairs = |s: OrderSort| -> Vec<(&'static str, String)> {
        if s == OrderSort::default() {
            return Vec::new();
        }
        vec![("sort", s.by.as_str().to_string()), ("dir", if s.descending { "desc" } else { "asc" }.to_string())]
    };
    let next_page = last.map(|c| {
        let mut pairs = filter_pairs();
        pairs.extend(sort_pairs(sort));
        pairs.extend([("after_at", c.placed_at.to_string()), ("after_id", c.id)]);
        match c.value {
            Some(SortValue::Int(i)) => pairs.push(("after_v", i.to_string())),
            Some(SortValue::Text(t)) => pairs.push(("after_v", t)),
            None => {}
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    });
    let sorts = if staff {
        [
            (SortBy::Placed, "Placed"),
            (SortBy::Total, "Subtotal"),
            (SortBy::Account, "Account"),
            (SortBy::Status, "Status"),
        ]
        .into_iter()
        .map(|(by, label)| {
            let natural = OrderSort { by, descending: matches!(by, SortBy::Placed | SortBy::Total) };
            let next = if sort.by == by { OrderSort { by, descending: !sort.descending } } else { natural };
            let mut pairs = filter_pairs();
            pairs.extend(sort_pairs(next));
            if next == OrderSort::default() {
                pairs.extend([("sort", "placed".to_string())]);
            }
            let arrow = match (sort.by == by, sort.descending) {
                (false, _) => "",
                (true, true) => " ↓",
                (true, false) => " ↑",
            };
            SortLink {
                key: by.as_str(),
                label,
                href: format!("{}?{}", side.base(), serde_urlencoded::to_string(pairs).unwrap_or_default()),
                arrow,
            }
        })
        .collect()
    } else {
        Vec::new()
    };
    let placers = if staff { Vec::new() } else { orders::placers(&state.db, &actor, &q.account).await? };
    let csv_query = serde_urlencoded::to_string(q.filter_pairs()).unwrap_or_default();
    let page = OrdersPage {
        exports: if staff {
            crate::web::exports::export_links(&ctx.actor(), &[crate::service::imports::Kind::Orders])
        } else {
            Vec::new()
        },
        csv_query,
        placers,
        can_order: can_order(ctx),
        can_browse: ctx.session.principal.is_staff() || ctx.session.principal.can(Permission::PortalCatalog),
        shell: Shell::new(ctx, if staff { "Orders" } else { "Order history" }),
        base: side.base(),
        staff,
        items: rows,
        sorts,
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
