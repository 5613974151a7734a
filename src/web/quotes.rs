//! Quotes on the web (issue 14 §2). Buyers: request a quote from the cart, read it, accept some or
//! all lines (an order, placed once per form), decline, write to the seller. Seller staff: write a
//! quote for an account, price it against the normal price and cost, send it, revise it; sales
//! managers sign off the discounts past the threshold from their queue; admins set the policy.
//! The same pages serve both sides (`/portal/quotes` and `/quotes`); what each side sees and may
//! do comes from the service.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::orders::place_once;
use super::session::Ctx;
use super::shell::{Shell, datetime};
use crate::domain::auth::Permission;
use crate::domain::money::Money;
use crate::domain::orders::parse_paste;
use crate::domain::quotes::{QuoteStatus, percent};
use crate::service::ServiceError;
use crate::service::accounts::ShipToRow;
use crate::service::auth::random_token;
use crate::service::idempotency::{IdemKey, Keyed};
use crate::service::orders::{OrderHeader, ProductRef};
use crate::service::quotes::QuoteRow;
use crate::service::quotes::{self as service, NewQuote, QuoteLineInput, QuoteView};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    let mut r = Router::new()
        .route("/admin/quotes", get(policy_page).post(set_policy))
        .route("/quotes/signoff", get(signoff_queue));
    for base in ["/portal/quotes", "/quotes"] {
        r = r
            .route(base, get(list).post(create))
            .route(&format!("{base}/new"), get(new_page))
            .route(&format!("{base}/{{number}}"), get(page))
            .route(&format!("{base}/{{number}}/price"), post(price))
            .route(&format!("{base}/{{number}}/send"), post(send))
            .route(&format!("{base}/{{number}}/signoff"), post(sign_off))
            .route(&format!("{base}/{{number}}/revise"), post(revise))
            .route(&format!("{base}/{{number}}/withdraw"), post(withdraw))
            .route(&format!("{base}/{{number}}/decline"), post(decline))
            .route(&format!("{base}/{{number}}/accept"), post(accept))
            .route(&format!("{base}/{{number}}/messages"), post(message));
    }
    r
}

/// Where the viewer's quote pages live.
fn base(ctx: &Ctx) -> &'static str {
    if ctx.session.principal.buyer_account().is_some() { "/portal/quotes" } else { "/quotes" }
}

// ---------------------------------------------------------------------------------------------
// Lists

