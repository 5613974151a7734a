//! Staff pricing pages: every price list (with whom it applies to) and contract, their prices, and
//! editing them — a contract as a whole, a (possibly huge) price list by setting or removing some
//! prices. The same service functions as the API's upserts.

use super::AppState;
use super::error::WebError;
use super::form::Refusal;
use super::session::Ctx;
use super::shell::Shell;
use crate::domain::auth::Permission;
use crate::domain::money::Money;
use crate::service::ServiceError;
use crate::service::price_admin::{self, ContractDoc, Validity, parse_price_lines};
use crate::service::price_admin::{ContractSummary, PriceListRow, PriceListSummary};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/pricing", get(overview).post(new_contract))
        .route("/admin/pricing/lists", post(new_list))
        .route("/admin/pricing/lists/{code}", get(list_page))
        .route("/admin/pricing/lists/{code}/assignments", post(assign_list))
        .route("/admin/pricing/lists/{code}/assignments/{aid}/delete", post(unassign_list))
        .route("/admin/pricing/lists/{code}/prices", post(list_prices))
        .route("/admin/pricing/contracts/{number}", get(contract_page).post(save_contract))
        .route("/admin/pricing/tax-rates", post(set_tax_rate))
        .route("/admin/pricing/tax-rates/remove", post(remove_tax_rate))
}

const PAGE: i64 = 100;

fn require(ctx: &Ctx) -> Result<(), WebError> {
    let p = &ctx.session.principal;
    match p.can(Permission::ManagePrices) {
        true => Ok(()),
        false if p.is_staff() => Err(WebError::Forbidden),
        false => Err(WebError::NotFound),
    }
}

#[derive(Deserialize, Default)]
struct PageQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "pricing.html")]
struct Overview {
    shell: Shell,
    exports: Vec<super::exports::ExportLink>,
    lists: Vec<PriceListSummary>,
    contracts: Vec<ContractSummary>,
    q: String,
    next: Option<String>,
    /// Sales-tax rates: (country, region, class, rate shown, label).
    tax_rates: Vec<(String, String, String, String, String)>,
    /// The new price list form as typed, and its problems.
    nl: NewListForm,
    errors: Vec<crate::service::FieldError>,
    /// The tax rate form as typed when it was refused, and why.
    tr: TaxRateForm,
    refusal: Refusal,
    has_base: bool,
    has_accounts: bool,
    has_products: bool,
}

impl Overview {
    fn error(&self, field: &str) -> String {
        super::setup_admin::errors_for(&self.errors, field)
    }
}

#[derive(Deserialize, Default)]
struct NewListForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    priority: String,
    base: Option<String>,
}

async fn overview(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PageQuery>,
) -> Result<axum::response::Response, WebError> {
    let nl = NewListForm { priority: "100".into(), ..Default::default() };
    overview_page(&state, &ctx, q, nl, Vec::new(), Default::default()).await
}

async fn overview_page(
    state: &AppState,
    ctx: &Ctx,
    q: PageQuery,
    nl: NewListForm,
    errors: Vec<crate::service::FieldError>,
    (tr, refusal): (TaxRateForm, Refusal),
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    require(ctx)?;
    let db = &state.db;
    let mut contracts = price_admin::contracts_page(db, &ctx.actor(), &q.q, &q.after, PAGE + 1).await?;
    let next = (contracts.len() as i64 > PAGE).then(|| {
        contracts.truncate(PAGE as usize);
        contracts.last().map(|c| {
            serde_urlencoded::to_string([("q", q.q.as_str()), ("after", c.number.as_str())]).unwrap_or_default()
        })
    });
    let lists = price_admin::price_lists(db, &ctx.actor()).await?;
    let counts = crate::service::setup::counts(db, &ctx.actor()).await?;
    let page = Overview {
        exports: super::exports::export_links(
            &ctx.actor(),
            &[crate::service::imports::Kind::PriceLists, crate::service::imports::Kind::ContractPrices],
        ),
        shell: Shell::new(ctx, "Pricing").with_notice(q.notice.as_deref()),
        has_base: lists.iter().any(|l| l.list.is_base),
        has_accounts: counts.accounts > 0,
        has_products: counts.products > 0,
        nl,
        errors,
        tr,
        refusal,
        lists,
        contracts,
        q: q.q,
        next: next.flatten(),
        tax_rates: crate::service::tax::tax_rates(db, &ctx.actor())
            .await?
            .into_iter()
            .map(|r| {
                let shown = crate::domain::invoicing::format_rate(r.rate_ppm);
                (r.country, r.region, r.tax_class, shown, r.label)
            })
            .collect(),
    };
    let status =
        if page.refusal.is_empty() { super::setup_admin::status_of(&page.errors) } else { page.refusal.status() };
    Ok((status, Html(page.render()?)).into_response())
}

