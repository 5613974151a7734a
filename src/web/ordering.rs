//! Before placement: cart, quick order (paste, CSV upload, SKU entry with type-ahead), saved lists
//! and buy again. The same pages serve a buyer and staff acting for the buyer's account.

use super::AppState;
use super::error::WebError;
use super::session::Ctx;
use super::shell::{Shell, date, home_for};
use crate::domain::auth::Permission;
use crate::domain::catalog::Sku;
use crate::domain::credit::OverLimit;
use crate::domain::money::Money;
use crate::service::carts::ListRow;
use crate::service::carts::{self, BoughtBefore, ListSource, ListView, PasteCheck, PasteProblem};
use crate::service::orders::{Evaluation, LineInput};
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, extract::DefaultBodyLimit};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/cart", get(cart_page))
        .route("/portal/cart/add", post(cart_add))
        .route("/portal/cart/set", post(cart_set))
        .route("/portal/cart/save-list", post(cart_save_list))
        .route("/portal/quick-order", get(quick_order_page).post(quick_order_paste))
        .route("/portal/quick-order/check", post(quick_order_check))
        .route("/portal/quick-order/upload", post(quick_order_upload).layer(DefaultBodyLimit::max(2 * 1024 * 1024)))
        .route("/portal/sku-suggest", get(sku_suggest))
        .route("/portal/lists", get(lists_page).post(list_create))
        .route("/portal/lists/{id}", get(list_page).post(list_update))
        .route("/portal/lists/{id}/items", post(list_item))
        .route("/portal/lists/{id}/to-cart", post(list_to_cart))
        .route("/portal/lists/{id}/delete", post(list_delete))
        .route("/portal/buy-again", get(buy_again_page))
}

/// The account these pages work on: a buyer's own, or the account staff act for. Staff who are not
/// acting for anyone are sent to pick an account first.
pub fn working(ctx: &Ctx) -> Result<String, WebError> {
    match ctx.working_account() {
        Some(id) => Ok(id.to_string()),
        None if ctx.session.principal.is_staff() => {
            Err(WebError::Redirect(format!("{}?notice=choose_account", home_for(&ctx.session.principal))))
        }
        None => Err(WebError::Forbidden),
    }
}

pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

pub fn can_order(ctx: &Ctx) -> bool {
    let p = &ctx.session.principal;
    p.can(Permission::PortalOrder) || (ctx.session.acting_account_id.is_some() && p.can(Permission::OrderForCustomers))
}

/// What placing this order does to the account's available credit.
pub(crate) struct CreditEffect {
    pub available: Money,
    pub after: Money,
    /// By how much the order goes past the limit (zero when it fits).
    pub over_by: Money,
    /// The account refuses orders past the limit (else they are held for finance).
    pub refused: bool,
}

impl CreditEffect {
    fn of(position: &crate::service::accounts::CreditPosition, order: Money, tell: bool) -> Option<CreditEffect> {
        let available = position.available()?;
        let with = position.exposure.total().checked_add(order)?;
        let over_by = Money::from_raw((with.raw() - position.limit.raw()).max(0));
        let after = Money::from_raw((position.limit.raw() - with.raw()).max(0));
        Some(CreditEffect { available, after, over_by, refused: tell && !over_by.is_zero() })
    }
    pub fn over(&self) -> bool {
        !self.over_by.is_zero()
    }
}

/// The effect of an order (or cart) of `value` on the working account's credit, for pages that
/// show it before placing; `None` when the account has no limit.
pub(crate) async fn credit_effect(
    state: &AppState,
    ctx: &Ctx,
    account_id: &str,
    value: Money,
) -> Result<Option<CreditEffect>, WebError> {
    let position = crate::service::accounts::credit_position(&state.db, &ctx.actor(), account_id).await?;
    Ok(CreditEffect::of(&position, value, position.over_limit == OverLimit::Tell))
}

// ---- Cart ----

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    shell: Shell,
    eval: Evaluation,
    subtotal: String,
    csrf: String,
    credit: Option<CreditEffect>,
}

#[derive(Template)]
#[template(path = "_cart.html")]
struct CartPartial {
    eval: Evaluation,
    subtotal: String,
    csrf: String,
    credit: Option<CreditEffect>,
}

fn subtotal(eval: &Evaluation) -> String {
    eval.subtotal().map(|m| m.format()).unwrap_or_default()
}

