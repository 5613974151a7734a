//! The seller's dashboards over the API (`dashboards:read`, issue 18 §4): the figures behind each
//! dashboard page, for the whole seller or narrowed to one account or one rep's book. Money is
//! exact decimal strings; shares are percentages with one decimal (strings, empty when there is
//! nothing to share).

use super::input::reference;
use super::{ApiCaller, ApiError, ApiQuery};
use crate::app::AppState;
use crate::domain::auth::Scope;
use crate::domain::dashboards::Adoption;
use crate::service::Actor;
use crate::service::dashboards::{self as service, Filter, OwnedScope};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dashboards/channels", get(dashboard_channels))
        .route("/api/v1/dashboards/adoption", get(dashboard_adoption))
        .route("/api/v1/dashboards/reorders", get(dashboard_reorders))
        .route("/api/v1/dashboards/carts", get(dashboard_carts))
        .route("/api/v1/dashboards/products", get(dashboard_products))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardParams {
    /// Months back, this month included: 12 (default) or 24.
    #[param(minimum = 12, maximum = 24, multiple_of = 12)]
    months: Option<u32>,
    /// Only this account (id, number or external id).
    #[param(min_length = 1, max_length = 200, pattern = r"^[!-~]+$")]
    account: Option<String>,
    /// Only the accounts this rep owns (user id).
    #[param(min_length = 1, max_length = 100, pattern = r"^[!-~]+$")]
    rep: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopeParams {
    /// Only this account (id, number or external id).
    #[param(min_length = 1, max_length = 200, pattern = r"^[!-~]+$")]
    account: Option<String>,
    /// Only the accounts this rep owns (user id).
    #[param(min_length = 1, max_length = 100, pattern = r"^[!-~]+$")]
    rep: Option<String>,
}

fn checked(account: Option<&str>, rep: Option<&str>) -> Result<Filter, ApiError> {
    for (field, v, max) in [("account", account, 200), ("rep", rep, 100)] {
        if let Some(v) = v {
            reference(v)?;
            if v.is_empty() || v.len() > max || !v.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
                return Err(ApiError::invalid(field, format!("an id: 1 to {max} visible ASCII characters")));
            }
        }
    }
    Ok(Filter { account: account.map(str::to_string), rep: rep.map(str::to_string) })
}

fn checked_months(months: Option<u32>) -> Result<u32, ApiError> {
    match months {
        None => Ok(12),
        Some(m @ (12 | 24)) => Ok(m),
        Some(_) => Err(ApiError::invalid("months", "12 or 24")),
    }
}

#[derive(Serialize, ToSchema)]
pub struct DashboardScopeOut {
    /// `all`, `book` (a rep's accounts) or `account`.
    kind: String,
    /// The rep's user id or the account's id (absent for `all`).
    id: Option<String>,
    /// e.g. "All accounts", "Rita Rep’s book", "Smile Dental".
    label: String,
}

fn scope_out(s: &OwnedScope) -> DashboardScopeOut {
    let (kind, id) = match s {
        OwnedScope::All => ("all", None),
        OwnedScope::Book(id, _) => ("book", Some(id.clone())),
        OwnedScope::Account(id, _) => ("account", Some(id.clone())),
    };
    DashboardScopeOut { kind: kind.into(), id, label: s.label() }
}

#[derive(Serialize, ToSchema)]
pub struct ChannelFigureOut {
    /// portal, rep, phone, api, edi, punchout
    channel: String,
    orders: i64,
    /// Decimal string, exact (subtotals, net of tax).
    revenue: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelMonthOut {
    /// YYYY-MM (UTC)
    month: String,
    orders: i64,
    revenue: String,
    channels: Vec<ChannelFigureOut>,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelsDashboardOut {
    scope: DashboardScopeOut,
    months: u32,
    /// Oldest first; every month of the window, empty ones too.
    by_month: Vec<ChannelMonthOut>,
    total: ChannelMonthOut,
}

/// Orders and revenue by channel, month by month (orders count from submission until cancelled;
/// revenue is their subtotal, net of tax).
#[utoipa::path(get, path = "/channels", params(DashboardParams),
    responses((status = 200, body = ChannelsDashboardOut), (status = 404, description = "no such account or rep", body = super::Problem)),
    security(("bearer" = ["dashboards:read"])), tag = "dashboards")]
