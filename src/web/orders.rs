//! Checkout, order history and detail, two-click reorder, and the staff side: acting for a customer,
//! the order desk, amendments, confirmation and cancellation. Every placement goes through
//! `service::orders::place_order`, whatever page it starts from.

use super::AppState;
use super::error::WebError;
use super::ordering::{can_order, working};
use super::session::Ctx;
use super::shell::{Shell, date, datetime};
use crate::domain::auth::Permission;
use crate::domain::money::Money;
use crate::domain::orders::{Channel, OrderDiff, OrderStatus, parse_paste};
use crate::domain::pricing::{format_iso_date, parse_iso_date};
use crate::service::accounts::{self as account_service, ShipToRow};
use crate::service::auth::random_token;
use crate::service::carts::{self, ReorderSource, Review};
use crate::service::orders::{
    self, Amendment, Evaluation, IdemKey, LineInput, OrderFilter, OrderHeader, OrderLineRow, OrderRow, OrderView,
    PlaceOrder, Placement,
};
use crate::service::{ServiceError, acting};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/checkout", get(checkout_page).post(checkout_place))
        .route("/portal/orders", get(portal_orders))
        .route("/portal/orders.csv", get(history_csv))
        .route("/portal/orders/{number}", get(portal_order))
        .route("/portal/orders/{number}/csv", get(order_csv))
        .route("/portal/reorder/order/{number}", get(reorder_order))
        .route("/portal/reorder/list/{id}", get(reorder_list))
        .route("/portal/reorder", post(reorder_place))
        .route("/portal/reorder/to-cart", post(reorder_to_cart))
        .route("/accounts/{id}/act", post(act_for))
        .route("/act/exit", post(act_exit))
        .route("/orders", get(staff_orders))
        .route("/orders/{number}", get(staff_order))
        .route("/orders/{number}/csv", get(order_csv))
        .route("/orders/{number}/amend", post(amend))
        .route("/orders/{number}/cancel", post(cancel))
        .route("/orders/{number}/confirm", post(confirm))
}

/// Places through the pipeline under a form's one-time token: a double click (or a resubmitted
/// form) finds the first order instead of placing a second one.
async fn place_once<F, Fut>(state: &AppState, ctx: &Ctx, token: &str, place: F) -> Result<String, WebError>
where
    F: FnOnce(IdemKey) -> Fut,
    Fut: std::future::Future<Output = Result<Placement, ServiceError>>,
{
    if token.len() < 16 {
        return Err(WebError::BadRequest("This form has expired; reload the page.".into()));
    }
    let key = IdemKey {
        scope: format!("form:{}", ctx.session.principal.user_id),
        key: token.to_string(),
        request_hash: "place".into(),
    };
    match place(key.clone()).await {
        Ok(Placement::Placed { order, .. }) => Ok(order.number),
        Ok(Placement::Replayed { order_id, .. }) => number_of(state, ctx, order_id).await,
        // The first click is still placing: wait for it, then show its order.
        Err(ServiceError::InFlight) => {
            Ok(orders::wait_for_placement(&state.db, &ctx.order_actor(), &key).await?.number)
        }
        Err(e) => Err(e.into()),
    }
}

/// The number of an order placed under a form token (the record keeps its id).
async fn number_of(state: &AppState, ctx: &Ctx, order_id: Option<String>) -> Result<String, WebError> {
    let id = order_id.ok_or(WebError::NotFound)?;
    Ok(orders::get_order(&state.db, &ctx.order_actor(), &id).await?.number)
}

// ---- Checkout ----

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    shell: Shell,
    eval: Evaluation,
    subtotal: String,
    ship_tos: Vec<ShipToRow>,
    po_required: bool,
    terms: String,
    token: String,
    min_date: String,
}

