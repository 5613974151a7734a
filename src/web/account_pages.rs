//! Staff account pages: the admin's and finance's account lists, one account's page, and the
//! finance, ship-to and invitation forms on it. Scope is always the service's decision.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::form::Refusal;
use super::portal::buyer_role_options;
use super::session::Ctx;
use super::shell::{Shell, datetime};
use super::users::{InvitedPage, UserView};
use crate::domain::account::{AccountStatus, Address, PaymentTerms};
use crate::domain::auth::{BuyerRole, Permission};
use crate::domain::money::Money;
use crate::service::accounts::{self as account_service, AccountListRow, AccountRow, RepContact, ShipToRow};
use crate::service::{ServiceError, users as user_service};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/finance", get(finance))
        .route("/admin/accounts", get(admin_accounts))
        .route("/accounts/{id}", get(account_page))
        .route("/accounts/{id}/credit", post(update_credit))
        .route("/accounts/{id}/users", post(invite_user))
        .route("/accounts/{id}/ship-tos", post(add_ship_to))
        .route("/accounts/{id}/ship-tos/{sid}/default", post(default_ship_to))
        .route("/accounts/{id}/ship-tos/{sid}/delete", post(remove_ship_to))
}

pub const PAGE_SIZE: i64 = 25;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    after_name: Option<String>,
    after_id: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts_list.html")]
struct AccountsListPage {
    shell: Shell,
    exports: Vec<super::exports::ExportLink>,
    heading: &'static str,
    intro: &'static str,
    base: &'static str,
    q: String,
    rows: Vec<AccountListRow>,
    total: i64,
    next_page: Option<String>,
    show_credit: bool,
    can_create: bool,
    /// Finance's queue: orders held for credit, oldest first.
    held: Vec<crate::web::orders::OrderItem>,
    /// The admin's getting-started checklist, while a step is left.
    setup: Option<Vec<crate::service::setup::SetupStep>>,
}

async fn list(state: &AppState, ctx: &Ctx, q: ListQuery, area: Permission) -> Result<Html<String>, WebError> {
    let p = &ctx.session.principal;
    if !p.can(area) {
        return Err(WebError::Forbidden);
    }
    let (heading, intro, base) = match area {
        Permission::FinanceArea => {
            ("Finance", "Orders held for credit, terms and credit limits. Invoices are under Invoices.", "/finance")
        }
        _ => (
            "Accounts",
            "Every customer account. Create accounts, assign reps, set terms and invite users.",
            "/admin/accounts",
        ),
    };
    let actor = ctx.actor();
    let after = match (&q.after_name, &q.after_id) {
        (Some(n), Some(i)) => Some((n.as_str(), i.as_str())),
        _ => None,
    };
    // The rep's book and the desk are the work queues' pages (`web::queues`).
    let book_only = false;
    let mut rows = account_service::search_accounts(&state.db, &actor, book_only, &q.q, after, PAGE_SIZE + 1).await?;
    let next_page = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|last| {
            serde_urlencoded::to_string([
                ("q", q.q.as_str()),
                ("after_name", last.name.as_str()),
                ("after_id", last.id.as_str()),
            ])
            .unwrap_or_default()
        })
    } else {
        None
    };
    let total = account_service::count_accounts(&state.db, &actor, book_only).await?;
    let held = if area == Permission::FinanceArea {
        let filter = crate::service::orders::OrderFilter { status: Some("on_hold".into()), ..Default::default() };
        let mut rows = crate::service::orders::list_orders(&state.db, &actor, filter, None, 100).await?;
        rows.reverse();
        rows.iter().map(crate::web::orders::OrderItem::from).collect()
    } else {
        Vec::new()
    };
    let setup = match area == Permission::AdminArea && p.can(Permission::AdminArea) {
        true => crate::service::setup::setup_steps(&state.db, &actor).await?,
        false => None,
    };
    let page = AccountsListPage {
        setup,
        exports: if area == Permission::AdminArea {
            super::exports::export_links(
                &ctx.actor(),
                &[crate::service::imports::Kind::Accounts, crate::service::imports::Kind::ShipTos],
            )
        } else {
            Vec::new()
        },
        shell: Shell::new(ctx, heading).with_notice(q.notice.as_deref()),
        heading,
        intro,
        base,
        q: q.q,
        rows,
        total,
        next_page,
        show_credit: p.can(Permission::FinanceArea) || area == Permission::AdminArea,
        can_create: area == Permission::AdminArea && p.can(Permission::ManageAccounts),
        held,
    };
    Ok(Html(page.render()?))
}