pub async fn dashboard_channels(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<DashboardParams>, ApiError>,
) -> Result<Json<ChannelsDashboardOut>, ApiError> {
    caller.require(Scope::DashboardsRead)?;
    let ApiQuery(p) = query?;
    let filter = checked(p.account.as_deref(), p.rep.as_deref())?;
    let months = checked_months(p.months)?;
    let v = service::channels(&state.db, state.now(), &Actor::api(&caller.0), &filter, months).await?;
    let month = |r: &service::MonthRow| ChannelMonthOut {
        month: r.month.clone(),
        orders: r.orders,
        revenue: r.revenue.to_plain(),
        channels: v
            .channels
            .iter()
            .zip(&r.cells)
            .map(|(c, (o, m))| ChannelFigureOut { channel: c.to_string(), orders: *o, revenue: m.to_plain() })
            .collect(),
    };
    Ok(Json(ChannelsDashboardOut {
        scope: scope_out(&v.scope),
        months: v.months,
        by_month: v.rows.iter().map(month).collect(),
        total: month(&v.total),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct AdoptionOut {
    orders: i64,
    self_service_orders: i64,
    /// Percent with one decimal ("42.5"); empty when there were no orders.
    order_share: String,
    revenue: String,
    self_service_revenue: String,
    revenue_share: String,
}

fn adoption_out(a: &Adoption) -> AdoptionOut {
    AdoptionOut {
        orders: a.orders,
        self_service_orders: a.self_orders,
        order_share: a.order_share().plain(),
        revenue: a.revenue.to_plain(),
        self_service_revenue: a.self_revenue.to_plain(),
        revenue_share: a.revenue_share().plain(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct AdoptionMonthOut {
    month: String,
    #[serde(flatten)]
    figures: AdoptionOut,
}

#[derive(Serialize, ToSchema)]
pub struct AdoptionRowOut {
    /// The account's id, or the rep's user id (empty: accounts without a rep).
    id: String,
    /// The account's number (empty for a rep).
    number: String,
    name: String,
    rep_name: String,
    #[serde(flatten)]
    figures: AdoptionOut,
}

#[derive(Serialize, ToSchema)]
pub struct AdoptionDashboardOut {
    scope: DashboardScopeOut,
    months: u32,
    total: AdoptionOut,
    trend: Vec<AdoptionMonthOut>,
    by_rep: Vec<AdoptionRowOut>,
    by_account: Vec<AdoptionRowOut>,
}

/// Self-service adoption: the share of orders and revenue the customers placed themselves (portal,
/// punchout), month by month, per rep (owner of the accounts now) and per account.
#[utoipa::path(get, path = "/adoption", params(DashboardParams),
    responses((status = 200, body = AdoptionDashboardOut), (status = 404, description = "no such account or rep", body = super::Problem)),
    security(("bearer" = ["dashboards:read"])), tag = "dashboards")]
pub async fn dashboard_adoption(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<DashboardParams>, ApiError>,
) -> Result<Json<AdoptionDashboardOut>, ApiError> {
    caller.require(Scope::DashboardsRead)?;
    let ApiQuery(p) = query?;
    let filter = checked(p.account.as_deref(), p.rep.as_deref())?;
    let months = checked_months(p.months)?;
    let v = service::adoption(&state.db, state.now(), &Actor::api(&caller.0), &filter, months).await?;
    let row = |r: &service::AdoptionLine| AdoptionRowOut {
        id: r.id.clone(),
        number: r.number.clone(),
        name: r.name.clone(),
        rep_name: r.rep_name.clone(),
        figures: adoption_out(&r.adoption),
    };
    Ok(Json(AdoptionDashboardOut {
        scope: scope_out(&v.scope),
        months: v.months,
        total: adoption_out(&v.total),
        trend: v
            .trend
            .iter()
            .map(|m| AdoptionMonthOut { month: m.month.clone(), figures: adoption_out(&m.adoption) })
            .collect(),
        by_rep: v.by_rep.iter().map(row).collect(),
        by_account: v.by_account.iter().map(row).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ReorderOut {
    account_id: String,
    number: String,
    name: String,
    rep_name: String,
    orders: i64,
    /// Unix seconds.
    last_order_at: i64,
    days_since_last: i64,
    /// Median gap between the account's last 13 orders, in days (absent under two orders).
    usual_interval_days: Option<i64>,
    /// Days since the last order as a multiple of the usual interval ("2.5").
    overdue_multiple: Option<String>,
    /// At least twice the usual interval and a week past it, with 3 orders or more.
    stopped_ordering: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ReordersDashboardOut {
    scope: DashboardScopeOut,
    /// Every account that has ordered, worst first.
    accounts: Vec<ReorderOut>,
}

/// Reorder rhythm: each account's usual interval between orders and its silence since the last one,
/// worst first; `stopped_ordering` flags the accounts that went quiet.
#[utoipa::path(get, path = "/reorders", params(ScopeParams),
    responses((status = 200, body = ReordersDashboardOut), (status = 404, description = "no such account or rep", body = super::Problem)),
    security(("bearer" = ["dashboards:read"])), tag = "dashboards")]
pub async fn dashboard_reorders(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<ScopeParams>, ApiError>,
) -> Result<Json<ReordersDashboardOut>, ApiError> {
    caller.require(Scope::DashboardsRead)?;
    let ApiQuery(p) = query?;
    let filter = checked(p.account.as_deref(), p.rep.as_deref())?;
    let (scope, lines) = service::rhythms(&state.db, state.now(), &Actor::api(&caller.0), &filter).await?;
    Ok(Json(ReordersDashboardOut {
        scope: scope_out(&scope),
        accounts: lines
            .into_iter()
            .map(|l| ReorderOut {
                overdue_multiple: l.overdue_tenths.map(|t| format!("{}.{}", t / 10, t % 10)),
                account_id: l.account_id,
                number: l.number,
                name: l.name,
                rep_name: l.rep_name,
                orders: l.rhythm.orders,
                last_order_at: l.rhythm.last_at,
                days_since_last: l.since_days,
                usual_interval_days: l.usual_days,
                stopped_ordering: l.stopped,
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct AbandonedCartOut {
    account_id: String,
    number: String,
    name: String,
    rep_name: String,
    user_id: String,
    user_name: String,
    lines: i64,
    /// At the account's prices now, decimal string; absent if it cannot be priced.
    value: Option<String>,
    /// Unix seconds of the last change to the cart.
    last_touched_at: i64,
    age_days: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CartsDashboardOut {
    scope: DashboardScopeOut,
    /// Carts untouched for a day or more (the 100 most recently abandoned), most valuable first.
    carts: Vec<AbandonedCartOut>,
}

/// Abandoned carts: carts nobody touched for a day or more, with their value and age.
#[utoipa::path(get, path = "/carts", params(ScopeParams),
    responses((status = 200, body = CartsDashboardOut), (status = 404, description = "no such account or rep", body = super::Problem)),
    security(("bearer" = ["dashboards:read"])), tag = "dashboards")]
pub async fn dashboard_carts(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<ScopeParams>, ApiError>,
) -> Result<Json<CartsDashboardOut>, ApiError> {
    caller.require(Scope::DashboardsRead)?;
    let ApiQuery(p) = query?;
    let filter = checked(p.account.as_deref(), p.rep.as_deref())?;
    let (scope, carts) = service::abandoned_carts(&state.db, state.now(), &Actor::api(&caller.0), &filter).await?;
    Ok(Json(CartsDashboardOut {
        scope: scope_out(&scope),
        carts: carts
            .into_iter()
            .map(|c| AbandonedCartOut {
                value: c.value.map(|v| v.to_plain()),
                account_id: c.account_id,
                number: c.number,
                name: c.name,
                rep_name: c.rep_name,
                user_id: c.user_id,
                user_name: c.user_name,
                lines: c.lines,
                last_touched_at: c.last_at,
                age_days: c.age_days,
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ProductSalesOut {
    /// Category path ("Dental / Gloves"), empty without one.
    category: String,
    sku: String,
    name: String,
    quantity: i64,
    revenue: String,
    orders: i64,
    accounts: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CategorySalesOut {
    /// Top-level category (empty: products without one).
    category: String,
    /// Revenue of its products among the top products.
    revenue: String,
    /// Its top five products.
    products: Vec<ProductSalesOut>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductsDashboardOut {
    scope: DashboardScopeOut,
    months: u32,
    /// The 200 best-selling products by revenue.
    top: Vec<ProductSalesOut>,
    by_category: Vec<CategorySalesOut>,
    /// Orders (of any account) with changes the worker has not counted here yet: these figures
    /// lag placement by up to about 15 seconds while a worker runs.
    uncounted: i64,
}

fn product_out(p: &service::ProductLine) -> ProductSalesOut {
    ProductSalesOut {
        category: p.category.clone(),
        sku: p.sku.clone(),
        name: p.name.clone(),
        quantity: p.quantity,
        revenue: p.revenue.to_plain(),
        orders: p.orders,
        accounts: p.accounts,
    }
}

/// Who buys what: the best-selling products by revenue over the window, and per category.
#[utoipa::path(get, path = "/products", params(DashboardParams),
    responses((status = 200, body = ProductsDashboardOut), (status = 404, description = "no such account or rep", body = super::Problem)),
    security(("bearer" = ["dashboards:read"])), tag = "dashboards")]
pub async fn dashboard_products(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<DashboardParams>, ApiError>,
) -> Result<Json<ProductsDashboardOut>, ApiError> {
    caller.require(Scope::DashboardsRead)?;
    let ApiQuery(p) = query?;
    let filter = checked(p.account.as_deref(), p.rep.as_deref())?;
    let months = checked_months(p.months)?;
    let v = service::products(&state.db, state.now(), &Actor::api(&caller.0), &filter, months).await?;
    Ok(Json(ProductsDashboardOut {
        scope: scope_out(&v.scope),
        months: v.months,
        uncounted: v.uncounted,
        top: v.top.iter().map(product_out).collect(),
        by_category: v
            .by_category
            .iter()
            .map(|(c, revenue, list)| CategorySalesOut {
                category: c.clone(),
                revenue: revenue.to_plain(),
                products: list.iter().map(product_out).collect(),
            })
            .collect(),
    }))
}

/// The dashboards part of the OpenAPI document, nested under `/api/v1/dashboards`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(dashboard_channels, dashboard_adoption, dashboard_reorders, dashboard_carts, dashboard_products),
    components(schemas(
        DashboardScopeOut,
        ChannelFigureOut,
        ChannelMonthOut,
        ChannelsDashboardOut,
        AdoptionOut,
        AdoptionMonthOut,
        AdoptionRowOut,
        AdoptionDashboardOut,
        ReorderOut,
        ReordersDashboardOut,
        AbandonedCartOut,
        CartsDashboardOut,
        ProductSalesOut,
        CategorySalesOut,
        ProductsDashboardOut
    ))
)]
pub struct DashboardsApi;