async fn checkout_page(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    let account_id = working(&ctx)?;
    let actor = ctx.order_actor();
    let eval = carts::cart(&state.db, state.now(), &actor, &account_id).await?;
    if eval.lines.is_empty() && eval.issues.is_empty() {
        return Err(WebError::Redirect("/portal/cart".into()));
    }
    let account = account_service::get_account(&state.db, &ctx.actor(), &account_id).await?;
    let page = CheckoutPage {
        shell: Shell::new(&ctx, "Checkout"),
        subtotal: eval.subtotal().map(|m| m.format()).unwrap_or_default(),
        eval,
        ship_tos: account_service::ship_tos(&state.db, &ctx.actor(), &account_id).await?,
        po_required: account.po_required,
        terms: account.terms().label(),
        token: random_token(16),
        min_date: format_iso_date(crate::service::catalog::today(state.now())),
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
struct CheckoutForm {
    #[serde(default)]
    ship_to_id: String,
    #[serde(default)]
    po_number: String,
    #[serde(default)]
    requested_date: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    form_token: String,
}

impl CheckoutForm {
    fn header(&self) -> OrderHeader {
        OrderHeader {
            ship_to_id: Some(self.ship_to_id.clone()).filter(|s| !s.is_empty()),
            po_number: self.po_number.clone(),
            requested_date: Some(self.requested_date.clone()).filter(|s| !s.trim().is_empty()),
            notes: self.notes.clone(),
        }
    }
}

async fn checkout_place(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CheckoutForm>,
) -> Result<Redirect, WebError> {
    let account_id = working(&ctx)?;
    let actor = ctx.order_actor();
    let now = state.now();
    let number = place_once(&state, &ctx, &f.form_token, |key| {
        let state = state.clone();
        let header = f.header();
        let account_id = account_id.clone();
        async move {
            let cart = carts::cart(&state.db, now, &actor, &account_id).await?;
            if !cart.issues.is_empty() {
                return Err(ServiceError::Blocked(cart.issues));
            }
            let lines = cart
                .lines
                .iter()
                .map(|l| LineInput { product: orders::ProductRef::Id(l.product.id.clone()), quantity: l.quantity })
                .collect();
            let req = PlaceOrder { account_id, lines, header, clear_cart: true };
            orders::place_order(&state.db, now, &actor, &req, Some(&key), |o, _| (201, o.id.clone())).await
        }
    })
    .await?;
    Ok(Redirect::to(&format!("/portal/orders/{number}?placed=1")))
}

// ---- History ----

#[derive(Deserialize, Default)]
struct HistoryQuery {
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
    account: String,
    after_at: Option<i64>,
    after_id: Option<String>,
}

fn day_start(s: &str) -> Option<i64> {
    parse_iso_date(s.trim()).map(|d| d.midnight().assume_utc().unix_timestamp())
}

impl HistoryQuery {
    fn filter(&self) -> OrderFilter {
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
            status_label: OrderStatus::parse(&o.status).map(|s| s.label()).unwrap_or("?"),
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

async fn render_orders(
    state: &AppState,
    ctx: &Ctx,
    mut q: HistoryQuery,
    base: &'static str,
) -> Result<Html<String>, WebError> {
    let staff = base == "/orders";
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
            serde_urlencoded::to_string([
                ("status", q.status.as_str()),
                ("channel", q.channel.as_str()),
                ("from", q.from.as_str()),
                ("to", q.to.as_str()),
                ("po", q.po.as_str()),
                ("sku", q.sku.as_str()),
                ("q", q.q.as_str()),
                ("placed_by", q.placed_by.as_str()),
                ("after_at", &o.placed_at.to_string()),
                ("after_id", o.id.as_str()),
            ])
            .unwrap_or_default()
        })
    } else {
        None
    };
    let placers = if staff { Vec::new() } else { orders::placers(&state.db, &actor, &q.account).await? };
    let csv_query = serde_urlencoded::to_string([
        ("status", q.status.as_str()),
        ("channel", q.channel.as_str()),
        ("from", q.from.as_str()),
        ("to", q.to.as_str()),
        ("po", q.po.as_str()),
        ("sku", q.sku.as_str()),
        ("q", q.q.as_str()),
        ("placed_by", q.placed_by.as_str()),
    ])
    .unwrap_or_default();
    let page = OrdersPage {
        csv_query,
        placers,
        can_order: can_order(ctx),
        shell: Shell::new(ctx, if staff { "Orders" } else { "Order history" }),
        base,
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
        channels: ["portal", "rep", "phone", "api"].into_iter().map(|c| (c, Channel::label(c))).collect(),
        next_page,
    };
    Ok(Html(page.render()?))
}

async fn portal_orders(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HistoryQuery>,
) -> Result<Html<String>, WebError> {
    render_orders(&state, &ctx, q, "/portal/orders").await
}

async fn staff_orders(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HistoryQuery>,
) -> Result<Html<String>, WebError> {
    if !ctx.session.principal.is_staff() {
        return Err(WebError::NotFound);
    }
    render_orders(&state, &ctx, q, "/orders").await
}

// ---- Detail ----

pub struct RevisionView {
    pub revision: i64,
    pub at: String,
    pub actor_name: String,
    pub reason: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    shell: Shell,
    base: &'static str,
    v: OrderView,
    item: OrderItem,
    placed_at: String,
    events: Vec<(String, &'static str, String, &'static str, String)>,
    revisions: Vec<RevisionView>,
    can_order: bool,
    can_manage: bool,
    is_open: bool,
    just_placed: bool,
    ship_tos: Vec<ShipToRow>,
}

#[derive(Deserialize, Default)]
struct DetailQuery {
    placed: Option<String>,
    notice: Option<String>,
}

async fn render_order(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    base: &'static str,
    q: DetailQuery,
) -> Result<Html<String>, WebError> {
    let actor = ctx.order_actor();
    let v = orders::order_view(&state.db, &actor, number).await?;
    if base == "/portal/orders" && Some(v.order.account_id.as_str()) != ctx.working_account() {
        return Err(WebError::NotFound);
    }
    let p = &ctx.session.principal;
    let can_manage = p.is_staff() && p.can(Permission::ManageOrders);
    let status = OrderStatus::parse(&v.order.status).unwrap_or(OrderStatus::Closed);
    let events = v
        .events
        .iter()
        .map(|e| {
            (
                datetime(e.at),
                OrderStatus::parse(&e.status).map(|s| s.label()).unwrap_or("?"),
                e.actor_name.clone(),
                Channel::label(&e.channel),
                e.note.clone(),
            )
        })
        .collect();
    let revisions = v
        .revisions
        .iter()
        .map(|r| RevisionView {
            revision: r.revision,
            at: datetime(r.at),
            actor_name: r.actor_name.clone(),
            reason: r.reason.clone(),
            summary: serde_json::from_str::<OrderDiffRead>(&r.diff_json)
                .map(|d| d.into_diff().summary())
                .unwrap_or_default(),
        })
        .collect();
    let ship_tos = if can_manage {
        account_service::ship_tos(&state.db, &ctx.actor(), &v.order.account_id).await?
    } else {
        Vec::new()
    };
    let page = OrderPage {
        shell: Shell::new(ctx, format!("Order {}", v.order.number)).with_notice(q.notice.as_deref()),
        base,
        item: OrderItem::from(&v.order),
        placed_at: datetime(v.order.placed_at),
        events,
        revisions,
        can_order: can_order(ctx) && ctx.working_account() == Some(v.order.account_id.as_str()),
        can_manage,
        is_open: status.is_open(),
        just_placed: q.placed.is_some(),
        ship_tos,
        v,
    };
    Ok(Html(page.render()?))
}

/// The stored diff, read back (the domain type serialises with `&'static` free fields).
#[derive(Deserialize)]
struct OrderDiffRead {
    lines: Vec<LineChangeRead>,
    fields: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
struct LineChangeRead {
    sku: String,
    from_qty: i64,
    to_qty: i64,
}

impl OrderDiffRead {
    fn into_diff(self) -> OrderDiff {
        OrderDiff {
            lines: self
                .lines
                .into_iter()
                .map(|l| crate::domain::orders::LineChange { sku: l.sku, from_qty: l.from_qty, to_qty: l.to_qty })
                .collect(),
            fields: self.fields,
        }
    }
}

async fn portal_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Html<String>, WebError> {
    working(&ctx)?;
    render_order(&state, &ctx, &number, "/portal/orders", q).await
}

async fn staff_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Html<String>, WebError> {
    if !ctx.session.principal.is_staff() {
        return Err(WebError::NotFound);
    }
    render_order(&state, &ctx, &number, "/orders", q).await
}

const CSV_COLUMNS: [&str; 15] = [
    "order_number",
    "po_number",
    "placed_at",
    "status",
    "channel",
    "line",
    "sku",
    "name",
    "quantity",
    "uom",
    "unit_price",
    "line_total",
    "backordered",
    "price_source",
    "price_explanation",
];

/// Writes an order's lines as CSV rows; text cells are neutralised against spreadsheet formulas.
fn write_order(w: &mut csv::Writer<Vec<u8>>, o: &OrderRow, lines: &[OrderLineRow]) -> Result<(), WebError> {
    let n = crate::domain::import::neutralise_cell;
    for l in lines {
        w.write_record([
            n(&o.number),
            n(&o.po_number),
            datetime(o.placed_at),
            o.status.clone(),
            o.channel.clone(),
            l.line_no.to_string(),
            n(&l.sku),
            n(&l.name),
            l.quantity.to_string(),
            n(&l.uom),
            Money::from_raw(l.unit_price).to_plain(),
            Money::from_raw(l.line_total).to_plain(),
            l.backordered_qty.to_string(),
            l.price_source.clone(),
            n(&l.price_explanation),
        ])
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    }
    Ok(())
}

fn csv_response(w: csv::Writer<Vec<u8>>, file: &str) -> Result<Response, WebError> {
    let body = w.into_inner().map_err(|e| WebError::BadRequest(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}.csv\"")),
        ],
        body,
    )
        .into_response())
}

