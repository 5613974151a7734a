//! Seller administration: create and edit accounts, manage staff users.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::form::Refusal;
use super::session::Ctx;
use super::shell::Shell;
use super::users::{InvitedPage, UserView};
use crate::domain::account::{AccountDraft, AccountStatus, Address, OwnershipMode, PaymentTerms};
use crate::domain::auth::{Permission, StaffRole};
use crate::domain::money::Money;
use crate::service::accounts::{self as account_service, AccountRow};
use crate::service::{FieldError, ServiceError, users as user_service};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts/new", get(new_account).post(create_account))
        .route("/admin/accounts/{id}/edit", get(edit_account).post(save_account))
        .route("/admin/staff", get(staff).post(create_staff))
        .route("/admin/staff/{id}", get(staff_user).post(save_staff_user))
}

fn require(ctx: &Ctx, p: Permission) -> Result<(), WebError> {
    if ctx.session.principal.can(p) { Ok(()) } else { Err(WebError::Forbidden) }
}

/// The account form exactly as typed, so a form with errors comes back with the user's input.
#[derive(Deserialize, Default, Clone)]
pub struct AccountForm {
    #[serde(default)]
    version: i64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    ownership_mode: String,
    #[serde(default)]
    owner_rep_id: String,
    #[serde(default)]
    terms: String,
    #[serde(default)]
    credit_limit: String,
    po_required: Option<String>,
    #[serde(default)]
    external_id: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    bill_line1: String,
    #[serde(default)]
    bill_line2: String,
    #[serde(default)]
    bill_city: String,
    #[serde(default)]
    bill_region: String,
    #[serde(default)]
    bill_postal_code: String,
    #[serde(default)]
    bill_country: String,
    ship_same_as_billing: Option<String>,
    /// The account group's id; empty for none.
    #[serde(default)]
    group: String,
}

impl AccountForm {
    fn from_row(a: &AccountRow) -> AccountForm {
        AccountForm {
            version: a.version,
            name: a.name.clone(),
            status: a.status.clone(),
            ownership_mode: a.ownership_mode.clone(),
            owner_rep_id: a.owner_rep_id.clone().unwrap_or_default(),
            terms: a.terms().code(),
            credit_limit: a.credit_limit().to_plain(),
            po_required: a.po_required.then(|| "1".into()),
            external_id: a.external_id.clone().unwrap_or_default(),
            phone: a.phone.clone(),
            bill_line1: a.bill_line1.clone(),
            bill_line2: a.bill_line2.clone(),
            bill_city: a.bill_city.clone(),
            bill_region: a.bill_region.clone(),
            bill_postal_code: a.bill_postal_code.clone(),
            bill_country: a.bill_country.clone(),
            ship_same_as_billing: None,
            group: a.group_id.clone().unwrap_or_default(),
        }
    }

    /// Parses into a draft, collecting every field problem at once.
    fn draft(&self) -> Result<AccountDraft, ServiceError> {
        let mut problems: Vec<(String, String)> = Vec::new();
        let status = AccountStatus::parse(&self.status);
        if status.is_none() {
            problems.push(("status".into(), "Choose a status.".into()));
        }
        let mode = OwnershipMode::parse(&self.ownership_mode);
        if mode.is_none() {
            problems.push(("ownership_mode".into(), "Choose an ownership mode.".into()));
        }
        let terms = PaymentTerms::parse(&self.terms);
        if terms.is_none() {
            problems.push((
                "terms".into(),
                format!("Terms “{}” are not valid: use prepay, or net with 1–365 days (net30).", self.terms),
            ));
        }
        let limit = if self.credit_limit.trim().is_empty() {
            Ok(Money::ZERO)
        } else {
            Money::parse_non_negative(&self.credit_limit)
        };
        if let Err(e) = &limit {
            problems.push(("credit_limit".into(), format!("Credit limit: {e}.")));
        }
        let draft = AccountDraft {
            name: self.name.clone(),
            status: status.unwrap_or(AccountStatus::Active),
            ownership_mode: mode.unwrap_or(OwnershipMode::Hybrid),
            owner_rep_id: Some(self.owner_rep_id.trim().to_string()).filter(|s| !s.is_empty()),
            terms: terms.unwrap_or(PaymentTerms::Prepay),
            credit_limit: limit.clone().unwrap_or(Money::ZERO),
            po_required: self.po_required.is_some(),
            external_id: Some(self.external_id.trim().to_string()).filter(|s| !s.is_empty()),
            phone: self.phone.clone(),
            bill_to: Address {
                line1: self.bill_line1.clone(),
                line2: self.bill_line2.clone(),
                city: self.bill_city.clone(),
                region: self.bill_region.clone(),
                postal_code: self.bill_postal_code.clone(),
                country: self.bill_country.clone(),
            },
        };
        if mode.is_some() {
            problems.extend(draft.problems());
        }
        ServiceError::from_problems(problems)?;
        Ok(draft)
    }
}