async fn cart_page(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    let account = working(&ctx)?;
    let eval = carts::cart(&state.db, state.now(), &ctx.order_actor(), &account).await?;
    let credit = credit_effect(&state, &ctx, &account, eval.subtotal().unwrap_or_default()).await?;
    let page =
        CartPage { shell: Shell::new(&ctx, "Cart"), subtotal: subtotal(&eval), eval, csrf: ctx.csrf.clone(), credit };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
struct AddForm {
    sku: String,
    #[serde(default)]
    quantity: String,
}

#[derive(Template)]
#[template(path = "_added.html")]
struct Added {
    ok: Option<String>,
    problems: Vec<String>,
    count: usize,
}

/// Adds one product (catalog, product page, buy again, SKU entry row). With htmx the answer is a
/// small status fragment; without it, the cart page.
async fn cart_add(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(f): Form<AddForm>,
) -> Result<Response, WebError> {
    let account = working(&ctx)?;
    let qty = f.quantity.trim().parse::<i64>().unwrap_or(if f.quantity.trim().is_empty() { 1 } else { 0 });
    let (eval, count) =
        carts::add_to_cart(&state.db, state.now(), &ctx.order_actor(), &account, &[LineInput::sku(&f.sku, qty)])
            .await?;
    if !is_htmx(&headers) {
        return Ok(Redirect::to("/portal/cart").into_response());
    }
    let ok = eval.lines.first().map(|l| format!("Added {} × {}", l.quantity, l.product.sku));
    let problems = eval.issues.iter().map(|i| i.message.clone()).collect();
    Ok(Html(Added { ok, problems, count }.render()?).into_response())
}

#[derive(Deserialize)]
struct SetForm {
    sku: String,
    quantity: String,
}

/// Changes a cart line's quantity (0 or "remove" drops it); answers with the re-priced cart.
async fn cart_set(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(f): Form<SetForm>,
) -> Result<Response, WebError> {
    let account = working(&ctx)?;
    let actor = ctx.order_actor();
    let qty = f.quantity.trim().parse::<i64>().map_err(|_| WebError::BadRequest("Enter a whole number.".into()))?;
    let result = carts::set_cart_quantity(&state.db, state.now(), &actor, &account, &f.sku, qty).await;
    if !is_htmx(&headers) {
        result?;
        return Ok(Redirect::to("/portal/cart").into_response());
    }
    // A rule message keeps the cart as it was and says why, next to the line.
    let (eval, message) = match result {
        Ok(e) => (e, None),
        Err(crate::service::ServiceError::Invalid(errs)) => {
            (carts::cart(&state.db, state.now(), &actor, &account).await?, errs.first().map(|e| e.message.clone()))
        }
        Err(e) => return Err(e.into()),
    };
    let credit = credit_effect(&state, &ctx, &account, eval.subtotal().unwrap_or_default()).await?;
    let mut partial = CartPartial { subtotal: subtotal(&eval), eval, csrf: ctx.csrf.clone(), credit };
    if let Some(m) = message {
        partial.eval.issues.insert(0, crate::domain::orders::LineIssue::new(0, &f.sku, "quantity", m));
    }
    Ok(Html(partial.render()?).into_response())
}

#[derive(Deserialize)]
struct SaveListForm {
    name: String,
    #[serde(default)]
    shared: Option<String>,
}

async fn cart_save_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<SaveListForm>,
) -> Result<Redirect, WebError> {
    let account = working(&ctx)?;
    let id = carts::create_list(
        &state.db,
        state.now(),
        &ctx.order_actor(),
        &account,
        &f.name,
        f.shared.is_some(),
        ListSource::Cart,
    )
    .await?;
    Ok(Redirect::to(&format!("/portal/lists/{id}?notice=list_saved")))
}

// ---- Quick order ----

#[derive(Template)]
#[template(path = "quick_order.html")]
struct QuickOrderPage {
    shell: Shell,
    text: String,
    added: Vec<(String, i64)>,
    problems: Vec<PasteProblem>,
    cart_count: usize,
    sent: bool,
    /// The box checked without adding anything (as it is pasted or typed, or by "Check lines").
    check: Option<PasteCheck>,
    /// Where the focus starts: the empty box on arrival, "Add all and check out" once a one-click
    /// fix leaves nothing to fix (so the next step is one key or click away).
    focus: QuickOrderFocus,
}

#[derive(PartialEq, Eq)]
enum QuickOrderFocus {
    None,
    Box,
    Checkout,
}

impl QuickOrderPage {
    fn new(ctx: &Ctx, text: String, cart_count: usize) -> QuickOrderPage {
        QuickOrderPage {
            shell: Shell::new(ctx, "Quick order"),
            text,
            added: Vec::new(),
            problems: Vec::new(),
            cart_count,
            sent: false,
            check: None,
            focus: QuickOrderFocus::None,
        }
    }
}