/// The order's lines as CSV (for the buyer's own systems).
async fn order_csv(State(state): State<AppState>, ctx: Ctx, Path(number): Path<String>) -> Result<Response, WebError> {
    let v = orders::order_view(&state.db, &ctx.order_actor(), &number).await?;
    if !ctx.session.principal.is_staff() && Some(v.order.account_id.as_str()) != ctx.working_account() {
        return Err(WebError::NotFound);
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS).map_err(|e| WebError::BadRequest(e.to_string()))?;
    write_order(&mut w, &v.order, &v.lines)?;
    csv_response(w, &v.order.number)
}

/// The most orders one history download holds.
const CSV_MAX_ORDERS: usize = 10_000;

/// The filtered history as CSV: one row per order line, newest order first.
async fn history_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(mut q): Query<HistoryQuery>,
) -> Result<Response, WebError> {
    q.account = working(&ctx)?;
    let actor = ctx.order_actor();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let mut after: Option<(i64, String)> = None;
    let mut written = 0;
    loop {
        let after_key = after.as_ref().map(|(a, i)| (*a, i.as_str()));
        let page = orders::list_orders_with_lines(&state.db, &actor, q.filter(), after_key, 500).await?;
        for (o, lines) in &page {
            write_order(&mut w, o, lines)?;
        }
        written += page.len();
        match page.last() {
            Some((o, _)) if page.len() == 500 && written < CSV_MAX_ORDERS => after = Some((o.placed_at, o.id.clone())),
            _ => break,
        }
    }
    csv_response(w, "orders")
}