#[derive(Template)]
#[template(path = "account_form.html")]
struct AccountFormPage {
    shell: Shell,
    is_new: bool,
    action: String,
    f: AccountForm,
    errors: Vec<FieldError>,
    reps: Vec<(String, String)>,
    /// Account groups: (id, name).
    groups: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    modes: Vec<(&'static str, &'static str)>,
}

impl AccountFormPage {
    fn error(&self, field: &str) -> String {
        self.errors.iter().filter(|e| e.field == field).map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")
    }
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    id: Option<&str>,
    f: AccountForm,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let reps = user_service::list_reps(&state.db, &ctx.actor()).await?.into_iter().map(|u| (u.id, u.name)).collect();
    let groups = crate::service::account_sync::groups(&state.db, &ctx.actor())
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = AccountFormPage {
        groups,
        shell: Shell::new(ctx, if id.is_some() { "Edit account" } else { "New account" }),
        is_new: id.is_none(),
        action: id.map(|i| format!("/admin/accounts/{i}/edit")).unwrap_or_else(|| "/admin/accounts/new".into()),
        f,
        errors,
        reps,
        statuses: AccountStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        modes: OwnershipMode::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn new_account(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    require(&ctx, Permission::ManageAccounts)?;
    let f = AccountForm {
        status: "onboarding".into(),
        ownership_mode: "hybrid".into(),
        terms: "net30".into(),
        credit_limit: "0.00".into(),
        bill_country: "US".into(),
        ship_same_as_billing: Some("1".into()),
        ..Default::default()
    };
    form_page(&state, &ctx, None, f, Vec::new()).await
}

async fn create_account(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<AccountForm>,
) -> Result<Response, WebError> {
    require(&ctx, Permission::ManageAccounts)?;
    let result = match f.draft() {
        Ok(draft) => {
            let ship = f.ship_same_as_billing.is_some().then(|| draft.bill_to.clone());
            account_service::create_account(
                &state.db,
                state.now(),
                &ctx.actor(),
                &draft,
                Some(f.group.as_str()),
                ship.as_ref().map(|a| ("Main", a)),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(a) => Ok(Redirect::to(&format!("/accounts/{}?notice=saved", a.id)).into_response()),
        Err(ServiceError::Invalid(errors)) => form_page(&state, &ctx, None, f, errors).await,
        Err(e) => Err(e.into()),
    }
}

async fn edit_account(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, WebError> {
    require(&ctx, Permission::ManageAccounts)?;
    let a = account_service::get_account(&state.db, &ctx.actor(), &id).await?;
    form_page(&state, &ctx, Some(&id), AccountForm::from_row(&a), Vec::new()).await
}

async fn save_account(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<AccountForm>,
) -> Result<Response, WebError> {
    require(&ctx, Permission::ManageAccounts)?;
    let result = match f.draft() {
        Ok(draft) => {
            let group = Some(f.group.as_str());
            account_service::update_account(&state.db, state.now(), &ctx.actor(), &id, f.version, &draft, group).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/accounts/{id}?notice=saved")).into_response()),
        Err(ServiceError::Invalid(errors)) => form_page(&state, &ctx, Some(&id), f, errors).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    shell: Shell,
    users: Vec<UserView>,
    roles: Vec<(&'static str, &'static str)>,
    self_id: String,
    /// The add form as typed (empty as first shown).
    f: StaffForm,
    refusal: Refusal,
}

impl StaffPage {
    fn error(&self, field: &str) -> String {
        self.refusal.field(field)
    }
}

fn staff_role_options() -> Vec<(&'static str, &'static str)> {
    StaffRole::ALL.iter().map(|r| (r.as_str(), r.label())).collect()
}

async fn staff(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NoticeQuery>) -> Result<Response, WebError> {
    staff_page(&state, &ctx, q.notice.as_deref(), StaffForm::default(), Refusal::none()).await
}

/// The staff list with the add form (as typed, with its reasons, when it was refused).
async fn staff_page(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    f: StaffForm,
    refusal: Refusal,
) -> Result<Response, WebError> {
    require(ctx, Permission::ManageStaff)?;
    let users = user_service::list_staff(&state.db, &ctx.actor()).await?;
    let page = StaffPage {
        shell: Shell::new(ctx, "Staff").with_notice(notice),
        users: users.iter().map(UserView::from).collect(),
        roles: staff_role_options(),
        self_id: ctx.session.principal.user_id.clone(),
        f,
        refusal,
    };
    Ok((page.refusal.status(), Html(page.render()?)).into_response())
}

/// Staff form: one checkbox per role (`role_admin`, `role_sales_rep`, …), exactly as typed.
#[derive(Deserialize, Default)]
pub struct StaffForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    role_admin: Option<String>,
    role_sales_rep: Option<String>,
    role_customer_service: Option<String>,
    role_finance: Option<String>,
}

impl StaffForm {
    fn roles(&self) -> Vec<StaffRole> {
        [
            (&self.role_admin, StaffRole::Admin),
            (&self.role_sales_rep, StaffRole::SalesRep),
            (&self.role_customer_service, StaffRole::CustomerService),
            (&self.role_finance, StaffRole::Finance),
        ]
        .into_iter()
        .filter(|(v, _)| v.is_some())
        .map(|(_, r)| r)
        .collect()
    }

    /// Whether the role with this code is ticked.
    fn has(&self, code: &str) -> bool {
        self.roles().iter().any(|r| r.as_str() == code)
    }
}

async fn create_staff(State(state): State<AppState>, ctx: Ctx, Form(f): Form<StaffForm>) -> Result<Response, WebError> {
    require(&ctx, Permission::ManageStaff)?;
    match user_service::create_staff_user(&state.db, state.now(), &ctx.actor(), &f.email, &f.name, &f.phone, &f.roles())
        .await
    {
        Ok(inv) => Ok(Html(InvitedPage::new(&state, &ctx, &inv, "/admin/staff").render()?).into_response()),
        Err(e) => {
            let refusal = Refusal::of("", e, "email")?;
            staff_page(&state, &ctx, None, f, refusal).await
        }
    }
}

#[derive(Template)]
#[template(path = "staff_user.html")]
struct StaffUserPage {
    shell: Shell,
    u: UserView,
    /// (code, label, ticked): as stored, or as typed when the form was refused.
    roles: Vec<(&'static str, &'static str, bool)>,
    /// Name and phone as stored, or as typed.
    name: String,
    phone: String,
    refusal: Refusal,
}

impl StaffUserPage {
    fn error(&self, field: &str) -> String {
        self.refusal.field(field)
    }
}

async fn staff_user(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, WebError> {
    staff_user_page(&state, &ctx, &id, None, Refusal::none()).await
}

/// One staff member's page: their form as stored, or as typed with its reasons when refused.
async fn staff_user_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    typed: Option<StaffForm>,
    refusal: Refusal,
) -> Result<Response, WebError> {
    require(ctx, Permission::ManageStaff)?;
    let u = user_service::get_staff_user(&state.db, &ctx.actor(), id).await?;
    let held = u.staff_roles();
    let roles = StaffRole::ALL
        .iter()
        .map(|r| {
            let ticked = match &typed {
                Some(f) => f.has(r.as_str()),
                None => held.contains(r),
            };
            (r.as_str(), r.label(), ticked)
        })
        .collect();
    let view = UserView::from(&u);
    let (name, phone) = match typed {
        Some(f) => (f.name, f.phone),
        None => (view.name.clone(), view.phone.clone()),
    };
    let page = StaffUserPage { shell: Shell::new(ctx, u.name.clone()), roles, u: view, name, phone, refusal };
    Ok((page.refusal.status(), Html(page.render()?)).into_response())
}

async fn save_staff_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<StaffForm>,
) -> Result<Response, WebError> {
    require(&ctx, Permission::ManageStaff)?;
    match user_service::update_staff_user(&state.db, state.now(), &ctx.actor(), &id, &f.name, &f.phone, &f.roles())
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/staff?notice=saved").into_response()),
        Err(e) => {
            let refusal = Refusal::of("", e, "name")?;
            staff_user_page(&state, &ctx, &id, Some(f), refusal).await
        }
    }
}