async fn quick_order_page(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    let account = working(&ctx)?;
    if !can_order(&ctx) {
        return Err(WebError::Forbidden);
    }
    let cart_count = carts::cart_count(&state.db, &ctx.order_actor(), &account).await?;
    let mut page = QuickOrderPage::new(&ctx, String::new(), cart_count);
    page.focus = QuickOrderFocus::Box;
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
struct PasteForm {
    #[serde(default)]
    lines: String,
    /// `checkout` ("Add all and check out"): once every line is added, straight to checkout.
    #[serde(default)]
    then: String,
    /// A "did you mean" taken: `<line> <SKU>` puts that SKU on that line (and its repeats).
    #[serde(default)]
    fix: String,
}

async fn quick_order_result(state: &AppState, ctx: &Ctx, text: &str) -> Result<QuickOrderPage, WebError> {
    let account = working(ctx)?;
    let r = carts::quick_order(&state.db, state.now(), &ctx.order_actor(), &account, text).await?;
    let mut page = QuickOrderPage::new(ctx, r.remaining, r.cart_count);
    page.added = r.added;
    page.problems = r.problems;
    page.sent = true;
    Ok(page)
}

/// Adds the pasted lines to the cart. With "Add all and check out" and every line added, the
/// buyer goes straight to checkout; otherwise the page says what was added and what needs fixing.
async fn quick_order_paste(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<PasteForm>,
) -> Result<Response, WebError> {
    let page = quick_order_result(&state, &ctx, &f.lines).await?;
    if f.then == "checkout" && page.problems.is_empty() && !page.added.is_empty() {
        return Ok(Redirect::to("/portal/checkout").into_response());
    }
    Ok(Html(page.render()?).into_response())
}

/// Checks the box without adding anything, after applying a "did you mean" fix when one was
/// clicked. Answers the whole page: htmx picks the parts it swaps (the summary and the fixes as the
/// box is typed in; the whole form after a fix); without JavaScript it is the page.
async fn quick_order_check(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<PasteForm>,
) -> Result<Html<String>, WebError> {
    let account = working(&ctx)?;
    let mut text = f.lines;
    let mut fixed = false;
    if let Some((line, sku)) = f.fix.trim().split_once(' ') {
        let line =
            line.parse::<usize>().map_err(|_| WebError::BadRequest("The line to fix is not a number.".into()))?;
        let sku = Sku::parse(sku).map_err(WebError::BadRequest)?;
        // A line that no longer holds a SKU (the box changed meanwhile) is left as it is; the
        // check below shows the box as it is.
        if let Some(t) = crate::domain::orders::replace_pasted_sku(&text, line, &sku) {
            text = t;
            fixed = true;
        }
    }
    let check = carts::check_paste(&state.db, state.now(), &ctx.order_actor(), &account, &text).await?;
    let mut page = QuickOrderPage::new(&ctx, text, check.cart_count);
    if fixed && check.problems.is_empty() {
        page.focus = QuickOrderFocus::Checkout;
    }
    page.check = Some(check);
    Ok(Html(page.render()?))
}

/// CSV upload: the file is read with the same rules as a paste (SKU and quantity columns; a header
/// row is recognised and skipped).
async fn quick_order_upload(
    State(state): State<AppState>,
    ctx: Ctx,
    mut form: Multipart,
) -> Result<Html<String>, WebError> {
    let mut text = String::new();
    let too_large = || "The file is larger than 2 MB; a quick order file holds SKUs and quantities only.".to_string();
    while let Some(field) = form.next_field().await.map_err(|e| super::error::multipart_error(e, too_large))? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(|e| super::error::multipart_error(e, too_large))?;
            text = String::from_utf8(bytes.to_vec())
                .map_err(|_| WebError::BadRequest("The file is not UTF-8 text (save it as CSV UTF-8).".into()))?;
        }
    }
    Ok(Html(quick_order_result(&state, &ctx, &text).await?.render()?))
}

#[derive(Deserialize)]
struct SuggestQuery {
    #[serde(default)]
    sku: String,
}

#[derive(Template)]
#[template(path = "_sku_options.html")]
struct SkuOptions {
    options: Vec<(String, String)>,
}

async fn sku_suggest(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SuggestQuery>,
) -> Result<Html<String>, WebError> {
    let account = working(&ctx)?;
    let options = carts::sku_suggestions(&state.db, &ctx.order_actor(), &account, &q.sku).await?;
    Ok(Html(SkuOptions { options }.render()?))
}