// ---- Two-click reorder ----

#[derive(Template)]
#[template(path = "reorder.html")]
struct ReorderPage {
    shell: Shell,
    review: Review,
    source: String,
    source_label: String,
    ship_to: String,
    terms: String,
    po_required: bool,
    token: String,
}

async fn render_reorder(state: &AppState, ctx: &Ctx, source: ReorderSource<'_>) -> Result<Html<String>, WebError> {
    let account_id = working(ctx)?;
    if !can_order(ctx) {
        return Err(WebError::Forbidden);
    }
    let (code, label) = match &source {
        ReorderSource::Order(n) => (format!("order:{n}"), format!("order {n}")),
        ReorderSource::List(id) => (format!("list:{id}"), "your list".to_string()),
    };
    let review = carts::reorder_review(&state.db, state.now(), &ctx.order_actor(), &account_id, source).await?;
    let account = account_service::get_account(&state.db, &ctx.actor(), &account_id).await?;
    let ship_tos = account_service::ship_tos(&state.db, &ctx.actor(), &account_id).await?;
    let ship_to = ship_tos
        .iter()
        .find(|s| s.is_default)
        .or(ship_tos.first())
        .map(|s| format!("{} — {}", s.label, s.address().one_line()))
        .unwrap_or_default();
    let page = ReorderPage {
        shell: Shell::new(ctx, "Reorder"),
        review,
        source: code,
        source_label: label,
        ship_to,
        terms: account.terms().label(),
        po_required: account.po_required,
        token: random_token(16),
    };
    Ok(Html(page.render()?))
}

async fn reorder_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Result<Html<String>, WebError> {
    render_reorder(&state, &ctx, ReorderSource::Order(&number)).await
}

async fn reorder_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    render_reorder(&state, &ctx, ReorderSource::List(&id)).await
}

#[derive(Deserialize)]
struct ReorderForm {
    source: String,
    #[serde(default)]
    po_number: String,
    #[serde(default)]
    form_token: String,
}