#[derive(Template)]
#[template(path = "quotes.html")]
struct ListPage {
    shell: Shell,
    base: &'static str,
    staff: bool,
    rows: Vec<Row>,
    tabs: Vec<(String, &'static str, bool)>,
    next_page: Option<String>,
    can_create: bool,
    /// Admins set the quoting policy (sign-off threshold, validity).
    can_set_policy: bool,
    title: &'static str,
}

struct Row {
    number: String,
    account_id: String,
    account_name: String,
    status: String,
    status_label: &'static str,
    updated: String,
    expires: String,
    total: Money,
    by: String,
}

fn rows(quotes: Vec<(QuoteRow, QuoteStatus)>, staff: bool) -> Vec<Row> {
    quotes
        .into_iter()
        .map(|(q, s)| Row {
            status: s.as_str().into(),
            status_label: if staff { s.label() } else { s.buyer_label() },
            updated: datetime(q.updated_at),
            expires: q
                .expires_on
                .as_deref()
                .and_then(crate::domain::pricing::parse_iso_date)
                .map(crate::domain::pricing::format_date)
                .unwrap_or_default(),
            total: q.total(),
            by: q.requested_by_name,
            number: q.number,
            account_id: q.account_id,
            account_name: q.account_name,
        })
        .collect()
}

/// The list tabs: (query value, label); the first is "open".
const TABS: [(&str, &str); 5] = [
    ("", "Open"),
    ("requested", "To price"),
    ("awaiting_signoff", "Awaiting sign-off"),
    ("sent", "With the customer"),
    ("closed", "Closed"),
];

fn statuses_for(tab: &str) -> Vec<QuoteStatus> {
    use QuoteStatus::*;
    match tab {
        "requested" => vec![Requested, Draft],
        "awaiting_signoff" => vec![AwaitingSignoff],
        "sent" => vec![Sent],
        "closed" => vec![Accepted, Declined, Expired, Withdrawn],
        _ => vec![Requested, Draft, AwaitingSignoff, Sent],
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    notice: Option<String>,
}

async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Html<String>, WebError> {
    let staff = ctx.session.principal.is_staff();
    let before = q.after.split_once('.').and_then(|(at, id)| at.parse::<i64>().ok().map(|at| (at, id.to_string())));
    let account = Some(q.account.as_str()).filter(|a| !a.is_empty());
    let list = service::list_quotes(
        &state.db,
        state.now(),
        &ctx.actor(),
        account,
        &statuses_for(&q.status),
        service::QuotePage::NewestFirst(before),
        50,
    )
    .await?;
    let base = base(&ctx);
    let account_q = if q.account.is_empty() {
        String::new()
    } else {
        format!("&account={}", q.account.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>())
    };
    let page = ListPage {
        shell: Shell::new(&ctx, "Quotes").with_notice(q.notice.as_deref()),
        base,
        staff,
        rows: rows(list.quotes, staff),
        tabs: TABS
            .iter()
            .filter(|(k, _)| staff || (*k != "awaiting_signoff" && *k != "requested"))
            .map(|(k, label)| (format!("{base}?status={k}{account_q}"), *label, *k == q.status))
            .collect(),
        next_page: list.next.map(|(at, id)| format!("status={}{account_q}&after={at}.{id}", q.status)),
        can_create: ctx.session.principal.can(if staff {
            Permission::OrderForCustomers
        } else {
            Permission::PortalOrder
        }),
        can_set_policy: ctx.session.principal.can(Permission::AdminArea),
        title: "Quotes",
    };
    Ok(Html(page.render()?))
}

async fn signoff_queue(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    let waiting = service::awaiting_signoff(&state.db, state.now(), &ctx.actor()).await?;
    let page = ListPage {
        shell: Shell::new(&ctx, "Quotes to sign off"),
        base: "/quotes",
        staff: true,
        rows: rows(waiting.into_iter().map(|q| (q, QuoteStatus::AwaitingSignoff)).collect(), true),
        tabs: Vec::new(),
        next_page: None,
        can_create: false,
        can_set_policy: ctx.session.principal.can(Permission::AdminArea),
        title: "Quotes to sign off",
    };
    Ok(Html(page.render()?))
}

// ---------------------------------------------------------------------------------------------
// A new quote (a buyer's request from the cart; a seller's quote for an account)

#[derive(Template)]
#[template(path = "quote_new.html")]
struct NewPage {
    shell: Shell,
    base: &'static str,
    staff: bool,
    /// Buyer: the cart's lines (SKU, name, quantity, normal price).
    cart: Vec<(String, String, i64, Money)>,
    accounts: Vec<(String, String)>,
    form: NewForm,
    error: Option<String>,
    /// The form's one-time token: a double submit creates one quote.
    token: String,
}

#[derive(Deserialize, Default, Clone)]
struct NewForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    lines: String,
    #[serde(default)]
    notes: String,
}

async fn render_new(state: &AppState, ctx: &Ctx, form: NewForm, error: Option<String>) -> Result<Response, WebError> {
    let staff = ctx.session.principal.is_staff();
    let actor = ctx.actor();
    let mut cart = Vec::new();
    let mut accounts = Vec::new();
    if let Some(own) = ctx.session.principal.buyer_account() {
        let eval = crate::service::carts::cart(&state.db, state.now(), &actor, own).await?;
        cart = eval
            .rows()
            .iter()
            .map(|l| (l.product.sku.clone(), l.product.name.clone(), l.quantity, l.price.unit_price))
            .collect();
    } else {
        let book = !ctx.session.principal.can(Permission::ViewAllAccounts);
        accounts = crate::service::accounts::search_accounts(&state.db, &actor, book, "", None, 500)
            .await?
            .into_iter()
            .map(|a| (a.id, format!("{} — {}", a.name, a.number)))
            .collect();
    }
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let token = random_token(16);
    let page =
        NewPage { shell: Shell::new(ctx, "New quote"), base: base(ctx), staff, cart, accounts, form, error, token };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
struct NewQuery {
    #[serde(default)]
    account: String,
}

async fn new_page(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NewQuery>) -> Result<Response, WebError> {
    // Staff acting for a customer start a quote for that customer.
    let account =
        if q.account.is_empty() { ctx.session.acting_account_id.clone().unwrap_or_default() } else { q.account };
    render_new(&state, &ctx, NewForm { account, ..Default::default() }, None).await
}

/// Reads form fields as (name, value) pairs: quote forms repeat names per line.
fn field(fields: &[(String, String)], name: &str) -> String {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

fn price_field(text: &str, what: &str, line: usize) -> Result<Option<Money>, ServiceError> {
    let t = text.trim().trim_start_matches('$').replace(',', "");
    if t.is_empty() {
        return Ok(None);
    }
    Money::parse_non_negative(&t)
        .map(Some)
        .map_err(|_| ServiceError::invalid(what, format!("Line {line}: “{text}” is not a price (e.g. 12.50).")))
}

/// The lines a form sends. A buyer's request from the cart: rows of `sku`, `qty` and an optional
/// `target_<SKU>`. A seller's editor: rows of `sku`, `qty`, `price` (quantity 0 removes the line),
/// then any pasted lines `SKU qty [price]` (`lines`), which is all a new seller quote has.
fn lines_from(fields: &[(String, String)], staff: bool) -> Result<Vec<QuoteLineInput>, ServiceError> {
    let all = |name: &str| fields.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let (skus, qtys, prices) = (all("sku"), all("qty"), all("price"));
    let mut out = Vec::new();
    for (i, (sku, qty)) in skus.iter().zip(&qtys).enumerate() {
        let quantity = qty.trim().parse::<i64>().map_err(|_| {
            ServiceError::invalid("qty", format!("Line {} ({sku}): “{qty}” is not a whole quantity.", i + 1))
        })?;
        if staff && quantity == 0 {
            continue;
        }
        let (target, unit) = if staff {
            (None, price_field(prices.get(i).map(String::as_str).unwrap_or(""), "price", i + 1)?)
        } else {
            (price_field(&field(fields, &format!("target_{sku}")), "target_price", i + 1)?, None)
        };
        out.push(QuoteLineInput { product: ProductRef::sku(sku), quantity, target_price: target, unit_price: unit });
    }
    if !staff {
        return Ok(out);
    }
    let rows = out.len();
    // Pasted lines: "SKU qty [price]"; without a price, the account's normal price.
    let text = field(fields, "lines");
    let mut plain = String::new();
    let mut given = Vec::new();
    for raw in text.lines() {
        let parts: Vec<&str> =
            raw.split(|c: char| c.is_whitespace() || c == ',' || c == ';').filter(|s| !s.is_empty()).collect();
        if parts.len() >= 3 {
            plain.push_str(&format!("{} {}\n", parts[0], parts[1]));
            given.push(Some(parts[2].to_string()));
        } else {
            plain.push_str(raw);
            plain.push('\n');
            given.push(None);
        }
    }
    let paste = parse_paste(&plain);
    if let Some(e) = paste.errors.first() {
        return Err(ServiceError::invalid("lines", format!("Pasted line {}: {} ({})", e.line, e.reason, e.text)));
    }
    for l in &paste.lines {
        let first = l.lines.first().copied().unwrap_or(1);
        let price = match given.get(first - 1).cloned().flatten() {
            Some(p) => price_field(&p, "lines", rows + first)?,
            None => None,
        };
        out.push(QuoteLineInput {
            product: ProductRef::sku(&l.sku),
            quantity: l.quantity,
            target_price: None,
            unit_price: price,
        });
    }
    Ok(out)
}

fn message_of(e: &ServiceError) -> Option<String> {
    match e {
        ServiceError::Invalid(errors) => Some(errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join(" ")),
        ServiceError::Blocked(issues) => Some(
            issues
                .iter()
                .map(|i| if i.sku.is_empty() { i.message.clone() } else { format!("{}: {}", i.sku, i.message) })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ServiceError::Conflict(m) => Some(m.clone()),
        _ => None,
    }
}

async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let staff = ctx.session.principal.is_staff();
    let form =
        NewForm { account: field(&fields, "account"), lines: field(&fields, "lines"), notes: field(&fields, "notes") };
    let account_id = match ctx.session.principal.buyer_account() {
        Some(own) => own.to_string(),
        None => form.account.clone(),
    };
    if staff && account_id.is_empty() {
        return render_new(&state, &ctx, form, Some("Choose the account the quote is for.".into())).await;
    }
    // The form's one-time token: a double submit finds the first quote.
    let token = field(&fields, "form_token");
    let mut request: Vec<&(String, String)> =
        fields.iter().filter(|(n, _)| n != "_csrf" && n != "form_token").collect();
    request.sort();
    let key = (token.len() >= 16).then(|| {
        let body = serde_json::to_string(&request).unwrap_or_default();
        IdemKey::hashed(format!("form:{}", ctx.session.principal.user_id), &token, body.as_bytes())
    });
    let result = match lines_from(&fields, staff) {
        Ok(lines) => {
            let req = NewQuote { account_id, lines, notes: form.notes.clone() };
            match service::create_quote_once(&state.db, state.now(), &ctx.actor(), &req, key.as_ref()).await {
                Ok(Keyed::Ran(q)) => Ok((q.number, q.status)),
                Ok(Keyed::Replayed { body, .. }) => Ok((body, String::new())),
                Err(ServiceError::InFlight) if key.is_some() => {
                    let key = key.as_ref().expect("checked");
                    crate::service::idempotency::wait_for(&state.db, key)
                        .await
                        .map(|(_, body, _)| (body, String::new()))
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((quote, status)) if status.is_empty() => {
            Ok(Redirect::to(&format!("{}/{quote}", base(&ctx))).into_response())
        }
        Ok((number, status)) => {
            Ok(Redirect::to(&format!("{}/{number}?notice=quote_{status}", base(&ctx))).into_response())
        }
        Err(e) => match message_of(&e) {
            Some(m) => render_new(&state, &ctx, form, Some(m)).await,
            None => Err(e.into()),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// One quote

#[derive(Template)]
#[template(path = "quote.html")]
struct QuotePage {
    shell: Shell,
    base: &'static str,
    v: QuoteView,
    created: String,
    messages: Vec<(String, bool, String, String)>,
    ship_tos: Vec<ShipToRow>,
    token: String,
    error: Option<String>,
    threshold: String,
    min_date: String,
    default_expiry: String,
    po_required: bool,
    /// The viewer signs off their own quotes by sending them.
    can_sign_off: bool,
    /// The pricing form as typed, when it was refused: shown again to fix, not the stored prices.
    typed: Option<TypedPricing>,
}

impl QuotePage {
    fn typed_qty(&self, row: usize) -> Option<&str> {
        self.typed.as_ref().and_then(|t| t.qtys.get(row)).map(String::as_str)
    }

    fn typed_price(&self, row: usize) -> Option<&str> {
        self.typed.as_ref().and_then(|t| t.prices.get(row)).map(String::as_str)
    }

    fn typed_lines(&self) -> &str {
        self.typed.as_ref().map_or("", |t| t.lines.as_str())
    }
}

/// The seller's pricing form exactly as typed: each row's quantity and price, and the pasted lines.
#[derive(Default)]
struct TypedPricing {
    qtys: Vec<String>,
    prices: Vec<String>,
    lines: String,
}

impl TypedPricing {
    fn of(fields: &[(String, String)]) -> TypedPricing {
        let all = |name: &str| fields.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
        TypedPricing { qtys: all("qty"), prices: all("price"), lines: field(fields, "lines") }
    }
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<Response, WebError> {
    render_typed(state, ctx, number, notice, error, None).await
}

/// The quote page; a refused pricing form shows what was typed.
async fn render_typed(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    notice: Option<&str>,
    error: Option<String>,
    typed: Option<TypedPricing>,
) -> Result<Response, WebError> {
    let actor = ctx.actor();
    let v = service::quote_view(&state.db, state.now(), &actor, number).await?;
    let today = crate::service::catalog::today(state.now());
    let ship_tos = if v.can.accept {
        crate::service::accounts::ship_tos(&state.db, &actor, &v.quote.account_id).await?
    } else {
        Vec::new()
    };
    let po_required = if v.can.accept {
        crate::service::accounts::get_account(&state.db, &actor, &v.quote.account_id).await?.po_required
    } else {
        false
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = QuotePage {
        shell: Shell::new(ctx, format!("Quote {}", v.quote.number)).with_notice(notice),
        base: base(ctx),
        created: datetime(v.quote.created_at),
        messages: v
            .messages
            .iter()
            .map(|m| (m.author_name.clone(), m.seller, datetime(m.created_at), m.body.clone()))
            .collect(),
        ship_tos,
        token: random_token(16),
        error,
        threshold: percent(v.policy.signoff_discount_bp),
        min_date: crate::domain::pricing::format_iso_date(today),
        default_expiry: crate::domain::pricing::format_iso_date(today + time::Duration::days(v.policy.valid_days)),
        po_required,
        can_sign_off: ctx.session.principal.can(Permission::SignOffQuotes),
        typed,
        v,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    render(&state, &ctx, &number, q.notice.as_deref(), None).await
}

/// After an action: back to the quote with a notice, or the quote again with the error (422),
/// for the errors a person can fix.
async fn after<T>(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    result: Result<T, ServiceError>,
    notice: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("{}/{number}?notice={notice}", base(ctx))).into_response()),
        Err(e) => match message_of(&e) {
            Some(m) => render(state, ctx, number, None, Some(m)).await,
            None => Err(e.into()),
        },
    }
}

fn version(fields: &[(String, String)]) -> Option<i64> {
    field(fields, "version").trim().parse().ok()
}

async fn price(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let result = match lines_from(&fields, true) {
        Ok(lines) => {
            service::price_quote(&state.db, state.now(), &ctx.actor(), &number, version(&fields), &lines).await
        }
        Err(e) => Err(e),
    };
    match result {
        // Bad input is shown again as typed; a stale form (409) shows the quote as it is now.
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Blocked(_))) => {
            let typed = Some(TypedPricing::of(&fields));
            render_typed(&state, &ctx, &number, None, message_of(&e), typed).await
        }
        other => after(&state, &ctx, &number, other, "quote_priced").await,
    }
}

async fn send(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let expires = field(&fields, "expires_on");
    let result =
        service::send_quote(&state.db, state.now(), &ctx.actor(), &number, version(&fields), Some(&expires)).await;
    let notice = match &result {
        Ok(q) if q.status == "awaiting_signoff" => "quote_awaiting_signoff",
        _ => "quote_sent",
    };
    after(&state, &ctx, &number, result, notice).await
}

async fn sign_off(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let approve = field(&fields, "decision") == "approve";
    let result = service::sign_off_quote(
        &state.db,
        state.now(),
        &ctx.actor(),
        &number,
        version(&fields),
        approve,
        &field(&fields, "comment"),
    )
    .await;
    after(&state, &ctx, &number, result, if approve { "quote_signed_off" } else { "quote_signoff_refused" }).await
}

async fn revise(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let result = service::revise_quote(&state.db, state.now(), &ctx.actor(), &number, version(&fields)).await;
    after(&state, &ctx, &number, result, "quote_revised").await
}

async fn withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let result = service::withdraw_quote(
        &state.db,
        state.now(),
        &ctx.actor(),
        &number,
        version(&fields),
        &field(&fields, "reason"),
    )
    .await;
    after(&state, &ctx, &number, result, "quote_withdrawn").await
}

async fn decline(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let result = service::decline_quote(
        &state.db,
        state.now(),
        &ctx.actor(),
        &number,
        version(&fields),
        &field(&fields, "reason"),
    )
    .await;
    after(&state, &ctx, &number, result, "quote_declined").await
}

async fn message(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let result = service::post_message(&state.db, state.now(), &ctx.actor(), &number, &field(&fields, "body")).await;
    after(&state, &ctx, &number, result, "quote_message").await
}

async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let chosen: Vec<i64> =
        fields.iter().filter(|(n, _)| n == "line").filter_map(|(_, v)| v.trim().parse().ok()).collect();
    let header = OrderHeader {
        ship_to_id: Some(field(&fields, "ship_to_id")).filter(|s| !s.is_empty()),
        po_number: field(&fields, "po_number"),
        requested_date: Some(field(&fields, "requested_date")).filter(|s| !s.trim().is_empty()),
        notes: field(&fields, "notes"),
    };
    let now = state.now();
    let expected = version(&fields);
    let placed =
        place_once(&state, &ctx, &field(&fields, "form_token"), |key| {
            let state = state.clone();
            let actor = ctx.actor();
            let number = number.clone();
            async move {
                service::accept_quote(&state.db, now, &actor, &number, expected, &chosen, header, Some(&key)).await
            }
        })
        .await;
    match placed {
        Ok(order) => {
            let to = if ctx.session.principal.is_staff() { "/orders" } else { "/portal/orders" };
            Ok(Redirect::to(&format!("{to}/{order}?placed=1")).into_response())
        }
        Err(WebError::Service(e)) => match message_of(&e) {
            Some(m) => render(&state, &ctx, &number, None, Some(m)).await,
            None => Err(e.into()),
        },
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// The seller's quoting policy

#[derive(Template)]
#[template(path = "admin_quotes.html")]
struct PolicyPage {
    shell: Shell,
    discount: String,
    valid_days: String,
    error: Option<String>,
}

async fn policy_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, WebError> {
    if !ctx.session.principal.can(Permission::AdminArea) {
        return Err(WebError::Forbidden);
    }
    let p = service::policy(&state.db).await?;
    let bp = p.signoff_discount_bp;
    let discount = if bp % 100 == 0 { (bp / 100).to_string() } else { format!("{}.{:02}", bp / 100, bp % 100) };
    let page = PolicyPage {
        shell: Shell::new(&ctx, "Quotes").with_notice(q.notice.as_deref()),
        discount,
        valid_days: p.valid_days.to_string(),
        error: None,
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
struct PolicyForm {
    #[serde(default)]
    discount: String,
    #[serde(default)]
    valid_days: String,
}

async fn set_policy(State(state): State<AppState>, ctx: Ctx, Form(f): Form<PolicyForm>) -> Result<Response, WebError> {
    match service::set_policy(&state.db, state.now(), &ctx.actor(), &f.discount, &f.valid_days).await {
        Ok(()) => Ok(Redirect::to("/admin/quotes?notice=saved").into_response()),
        Err(e) => match message_of(&e) {
            Some(m) => {
                let page = PolicyPage {
                    shell: Shell::new(&ctx, "Quotes"),
                    discount: f.discount,
                    valid_days: f.valid_days,
                    error: Some(m),
                };
                Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
            }
            None => Err(e.into()),
        },
    }
}