async fn finance(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    list(&state, &ctx, q, Permission::FinanceArea).await
}
async fn admin_accounts(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    list(&state, &ctx, q, Permission::AdminArea).await
}

pub struct AuditView {
    pub at: String,
    pub who: String,
    pub channel: String,
    pub action: String,
}

#[derive(Template)]
#[template(path = "account_staff.html")]
struct AccountPage {
    shell: Shell,
    account: AccountRow,
    rep: Option<RepContact>,
    /// A running hand-over: (previous rep, until (a date), share "30").
    handover: Option<(String, String, String)>,
    ship_tos: Vec<ShipToRow>,
    users: Vec<UserView>,
    roles: Vec<(&'static str, &'static str, &'static str)>,
    self_id: String,
    back: String,
    invite_action: String,
    history: Vec<AuditView>,
    can_edit: bool,
    can_credit: bool,
    can_invite: bool,
    /// Writes quotes for customers (reps, the desk, sales managers, admins).
    can_quote: bool,
    statuses: Vec<(&'static str, &'static str)>,
    credit: CreditView,
    licences: super::licences::LicencesSection,
    assortment: account_service::Assortment,
    /// Admins follow the group, catalogs and price lists to their pages.
    can_admin: bool,
    /// The credit form's values: as stored, or as typed when it was refused.
    cf: CreditForm,
    /// The new ship-to form as typed when it was refused (empty otherwise).
    sf: ShipToForm,
    /// The invitation as typed when it was refused (empty otherwise).
    invite: super::portal::InviteForm,
    /// A refused form of this page (`credit`, `ship_to` or `invite`), its reasons beside its fields.
    refusal: Refusal,
}

impl AccountPage {
    fn error(&self, form: &str, field: &str) -> String {
        self.refusal.field_of(form, field)
    }
}

/// What was typed into one of the account page's forms.
enum Typed {
    Nothing,
    Credit(CreditForm),
    ShipTo(ShipToForm),
    Invite(super::portal::InviteForm),
    Licence(super::licences::LicenceForm),
}

/// An account's credit position as pages show it.
pub(crate) struct CreditView {
    pub exposure: Money,
    pub uninvoiced: Money,
    pub receivable: Money,
    pub credits: Money,
    pub has_credits: bool,
    /// `None` when the account has no limit.
    pub available: Option<Money>,
}

impl From<account_service::CreditPosition> for CreditView {
    fn from(c: account_service::CreditPosition) -> CreditView {
        CreditView {
            exposure: c.exposure.total(),
            uninvoiced: Money::from_raw(c.exposure.uninvoiced),
            receivable: Money::from_raw(c.exposure.receivable),
            credits: Money::from_raw(c.exposure.credits),
            has_credits: c.exposure.credits != 0,
            available: c.available(),
        }
    }
}

async fn account_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    render_account_page(&state, &ctx, &id, q.notice.as_deref(), Typed::Nothing, Refusal::none()).await
}