/// `order:<number>` or `list:<id>`, as the review page's form names what is reordered.
fn reorder_source(s: &str) -> Result<ReorderSource<'_>, WebError> {
    match s.split_once(':') {
        Some(("order", n)) => Ok(ReorderSource::Order(n)),
        Some(("list", id)) => Ok(ReorderSource::List(id)),
        _ => Err(WebError::BadRequest("Unknown reorder source.".into())),
    }
}

async fn reorder_place(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ReorderForm>,
) -> Result<Redirect, WebError> {
    let account_id = working(&ctx)?;
    let actor = ctx.order_actor();
    let now = state.now();
    let source = reorder_source(&f.source)?;
    let header = OrderHeader { po_number: f.po_number.clone(), ..Default::default() };
    let db = state.db.clone();
    let number = place_once(&state, &ctx, &f.form_token, |key| async move {
        carts::place_reorder(&db, now, &actor, &account_id, source, header, Some(&key)).await
    })
    .await?;
    Ok(Redirect::to(&format!("/portal/orders/{number}?placed=1")))
}

async fn reorder_to_cart(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ReorderForm>,
) -> Result<Redirect, WebError> {
    let account_id = working(&ctx)?;
    let source = reorder_source(&f.source)?;
    carts::reorder_to_cart(&state.db, state.now(), &ctx.order_actor(), &account_id, source).await?;
    Ok(Redirect::to("/portal/cart"))
}

// ---- Acting for a customer ----

async fn act_for(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, WebError> {
    acting::act_for_account(&state.db, state.now(), &ctx.actor(), &ctx.session.id_hash, &id).await?;
    Ok(Redirect::to("/portal/catalog"))
}

async fn act_exit(State(state): State<AppState>, ctx: Ctx) -> Result<Redirect, WebError> {
    let back = acting::stop_acting(&state.db, state.now(), &ctx.actor(), &ctx.session.id_hash).await?;
    Ok(Redirect::to(&match back {
        Some(id) => format!("/accounts/{id}?notice=acting_ended"),
        None => "/".to_string(),
    }))
}

// ---- Amend, cancel, confirm (customer service and admins) ----

async fn amend(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, WebError> {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let version = get("version").parse::<i64>().map_err(|_| WebError::BadRequest("Missing order version.".into()))?;
    let mut lines = Vec::new();
    for (k, v) in &fields {
        if let Some(sku) = k.strip_prefix("qty_") {
            let qty = v
                .trim()
                .parse::<i64>()
                .map_err(|_| WebError::BadRequest(format!("{sku}: “{v}” is not a quantity.")))?;
            if qty > 0 {
                lines.push(LineInput::sku(sku, qty));
            }
        }
    }
    let added = parse_paste(&get("add_lines"));
    if let Some(e) = added.errors.first() {
        return Err(ServiceError::invalid("add_lines", format!("Added line {}: {}", e.line, e.reason)).into());
    }
    lines.extend(added.lines.iter().map(|l| LineInput::sku(&l.sku, l.quantity)));
    let a = Amendment {
        expected_version: version,
        lines,
        header: OrderHeader {
            ship_to_id: Some(get("ship_to_id")).filter(|s| !s.is_empty()),
            po_number: get("po_number"),
            requested_date: Some(get("requested_date")).filter(|s| !s.trim().is_empty()),
            notes: get("notes"),
        },
        reason: get("reason"),
    };
    let o = orders::amend_order(&state.db, state.now(), &ctx.actor(), &number, &a).await?;
    Ok(Redirect::to(&format!("/orders/{}?notice=amended", o.number)))
}

#[derive(Deserialize)]
struct StatusForm {
    version: i64,
    #[serde(default)]
    reason: String,
}

async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(f): Form<StatusForm>,
) -> Result<Redirect, WebError> {
    let o = orders::cancel_order(&state.db, state.now(), &ctx.actor(), &number, Some(f.version), &f.reason).await?;
    Ok(Redirect::to(&format!("/orders/{}?notice=cancelled", o.number)))
}

async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(f): Form<StatusForm>,
) -> Result<Redirect, WebError> {
    let o = orders::confirm_order(&state.db, state.now(), &ctx.actor(), &number, Some(f.version)).await?;
    Ok(Redirect::to(&format!("/orders/{}?notice=confirmed", o.number)))
}
