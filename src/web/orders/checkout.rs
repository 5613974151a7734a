//! Checkout: the cart reviewed with delivery details, then placed through the pipeline.

use super::place_once::place_once;
use crate::domain::pricing::format_iso_date;
use crate::service::ServiceError;
use crate::service::accounts::{self as account_service, ShipToRow};
use crate::service::auth::random_token;
use crate::service::carts;
use crate::service::orders::{self, Evaluation, LineInput, OrderHeader, PlaceOrder};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::ordering::{CreditEffect, credit_effect, working};
use crate::web::session::Ctx;
use crate::web::shell::Shell;
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, Redirect};
use axum::routing::get;
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/portal/checkout", get(checkout_page).post(checkout_place))
}

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
    /// The order's effect on available credit (`None` when the account has no limit).
    credit: Option<CreditEffect>,
    /// Lines whose quantity is far beyond stock: (SKU, quantity, available, backordered).
    far: Vec<(String, i64, i64, i64)>,
    /// Why the order would wait for approval (empty: it is placed at once).
    approval: Vec<String>,
}

/// The lines checkout asks the buyer to confirm (see `StockOutlook::far_beyond_stock`).
fn far_beyond_stock(eval: &Evaluation) -> Vec<(String, i64, i64, i64)> {
    eval.lines
        .iter()
        .filter(|l| l.outlook.far_beyond_stock())
        .map(|l| (l.product.sku.clone(), l.quantity, l.outlook.available, l.outlook.backordered))
        .collect()
}

async fn checkout_page(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    let account_id = working(&ctx)?;
    let actor = ctx.order_actor();
    let eval = carts::cart(&state.db, state.now(), &actor, &account_id).await?;
    if eval.lines.is_empty() && eval.issues.is_empty() {
        return Err(WebError::Redirect("/portal/cart".into()));
    }
    let account = account_service::get_account(&state.db, &ctx.actor(), &account_id).await?;
    let total = eval.subtotal().unwrap_or_default();
    let credit = credit_effect(&state, &ctx, &account.id, total).await?;
    let approval =
        crate::service::approvals::would_need(&state.db, state.now(), &actor, &account.id, &eval.lines, total)
            .await?
            .into_iter()
            .map(|s| s.reason)
            .collect();
    let page = CheckoutPage {
        approval,
        far: far_beyond_stock(&eval),
        credit,
        shell: Shell::new(&ctx, "Checkout"),
        subtotal: eval.subtotal().map(|m| m.format()).unwrap_or_default(),
        eval,
        ship_tos: account_service::ship_tos(&state.db, &ctx.actor(), &account_id).await?,
        po_required: account.po_required,
        terms: account.terms_label(),
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
    /// The buyer confirmed quantities far beyond stock.
    #[serde(default)]
    confirm_quantities: Option<String>,
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
    let confirmed = f.confirm_quantities.is_some();
    let number = place_once(&state, &ctx, &f.form_token, |key| {
        let state = state.clone();
        let header = f.header();
        let account_id = account_id.clone();
        async move {
            let cart = carts::cart(&state.db, now, &actor, &account_id).await?;
            if !cart.issues.is_empty() {
                return Err(ServiceError::Blocked(cart.issues));
            }
            if let Some((sku, qty, available, _)) = far_beyond_stock(&cart).into_iter().next()
                && !confirmed
            {
                return Err(ServiceError::invalid(
                    "confirm_quantities",
                    format!("{sku}: you ordered {qty} and {available} are in stock. Confirm the quantity at checkout, or change it in the cart."),
                ));
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