/// The staff account page, as first shown or with a refused form (input kept, 422 or 409).
async fn render_account_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    typed: Typed,
    refusal: Refusal,
) -> Result<Response, WebError> {
    let (state, id) = (state, id.to_string());
    let p = &ctx.session.principal;
    if !p.is_staff() {
        return Err(WebError::NotFound);
    }
    let actor = ctx.actor();
    let account = account_service::get_account(&state.db, &actor, &id).await?;
    let can_invite = p.can(Permission::InviteAccountUsers);
    let users = user_service::list_account_users(&state.db, &actor, &id).await.or_else(|e| match e {
        ServiceError::Forbidden => Ok(Vec::new()),
        other => Err(other),
    })?;
    let history = account_service::account_history(&state.db, &actor, &id, 20)
        .await?
        .into_iter()
        .map(|a| AuditView {
            at: datetime(a.at),
            who: a.actor_name.unwrap_or_else(|| "system".into()),
            channel: a.channel,
            action: a.action,
        })
        .collect();
    let mut invite = super::portal::InviteForm::default();
    let mut licences = super::licences::section(state, ctx, &id).await?;
    let (cf, sf) = match typed {
        Typed::Nothing => (CreditForm::of(&account), ShipToForm::new()),
        // A stale form (someone saved in between) is sent again against what is stored now.
        Typed::Credit(f) if refusal.conflict => (CreditForm { version: account.version, ..f }, ShipToForm::new()),
        Typed::Credit(f) => (f, ShipToForm::new()),
        Typed::ShipTo(f) => (CreditForm::of(&account), f),
        Typed::Invite(f) => {
            invite = f;
            (CreditForm::of(&account), ShipToForm::new())
        }
        Typed::Licence(f) => {
            licences = licences.refused(f, refusal.errors.clone());
            (CreditForm::of(&account), ShipToForm::new())
        }
    };
    let status = refusal.status();
    let page = AccountPage {
        shell: Shell::new(ctx, account.name.clone()).with_notice(notice),
        rep: account_service::rep_contact(&state.db, &actor, &account).await?,
        handover: account_service::running_handover(&state.db, state.now(), &actor, &account)
            .await?
            .map(|h| (h.rep_name, super::shell::date(h.until), crate::domain::commissions::format_share(h.share_ppm))),
        ship_tos: account_service::ship_tos(&state.db, &actor, &id).await?,
        users: users.iter().map(UserView::from).collect(),
        roles: buyer_role_options(),
        self_id: p.user_id.clone(),
        back: format!("/accounts/{id}"),
        invite_action: format!("/accounts/{id}/users"),
        history,
        can_edit: p.can(Permission::ManageAccounts),
        can_quote: p.can(Permission::OrderForCustomers),
        can_credit: p.can(Permission::ManageCredit),
        can_invite,
        statuses: AccountStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        credit: account_service::credit_position(&state.db, &actor, &id).await?.into(),
        licences,
        assortment: account_service::assortment(&state.db, &actor, &account).await?,
        can_admin: p.can(Permission::AdminArea),
        account,
        cf,
        sf,
        invite,
        refusal,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// The credit and terms form exactly as typed.
#[derive(Deserialize, Default)]
pub struct CreditForm {
    #[serde(default)]
    version: i64,
    #[serde(default)]
    terms: String,
    #[serde(default)]
    credit_limit: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    terms_from_month_end: Option<String>,
    #[serde(default)]
    credit_over_limit: String,
    #[serde(default)]
    overdue_hold_days: String,
    #[serde(default)]
    tax_exempt_certificate: String,
    #[serde(default)]
    tax_exempt_until: String,
}

impl CreditForm {
    /// The form as the account stands.
    fn of(a: &AccountRow) -> CreditForm {
        CreditForm {
            version: a.version,
            terms: a.terms().code(),
            credit_limit: a.credit_limit().to_plain(),
            status: a.status.clone(),
            terms_from_month_end: a.terms_from_month_end.then(|| "1".to_string()),
            credit_over_limit: a.credit_over_limit.clone(),
            overdue_hold_days: a.overdue_hold_days.map(|d| d.to_string()).unwrap_or_default(),
            tax_exempt_certificate: a.tax_exempt_certificate.clone(),
            tax_exempt_until: a.tax_exempt_until.clone().unwrap_or_default(),
        }
    }
}

async fn update_credit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<CreditForm>,
) -> Result<Response, WebError> {
    match save_credit(&state, &ctx, &id, &f).await {
        Ok(()) => Ok(Redirect::to(&format!("/accounts/{id}?notice=saved")).into_response()),
        Err(e) => {
            let refusal = Refusal::of("credit", e, "version")?;
            render_account_page(&state, &ctx, &id, None, Typed::Credit(f), refusal).await
        }
    }
}

async fn save_credit(state: &AppState, ctx: &Ctx, id: &str, f: &CreditForm) -> Result<(), ServiceError> {
    let mut errors = Vec::new();
    let terms = PaymentTerms::parse(&f.terms);
    if terms.is_none() {
        errors.push(("terms".to_string(), format!("Terms “{}” are not valid: use prepay or net 1–365.", f.terms)));
    }
    let limit = Money::parse_non_negative(&f.credit_limit);
    if let Err(e) = &limit {
        errors.push(("credit_limit".to_string(), format!("Credit limit: {e}")));
    }
    let status = AccountStatus::parse(&f.status);
    if status.is_none() {
        errors.push(("status".to_string(), "Unknown status.".to_string()));
    }
    let overdue = match f.overdue_hold_days.trim() {
        "" => None,
        t => match t.parse::<i64>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push((
                    "overdue_hold_days".to_string(),
                    format!("Hold after: “{t}” is not a number of days; leave it empty for never."),
                ));
                None
            }
        },
    };
    let until = match f.tax_exempt_until.trim() {
        "" => None,
        t => {
            let d = crate::domain::pricing::parse_iso_date(t);
            if d.is_none() {
                errors.push(("tax_exempt_until".to_string(), format!("Valid to: “{t}” is not a date (YYYY-MM-DD).")));
            }
            d
        }
    };
    ServiceError::from_problems(errors)?;
    let (Some(terms), Ok(limit), Some(status)) = (terms, limit, status) else {
        return Err(ServiceError::invalid("terms", "Check the terms, credit limit and status."));
    };
    let settings = account_service::CreditSettings {
        terms_from_month_end: f.terms_from_month_end.is_some(),
        over_limit: crate::domain::credit::OverLimit::parse(&f.credit_over_limit),
        overdue_hold_days: overdue,
        tax_exempt_certificate: f.tax_exempt_certificate.clone(),
        tax_exempt_until: until,
    };
    let update =
        account_service::CreditUpdate { expected_version: f.version, terms, credit_limit: limit, status, settings };
    account_service::update_credit(&state.db, state.now(), &ctx.actor(), id, update).await?;
    Ok(())
}

