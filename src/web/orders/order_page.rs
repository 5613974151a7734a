//! One order's page: lines, events, revisions, and (for staff who manage orders) the amendment form.

use super::{OrderItem, Side};
use crate::domain::auth::Permission;
use crate::domain::orders::{Channel, OrderDiff, OrderStatus};
use crate::service::accounts::{self as account_service, ShipToRow};
use crate::service::orders::{self, OrderView};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::ordering::{can_order, working};
use crate::web::session::Ctx;
use crate::web::shell::{Shell, datetime};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/portal/orders/{number}", get(portal_order)).route("/orders/{number}", get(staff_order))
}

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
    /// Shipments can be recorded now (staff who manage orders; confirmed or partly shipped).
    can_ship: bool,
    /// Lines can still change (nothing has shipped).
    amendable: bool,
    /// Finance may release or reject this order (held for credit).
    can_decide_credit: bool,
    /// Staff who order for customers may complete or send back an order routed to the rep.
    can_complete: bool,
    warehouses: Vec<orders::WarehouseRow>,
    carriers: [&'static str; 4],
    today: String,
    /// The order's invoices, for those who may read billing.
    invoices: Vec<crate::web::invoices::InvoiceItem>,
    invoices_base: &'static str,
    /// The approvals the order needed or needs (and, for an approver, what approving does now).
    approval: Option<orders::ApprovalView>,
    /// A refused staff form of this page (`ship`, `amend` or `cancel`) and its fields as typed.
    refused: Refused,
}

/// A refused form of the order page: what was typed (the form's fields, raw) and why.
#[derive(Default)]
pub(super) struct Refused {
    pub fields: Vec<(String, String)>,
    pub refusal: crate::web::form::Refusal,
}

impl OrderPage {
    /// A field of `form` as typed when that form was refused, else `stored`.
    fn typed(&self, form: &str, name: &str, stored: &str) -> String {
        if self.refused.refusal.is(form) {
            self.refused.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
        } else {
            stored.to_string()
        }
    }

    /// The reasons a form was refused for its input (shown above it: every one, whichever field
    /// it names). A conflict — the order changed meanwhile, perhaps so that the form is no longer
    /// shown — is said at the top of the page instead.
    fn reasons(&self, form: &str) -> Vec<&str> {
        if self.refused.refusal.conflict { Vec::new() } else { self.refused.refusal.messages_of(form) }
    }

    /// ` aria-invalid="true"` material: whether a field of `form` was named by the refusal.
    fn invalid(&self, form: &str, name: &str) -> bool {
        !self.refused.refusal.field_of(form, name).is_empty()
    }
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
    side: Side,
    q: DetailQuery,
    refused: Refused,
) -> Result<Response, WebError> {
    let actor = ctx.order_actor();
    let v = orders::order_view(&state.db, &actor, number).await?;
    if side == Side::Portal && Some(v.order.account_id.as_str()) != ctx.working_account() {
        return Err(WebError::NotFound);
    }
    let p = &ctx.session.principal;
    let can_manage = p.is_staff() && p.can(Permission::ManageOrders);
    let status = v.order.status();
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
    let invoices = crate::service::invoices::order_invoices(&state.db, &ctx.actor(), &v.order)
        .await?
        .iter()
        .map(crate::web::invoices::InvoiceItem::from)
        .collect();
    let can_ship = can_manage && matches!(status, OrderStatus::Confirmed | OrderStatus::PartiallyShipped);
    let warehouses = if can_ship { orders::warehouses(&state.db).await? } else { Vec::new() };
    let ship_tos = if can_manage {
        account_service::ship_tos(&state.db, &ctx.actor(), &v.order.account_id).await?
    } else {
        Vec::new()
    };
    let approval = orders::approval_view(&state.db, state.now(), &ctx.actor(), &v.order).await?;
    let page = OrderPage {
        approval,
        shell: Shell::new(ctx, format!("Order {}", v.order.number)).with_notice(q.notice.as_deref()),
        base: side.base(),
        item: OrderItem::from(&v.order),
        placed_at: datetime(v.order.placed_at),
        events,
        revisions,
        can_order: can_order(ctx) && ctx.working_account() == Some(v.order.account_id.as_str()),
        can_manage,
        is_open: status.is_open(),
        just_placed: q.placed.is_some(),
        ship_tos,
        can_ship,
        amendable: v.lines.iter().all(|l| l.shipped_qty == 0),
        can_decide_credit: p.is_staff() && p.can(Permission::ManageCredit) && status == OrderStatus::OnHold,
        can_complete: p.is_staff() && p.can(Permission::OrderForCustomers) && status == OrderStatus::Escalated,
        warehouses,
        carriers: crate::domain::fulfilment::KNOWN_CARRIERS,
        today: crate::service::catalog::today(state.now()).to_string(),
        invoices,
        invoices_base: if side == Side::Portal { "/portal/invoices" } else { "/invoices" },
        v,
        refused,
    };
    Ok((page.refused.refusal.status(), Html(page.render()?)).into_response())
}

/// The staff order page again with a refused form (422, or 409 when the order changed meanwhile).
pub(super) async fn render_refused(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    refused: Refused,
) -> Result<Response, WebError> {
    render_order(state, ctx, number, Side::Staff, DetailQuery::default(), refused).await
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
) -> Result<Response, WebError> {
    working(&ctx)?;
    render_order(&state, &ctx, &number, Side::Portal, q, Refused::default()).await
}

async fn staff_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, WebError> {
    if !ctx.session.principal.is_staff() {
        return Err(WebError::NotFound);
    }
    render_order(&state, &ctx, &number, Side::Staff, q, Refused::default()).await
}