// ---- Saved lists ----

#[derive(Template)]
#[template(path = "lists.html")]
struct ListsPage {
    shell: Shell,
    lists: Vec<ListRow>,
    can_order: bool,
    user_id: String,
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

async fn lists_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(n): Query<NoticeQuery>,
) -> Result<Html<String>, WebError> {
    let account = working(&ctx)?;
    let lists = carts::lists(&state.db, &ctx.order_actor(), &account).await?;
    let page = ListsPage {
        shell: Shell::new(&ctx, "Saved lists").with_notice(n.notice.as_deref()),
        lists,
        can_order: can_order(&ctx),
        user_id: ctx.session.principal.user_id.clone(),
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
struct CreateListForm {
    name: String,
    #[serde(default)]
    shared: Option<String>,
    /// `empty`, `cart` or `order:<number>`.
    #[serde(default)]
    from: String,
}

async fn list_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CreateListForm>,
) -> Result<Redirect, WebError> {
    let account = working(&ctx)?;
    let from = match f.from.as_str() {
        "cart" => ListSource::Cart,
        s if s.starts_with("order:") => ListSource::Order(&s[6..]),
        _ => ListSource::Empty,
    };
    let id =
        carts::create_list(&state.db, state.now(), &ctx.order_actor(), &account, &f.name, f.shared.is_some(), from)
            .await?;
    Ok(Redirect::to(&format!("/portal/lists/{id}?notice=list_saved")))
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    shell: Shell,
    v: ListView,
    can_order: bool,
    updated: String,
}

async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(n): Query<NoticeQuery>,
) -> Result<Html<String>, WebError> {
    let account = working(&ctx)?;
    let v = carts::list_view(&state.db, state.now(), &ctx.order_actor(), &account, &id).await?;
    let page = ListPage {
        shell: Shell::new(&ctx, v.list.name.clone()).with_notice(n.notice.as_deref()),
        updated: date(v.list.updated_at),
        can_order: can_order(&ctx),
        v,
    };
    Ok(Html(page.render()?))
}

async fn list_update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<SaveListForm>,
) -> Result<Redirect, WebError> {
    let account = working(&ctx)?;
    carts::update_list(&state.db, state.now(), &ctx.order_actor(), &account, &id, &f.name, f.shared.is_some()).await?;
    Ok(Redirect::to(&format!("/portal/lists/{id}?notice=list_saved")))
}

#[derive(Deserialize)]
struct ListItemForm {
    sku: String,
    quantity: String,
    /// Present: set the quantity (0 removes); absent: add to what is there.
    #[serde(default)]
    set: Option<String>,
}

async fn list_item(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ListItemForm>,
) -> Result<Response, WebError> {
    let account = working(&ctx)?;
    let qty = f.quantity.trim().parse::<i64>().map_err(|_| WebError::BadRequest("Enter a whole number.".into()))?;
    carts::put_list_item(&state.db, state.now(), &ctx.order_actor(), &account, &id, &f.sku, qty, f.set.is_some())
        .await?;
    if is_htmx(&headers) && f.set.is_none() {
        let ok = Some(format!("Added {qty} × {} to the list", Sku::normalize(&f.sku)));
        return Ok(Html(Added { ok, problems: Vec::new(), count: 0 }.render()?).into_response());
    }
    Ok(Redirect::to(&format!("/portal/lists/{id}")).into_response())
}

async fn list_to_cart(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, WebError> {
    let account = working(&ctx)?;
    carts::add_list_to_cart(&state.db, state.now(), &ctx.order_actor(), &account, &id).await?;
    Ok(Redirect::to("/portal/cart"))
}

async fn list_delete(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, WebError> {
    let account = working(&ctx)?;
    carts::delete_list(&state.db, state.now(), &ctx.order_actor(), &account, &id).await?;
    Ok(Redirect::to("/portal/lists?notice=list_deleted"))
}

// ---- Buy again ----

#[derive(Template)]
#[template(path = "buy_again.html")]
struct BuyAgainPage {
    shell: Shell,
    items: Vec<BoughtBefore>,
    can_order: bool,
}

async fn buy_again_page(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    let account = working(&ctx)?;
    let items = carts::buy_again(&state.db, state.now(), &ctx.order_actor(), &account).await?;
    let page = BuyAgainPage { shell: Shell::new(&ctx, "Buy again"), items, can_order: can_order(&ctx) };
    Ok(Html(page.render()?))
}