/// The staff account page with its add-a-licence form refused.
pub(super) async fn licence_refused(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    typed: super::licences::LicenceForm,
    refusal: Refusal,
) -> Result<Response, WebError> {
    render_account_page(state, ctx, id, None, Typed::Licence(typed), refusal).await
}

async fn invite_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<super::portal::InviteForm>,
) -> Result<Response, WebError> {
    let role = BuyerRole::parse(&f.role);
    match user_service::invite_account_user(&state.db, state.now(), &ctx.actor(), &id, &f.email, &f.name, role).await {
        Ok(inv) => Ok(Html(InvitedPage::new(&state, &ctx, &inv, &format!("/accounts/{id}")).render()?).into_response()),
        Err(e) => {
            let refusal = Refusal::of("invite", e, "email")?;
            render_account_page(&state, &ctx, &id, None, Typed::Invite(f), refusal).await
        }
    }
}

/// A new ship-to location exactly as typed.
#[derive(Deserialize, Default)]
pub struct ShipToForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    line1: String,
    #[serde(default)]
    line2: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    country: String,
    make_default: Option<String>,
}

impl ShipToForm {
    fn new() -> ShipToForm {
        ShipToForm { country: "US".into(), ..Default::default() }
    }
}

async fn add_ship_to(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<ShipToForm>,
) -> Result<Response, WebError> {
    let addr = Address {
        line1: f.line1.clone(),
        line2: f.line2.clone(),
        city: f.city.clone(),
        region: f.region.clone(),
        postal_code: f.postal_code.clone(),
        country: f.country.clone(),
    };
    let make_default = f.make_default.is_some();
    match account_service::add_ship_to(&state.db, state.now(), &ctx.actor(), &id, &f.label, &addr, make_default).await {
        Ok(_) => Ok(Redirect::to(&format!("/accounts/{id}?notice=ship_to_added")).into_response()),
        Err(e) => {
            let refusal = Refusal::of("ship_to", e, "ship_label")?;
            render_account_page(&state, &ctx, &id, None, Typed::ShipTo(f), refusal).await
        }
    }
}

async fn default_ship_to(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, sid)): Path<(String, String)>,
) -> Result<Redirect, WebError> {
    account_service::set_default_ship_to(&state.db, state.now(), &ctx.actor(), &id, &sid).await?;
    Ok(Redirect::to(&format!("/accounts/{id}?notice=ship_to_default")))
}

async fn remove_ship_to(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, sid)): Path<(String, String)>,
) -> Result<Redirect, WebError> {
    account_service::remove_ship_to(&state.db, state.now(), &ctx.actor(), &id, &sid).await?;
    Ok(Redirect::to(&format!("/accounts/{id}?notice=ship_to_removed")))
}