async fn new_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<NewListForm>,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    require(&ctx)?;
    let result = match super::setup_admin::parse_number("priority", "Priority", &f.priority, 100) {
        Ok(priority) => {
            let form = crate::service::price_lists::NewListForm {
                code: f.code.clone(),
                name: f.name.clone(),
                priority,
                base: f.base.is_some(),
            };
            crate::service::price_lists::create_price_list(&state.db, state.now(), &ctx.actor(), &form).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(l) => {
            let to = format!("/admin/pricing/lists/{}?notice=price_list_created", urlencode(&l.code));
            Ok(Redirect::to(&to).into_response())
        }
        Err(ServiceError::Invalid(errors)) => {
            overview_page(&state, &ctx, PageQuery::default(), f, errors, Default::default()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    group: String,
}

async fn assign_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<AssignForm>,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    let (account, group) = match f.group.trim().is_empty() {
        true => (Some(f.account.as_str()), None),
        false => (None, Some(f.group.as_str())),
    };
    match crate::service::price_lists::assign_price_list(&state.db, state.now(), &ctx.actor(), &code, account, group)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/pricing/lists/{}?notice=saved", urlencode(&code))).into_response()),
        Err(ServiceError::Invalid(errors)) => {
            render_list_page(&state, &ctx, &code, PageQuery::default(), f.account, errors, Default::default()).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn unassign_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((code, aid)): Path<(String, String)>,
) -> Result<Redirect, WebError> {
    crate::service::price_lists::unassign_price_list(&state.db, state.now(), &ctx.actor(), &code, &aid).await?;
    Ok(Redirect::to(&format!("/admin/pricing/lists/{}?notice=saved", urlencode(&code))))
}

#[derive(Deserialize)]
struct NewContractForm {
    number: String,
    account: String,
}

async fn new_contract(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<NewContractForm>,
) -> Result<Redirect, WebError> {
    let doc = ContractDoc {
        number: f.number.clone(),
        account: f.account,
        name: String::new(),
        validity: Validity::default(),
        prices: Vec::new(),
    };
    let r = price_admin::upsert_contract(&state.db, state.now(), &ctx.actor(), &doc).await?;
    if !r.created {
        return Err(ServiceError::invalid("number", format!("Contract {} already exists.", f.number.trim())).into());
    }
    Ok(Redirect::to(&format!("/admin/pricing/contracts/{}?notice=saved", urlencode(f.number.trim()))))
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).map(|e| e[2..].to_string()).unwrap_or_default()
}

/// A price row for the pages: SKU, product name, tier, price.
pub struct PriceRow {
    pub sku: String,
    pub name: String,
    pub min_qty: i64,
    pub price: Money,
}

fn rows(raw: Vec<(String, String, i64, i64)>) -> Vec<PriceRow> {
    raw.into_iter().map(|(sku, name, min_qty, p)| PriceRow { sku, name, min_qty, price: Money::from_raw(p) }).collect()
}

#[derive(Template)]
#[template(path = "price_list.html")]
struct ListPage {
    shell: Shell,
    list: PriceListRow,
    /// (assignment id, account or group).
    assigned: Vec<(String, String)>,
    prices: Vec<PriceRow>,
    next: Option<String>,
    /// Account groups (id, name) for the assignment form.
    groups: Vec<(String, String)>,
    /// The account typed into the assignment form, and its problems.
    account: String,
    errors: Vec<crate::service::FieldError>,
    /// The price lines as typed when they were refused (`lines`), with their problems.
    lines: String,
    refusal: Refusal,
}

impl ListPage {
    fn error(&self, field: &str) -> String {
        super::setup_admin::errors_for(&self.errors, field)
    }
}

async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<axum::response::Response, WebError> {
    render_list_page(&state, &ctx, &code, q, String::new(), Vec::new(), Default::default()).await
}

async fn render_list_page(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
    q: PageQuery,
    account: String,
    errors: Vec<crate::service::FieldError>,
    (lines, refusal): (String, Refusal),
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    let (list, assigned, raw) = price_admin::price_list(&state.db, &ctx.actor(), code, &q.after, PAGE + 1).await?;
    let mut prices = rows(raw);
    // A SKU's tiers stay on one page: the next page starts after the last *whole* SKU (the keyset
    // is the SKU, so a SKU cut in two would lose its remaining tiers).
    let next = if prices.len() as i64 > PAGE {
        prices.truncate(PAGE as usize);
        let last = prices.last().map(|p| p.sku.clone()).unwrap_or_default();
        if prices.iter().any(|p| p.sku != last) {
            prices.retain(|p| p.sku != last);
        }
        prices.last().map(|p| p.sku.clone())
    } else {
        None
    };
    let groups = crate::service::account_sync::groups(&state.db, &ctx.actor())
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let page = ListPage {
        shell: Shell::new(ctx, format!("Price list {}", list.name)).with_notice(q.notice.as_deref()),
        assigned,
        list,
        prices,
        next,
        groups,
        account,
        errors,
        lines,
        refusal,
    };
    let status =
        if page.refusal.is_empty() { super::setup_admin::status_of(&page.errors) } else { page.refusal.status() };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
struct PricesForm {
    lines: String,
    #[serde(default)]
    action: String,
}

async fn list_prices(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<PricesForm>,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    let result = match parse_price_lines(&f.lines) {
        Ok(lines) => {
            price_admin::set_list_prices(&state.db, state.now(), &ctx.actor(), &code, &lines, f.action == "remove")
                .await
        }
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/pricing/lists/{}?notice=saved", urlencode(&code))).into_response()),
        Err(e) => {
            let refusal = Refusal::of("lines", e, "lines")?;
            render_list_page(&state, &ctx, &code, PageQuery::default(), String::new(), Vec::new(), (f.lines, refusal))
                .await
        }
    }
}

#[derive(Template)]
#[template(path = "contract.html")]
struct ContractPage {
    shell: Shell,
    k: ContractSummary,
    /// The form: as stored, or as typed when it was refused.
    f: ContractForm,
    prices: Vec<PriceRow>,
    refusal: Refusal,
}

impl ContractPage {
    /// The problems of the price lines: every one not about the name or the dates.
    fn line_errors(&self) -> Vec<&str> {
        let header = ["name", "valid_from", "valid_to"];
        self.refusal.errors.iter().filter(|e| !header.contains(&e.field.as_str())).map(|e| e.message.as_str()).collect()
    }
}

async fn contract_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<axum::response::Response, WebError> {
    render_contract(&state, &ctx, &number, q.notice.as_deref(), None, Refusal::none()).await
}

/// The contract page, as stored or with its refused form kept and its problems beside it.
async fn render_contract(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    notice: Option<&str>,
    typed: Option<ContractForm>,
    refusal: Refusal,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    let (k, raw) = price_admin::contract(&state.db, &ctx.actor(), number).await?;
    let prices = rows(raw);
    let f = typed.unwrap_or_else(|| ContractForm {
        name: k.name.clone(),
        valid_from: k.valid_from.clone().unwrap_or_default(),
        valid_to: k.valid_to.clone().unwrap_or_default(),
        lines: prices
            .iter()
            .map(|p| format!("{}, {}, {}", p.sku, p.min_qty, p.price.to_plain()))
            .collect::<Vec<_>>()
            .join("\n"),
    });
    let page = ContractPage {
        shell: Shell::new(ctx, format!("Contract {}", k.number)).with_notice(notice),
        k,
        f,
        prices,
        refusal,
    };
    Ok((page.refusal.status(), Html(page.render()?)).into_response())
}

/// The contract form exactly as typed.
#[derive(Deserialize, Default)]
struct ContractForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    valid_from: String,
    #[serde(default)]
    valid_to: String,
    #[serde(default)]
    lines: String,
}

async fn save_contract(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(f): Form<ContractForm>,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    let (k, _) = price_admin::contract(&state.db, &ctx.actor(), &number).await?;
    let result = match parse_price_lines(&f.lines) {
        Ok(prices) => {
            let some = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
            let doc = ContractDoc {
                number: k.number.clone(),
                account: k.account_id.clone(),
                name: f.name.clone(),
                validity: Validity { valid_from: some(&f.valid_from), valid_to: some(&f.valid_to) },
                prices,
            };
            price_admin::upsert_contract(&state.db, state.now(), &ctx.actor(), &doc).await.map(|_| ())
        }
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(()) => {
            let to = format!("/admin/pricing/contracts/{}?notice=saved", urlencode(&k.number));
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            let refusal = Refusal::of("contract", e, "lines")?;
            render_contract(&state, &ctx, &number, None, Some(f), refusal).await
        }
    }
}

#[derive(Deserialize, Default)]
struct TaxRateForm {
    #[serde(default)]
    country: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    tax_class: String,
    #[serde(default)]
    rate: String,
    #[serde(default)]
    label: String,
}

/// Sets a sales-tax rate (a country, optionally a region, and a product tax class).
async fn set_tax_rate(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<TaxRateForm>,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    require(&ctx)?;
    let input = crate::service::tax::TaxRateInput {
        country: f.country.clone(),
        region: f.region.clone(),
        tax_class: f.tax_class.clone(),
        rate: f.rate.clone(),
        label: f.label.clone(),
    };
    match crate::service::tax::set_tax_rate(&state.db, state.now(), &ctx.actor(), &input).await {
        Ok(_) => Ok(Redirect::to("/admin/pricing?notice=saved#tax-rates").into_response()),
        Err(e) => {
            let refusal = Refusal::of("tax", e, "country")?;
            let nl = NewListForm { priority: "100".into(), ..Default::default() };
            overview_page(&state, &ctx, PageQuery::default(), nl, Vec::new(), (f, refusal)).await
        }
    }
}

/// Removes a sales-tax rate.
async fn remove_tax_rate(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<TaxRateForm>,
) -> Result<Redirect, WebError> {
    require(&ctx)?;
    crate::service::tax::remove_tax_rate(&state.db, state.now(), &ctx.actor(), &f.country, &f.region, &f.tax_class)
        .await?;
    Ok(Redirect::to("/admin/pricing?notice=saved#tax-rates"))
}
