//! The buyer portal: home, account overview, and (for managers) the account's users.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::session::Ctx;
use super::shell::Shell;
use super::users::{InvitedPage, UserView};
use crate::domain::auth::{BuyerRole, Permission};
use crate::service::accounts::{self as account_service, AccountRow, RepContact, ShipToRow};
use crate::service::carts::ListRow;
use crate::service::orders::OrderFilter;
use crate::service::users as user_service;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal", get(home))
        .route("/portal/account", get(account))
        .route("/portal/users", get(users).post(invite))
}

fn require(ctx: &Ctx, p: Permission) -> Result<(), WebError> {
    if ctx.session.principal.can(p) { Ok(()) } else { Err(WebError::Forbidden) }
}

fn own_account_id(ctx: &Ctx) -> Result<String, WebError> {
    ctx.session.principal.buyer_account().map(str::to_string).ok_or(WebError::Forbidden)
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct HomePage {
    shell: Shell,
    account: AccountRow,
    rep: Option<RepContact>,
    can_order: bool,
    can_billing: bool,
    can_browse: bool,
    recent: Vec<super::orders::OrderItem>,
    lists: Vec<ListRow>,
    /// What the account owes and its credit, for those with billing rights.
    billing: Option<crate::service::statements::BillingSummary>,
    /// Orders waiting for this user's approval (managers).
    awaiting: Vec<crate::service::orders::Awaiting>,
    /// This user's own spending limits and what is left this month.
    budget: crate::service::approvals::Budget,
    /// Quotes the seller sent that wait for the account's answer: (number, total, valid to).
    quotes_ready: Vec<(String, crate::domain::money::Money, String)>,
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    require(&ctx, Permission::PortalView)?;
    let account = account_service::get_account(&state.db, &ctx.actor(), &own_account_id(&ctx)?).await?;
    let p = &ctx.session.principal;
    let recent = crate::service::orders::list_orders(&state.db, &ctx.actor(), OrderFilter::default(), None, 5).await?;
    let can_browse = p.can(Permission::PortalCatalog);
    let lists =
        if can_browse { crate::service::carts::lists(&state.db, &ctx.actor(), &account.id).await? } else { Vec::new() };
    let billing = if p.can(Permission::PortalBilling) {
        Some(crate::service::statements::billing_summary(&state.db, state.now(), &ctx.actor(), &account.id).await?)
    } else {
        None
    };
    let awaiting = crate::service::orders::awaiting_my_approval(&state.db, &ctx.actor()).await?;
    let budget = crate::service::approvals::my_budget(&state.db, state.now(), &ctx.actor()).await?;
    let quotes_ready = if can_browse {
        let sent = [crate::domain::quotes::QuoteStatus::Sent];
        crate::service::quotes::list_quotes(&state.db, state.now(), &ctx.actor(), None, &sent, Default::default(), 5)
            .await?
            .quotes
            .into_iter()
            .filter(|(_, s)| *s == crate::domain::quotes::QuoteStatus::Sent)
            .map(|(q, _)| {
                let last = q.expires_on.as_deref().and_then(crate::domain::pricing::parse_iso_date);
                (q.number.clone(), q.total(), last.map(crate::domain::pricing::format_date).unwrap_or_default())
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = HomePage {
        quotes_ready,
        awaiting,
        budget,
        recent: recent.iter().map(super::orders::OrderItem::from).collect(),
        lists: lists.into_iter().filter(|l| l.line_count > 0).take(5).collect(),
        shell: Shell::new(&ctx, account.name.clone()),
        rep: account_service::rep_contact(&state.db, &ctx.actor(), &account).await?,
        can_order: p.can(Permission::PortalOrder),
        can_billing: p.can(Permission::PortalBilling),
        can_browse,
        billing,
        account,
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "portal_account.html")]
struct AccountPage {
    shell: Shell,
    account: AccountRow,
    ship_tos: Vec<ShipToRow>,
    rep: Option<RepContact>,
    users: Vec<UserView>,
    is_manager: bool,
    licences: super::licences::LicencesSection,
}

async fn account(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    require(&ctx, Permission::PortalView)?;
    let actor = ctx.actor();
    let id = own_account_id(&ctx)?;
    let account = account_service::get_account(&state.db, &actor, &id).await?;
    let is_manager = ctx.session.principal.can(Permission::ManageOwnAccountUsers);
    let users = if is_manager {
        user_service::list_account_users(&state.db, &actor, &id).await?.iter().map(UserView::from).collect()
    } else {
        Vec::new()
    };
    let page = AccountPage {
        shell: Shell::new(&ctx, "Your account"),
        ship_tos: account_service::ship_tos(&state.db, &actor, &id).await?,
        rep: account_service::rep_contact(&state.db, &ctx.actor(), &account).await?,
        licences: super::licences::section(&state, &ctx, &id).await?,
        account,
        users,
        is_manager,
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "portal_users.html")]
struct UsersPage {
    shell: Shell,
    account_name: String,
    users: Vec<UserView>,
    roles: Vec<(&'static str, &'static str, &'static str)>,
    self_id: String,
    limits: Vec<LimitRow>,
    /// The invitation as typed when it was refused (empty otherwise), and why.
    invite: InviteForm,
    refusal: super::form::Refusal,
}

/// A user's spending limits as the manager's form shows them.
struct LimitRow {
    id: String,
    name: String,
    role: String,
    order_limit: String,
    monthly_limit: String,
    spent: crate::domain::money::Money,
}

pub fn buyer_role_options() -> Vec<(&'static str, &'static str, &'static str)> {
    BuyerRole::ALL.iter().map(|r| (r.as_str(), r.label(), r.describe())).collect()
}

async fn users(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> Result<axum::response::Response, WebError> {
    users_page(&state, &ctx, q.notice.as_deref(), InviteForm::default(), super::form::Refusal::none()).await
}

/// The account's users, as first shown or with a refused invitation (input kept, 422).
async fn users_page(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    invite: InviteForm,
    refusal: super::form::Refusal,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    require(ctx, Permission::ManageOwnAccountUsers)?;
    let actor = ctx.actor();
    let id = own_account_id(ctx)?;
    let account = account_service::get_account(&state.db, &actor, &id).await?;
    let users = user_service::list_account_users(&state.db, &actor, &id).await?;
    let budgets = crate::service::approvals::account_budgets(&state.db, state.now(), &actor, &id).await?;
    let me = &ctx.session.principal.user_id;
    let limits = users
        .iter()
        .filter(|u| u.active && &u.id != me)
        .filter(|u| matches!(u.buyer_role(), Some(BuyerRole::Buyer | BuyerRole::Requester | BuyerRole::Manager)))
        .map(|u| {
            let b = budgets.get(&u.id).cloned().unwrap_or_default();
            let plain = |m: Option<crate::domain::money::Money>| m.map(|m| m.to_plain()).unwrap_or_default();
            LimitRow {
                id: u.id.clone(),
                name: u.name.clone(),
                role: u.role_labels(),
                order_limit: plain(b.limits.per_order),
                monthly_limit: plain(b.limits.per_month),
                spent: b.spent,
            }
        })
        .collect();
    let page = UsersPage {
        limits,
        shell: Shell::new(ctx, "Users").with_notice(notice),
        account_name: account.name,
        users: users.iter().map(UserView::from).collect(),
        roles: buyer_role_options(),
        self_id: ctx.session.principal.user_id.clone(),
        invite,
        refusal,
    };
    Ok((page.refusal.status(), Html(page.render()?)).into_response())
}

/// An invitation exactly as typed.
#[derive(Deserialize, Default)]
pub struct InviteForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
}

async fn invite(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<InviteForm>,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    require(&ctx, Permission::ManageOwnAccountUsers)?;
    let id = own_account_id(&ctx)?;
    let role = BuyerRole::parse(&form.role);
    match user_service::invite_account_user(&state.db, state.now(), &ctx.actor(), &id, &form.email, &form.name, role)
        .await
    {
        Ok(inv) => Ok(Html(InvitedPage::new(&state, &ctx, &inv, "/portal/users").render()?).into_response()),
        Err(e) => {
            let refusal = super::form::Refusal::of("invite", e, "email")?;
            users_page(&state, &ctx, None, form, refusal).await
        }
    }
}
