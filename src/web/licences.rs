//! Licence pages: the Licences section of an account (staff: add, upload the document, verify;
//! the account's own users: read-only), the document download, the staff list of licences needing
//! attention with its badge, and the admin's licence rules. Scope is the service's decision.

use super::AppState;
use super::error::{WebError, multipart_error};
use super::session::Ctx;
use super::shell::Shell;
use crate::domain::auth::Permission;
use crate::domain::licences::{LicenceType, class_label};
use crate::service::FieldError;
use crate::service::catalog::today;
use crate::service::licences::LicenceRow;
use crate::service::licences::{self as service, LicenceDraft, MAX_DOCUMENT_BYTES, RuleDraft};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accounts/{id}/licences", post(add))
        .route(
            "/licences/{lid}/document",
            get(download).post(upload).layer(DefaultBodyLimit::max(MAX_DOCUMENT_BYTES + 64 * 1024)),
        )
        .route("/licences/{lid}/verify", post(verify))
        .route("/licences", get(attention))
        .route("/licences/badge", get(badge))
        .route("/admin/licence-rules", get(rules_page).post(add_rule))
        .route("/admin/licence-rules/{rid}/delete", post(remove_rule))
        .route("/admin/products/{sku}/regulated-class", post(set_product_class))
}

#[derive(Deserialize)]
struct ClassForm {
    #[serde(default)]
    regulated_class: String,
}

/// The product page's regulated class form.
async fn set_product_class(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(sku): Path<String>,
    Form(f): Form<ClassForm>,
) -> Result<axum::response::Response, WebError> {
    use super::products_admin::{Typed, product_page};
    use axum::response::IntoResponse;
    match service::set_product_class(&state.db, state.now(), &ctx.actor(), &sku, &f.regulated_class).await {
        Ok(p) => Ok(Redirect::to(&format!("/admin/products/{}?notice=saved", p.sku)).into_response()),
        Err(e) => {
            let refusal = super::form::Refusal::of("class", e, "regulated_class")?;
            product_page(&state, &ctx, &sku, None, Typed::Class(f.regulated_class), refusal).await
        }
    }
}

/// One licence as the section lists it.
pub struct LicenceView {
    pub id: String,
    pub type_label: &'static str,
    pub number: String,
    pub issuing_region: String,
    pub expires_on: String,
    pub status: String,
    pub status_css: &'static str,
    pub verified: bool,
    pub document: Option<String>,
}

impl LicenceView {
    fn of(l: &LicenceRow, now: i64) -> LicenceView {
        let status = l.status(today(now));
        LicenceView {
            id: l.id.clone(),
            type_label: l.type_label(),
            number: l.number.clone(),
            issuing_region: if l.issuing_region.is_empty() { "Federal".into() } else { l.issuing_region.clone() },
            expires_on: l.expires_on.clone(),
            status: status.label(),
            status_css: status.css(),
            verified: l.verified(),
            document: l.document_name.clone(),
        }
    }
}

/// The Licences section of an account page (`_licences.html`).
pub struct LicencesSection {
    pub account_id: String,
    pub licences: Vec<LicenceView>,
    /// Staff who may add licences, upload and verify documents.
    pub can_manage: bool,
    /// Whether the viewer may download documents (staff, the account's manager).
    pub can_download: bool,
    pub types: Vec<(&'static str, &'static str)>,
    /// The add form as typed when it was refused (empty otherwise), and why, field by field.
    pub typed: LicenceForm,
    pub errors: Vec<FieldError>,
}

impl LicencesSection {
    /// The section with its add form refused: what was typed, the reasons beside the fields.
    pub fn refused(self, typed: LicenceForm, errors: Vec<FieldError>) -> LicencesSection {
        LicencesSection { typed, errors, ..self }
    }

    /// The reasons for one field of the add form ("" when it has none).
    pub fn error(&self, field: &str) -> String {
        super::form::errors_for(&self.errors, field)
    }
}

/// The section for an account page; the service decides who may see it (404 otherwise).
pub async fn section(state: &AppState, ctx: &Ctx, account_id: &str) -> Result<LicencesSection, WebError> {
    let actor = ctx.actor();
    let rows = service::account_licences(&state.db, &actor, account_id).await?;
    let p = &ctx.session.principal;
    let now = state.now();
    Ok(LicencesSection {
        account_id: account_id.to_string(),
        licences: rows.iter().map(|l| LicenceView::of(l, now)).collect(),
        can_manage: p.is_staff() && p.can(Permission::ManageAccounts),
        can_download: p.is_staff() || p.can(Permission::ManageOwnAccountUsers),
        types: LicenceType::ALL.iter().map(|t| (t.as_str(), t.label())).collect(),
        typed: LicenceForm::default(),
        errors: Vec::new(),
    })
}

/// The add-a-licence form exactly as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct LicenceForm {
    #[serde(default)]
    pub licence_type: String,
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub issuing_region: String,
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub expires_on: String,
}

/// Adds a licence; a refused one comes back on the account page with the reasons beside the
/// fields and everything typed kept.
async fn add(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<LicenceForm>,
) -> Result<Response, WebError> {
    let draft = LicenceDraft {
        licence_type: f.licence_type.clone(),
        number: f.number.clone(),
        issuing_region: f.issuing_region.clone(),
        valid_from: f.valid_from.clone(),
        expires_on: f.expires_on.clone(),
    };
    match service::add_licence(&state.db, state.now(), &ctx.actor(), &id, &draft).await {
        Ok(_) => Ok(Redirect::to(&format!("/accounts/{id}?notice=saved#licences")).into_response()),
        Err(e) => {
            let refusal = super::form::Refusal::of("licence", e, "number")?;
            super::account_pages::licence_refused(&state, &ctx, &id, f, refusal).await
        }
    }
}

fn too_large() -> String {
    format!("The document is larger than {} MB.", MAX_DOCUMENT_BYTES / (1024 * 1024))
}

async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(lid): Path<String>,
    mut form: Multipart,
) -> Result<Redirect, WebError> {
    // Permission and scope first: nobody else's body is read.
    let actor = ctx.actor();
    actor.require(Permission::ManageAccounts)?;
    let licence = service::get_licence(&state.db, &actor, &lid).await?;
    let (mut name, mut bytes) = (String::new(), Vec::new());
    while let Some(mut field) = form.next_field().await.map_err(|e| multipart_error(e, too_large))? {
        if field.name() == Some("document") {
            name = field.file_name().unwrap_or("").to_string();
            while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, too_large))? {
                if bytes.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                    return Err(crate::service::ServiceError::TooLarge(too_large()).into());
                }
                bytes.extend_from_slice(&chunk);
            }
        }
    }
    service::upload_document(&state.db, state.now(), &actor, &lid, &name, bytes).await?;
    Ok(Redirect::to(&format!("/accounts/{}?notice=saved#licences", licence.account_id)))
}

async fn download(State(state): State<AppState>, ctx: Ctx, Path(lid): Path<String>) -> Result<Response, WebError> {
    let doc = service::document(&state.db, &ctx.actor(), &lid).await?;
    let disposition = format!("attachment; filename=\"{}\"", doc.filename.replace(['"', '\\'], ""));
    Ok((
        [
            (header::CONTENT_TYPE, doc.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        doc.content,
    )
        .into_response())
}

async fn verify(State(state): State<AppState>, ctx: Ctx, Path(lid): Path<String>) -> Result<Redirect, WebError> {
    let l = service::verify_licence(&state.db, state.now(), &ctx.actor(), &lid).await?;
    Ok(Redirect::to(&format!("/accounts/{}?notice=saved#licences", l.account_id)))
}

pub struct AttentionView {
    pub account_id: String,
    pub account: String,
    pub licence: LicenceView,
}

#[derive(Template)]
#[template(path = "licences.html")]
struct AttentionPage {
    shell: Shell,
    rows: Vec<AttentionView>,
}

/// Licences that expired lately, expire within 30 days, or wait for verification.
async fn attention(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    let now = state.now();
    let rows = service::needing_attention(&state.db, now, &ctx.actor()).await?;
    let page = AttentionPage {
        shell: Shell::new(&ctx, "Licences"),
        rows: rows
            .iter()
            .map(|r| AttentionView {
                account_id: r.licence.account_id.clone(),
                account: format!("{} ({})", r.account_name, r.account_number),
                licence: LicenceView::of(&r.licence, now),
            })
            .collect(),
    };
    Ok(Html(page.render()?))
}

/// A small link for staff lists: "3 licences expire within 30 days" (nothing when none do).
async fn badge(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    let n = service::expiring_count(&state.db, state.now(), &ctx.actor()).await?;
    Ok(Html(match n {
        0 => String::new(),
        1 => "<a class=\"badge badge-pending_approval\" href=\"/licences\" id=\"licence-badge\">1 licence expires within 30 days</a>".into(),
        n => format!(
            "<a class=\"badge badge-pending_approval\" href=\"/licences\" id=\"licence-badge\">{n} licences expire within 30 days</a>"
        ),
    }))
}

pub struct RuleView {
    pub id: String,
    pub class: String,
    pub class_label: String,
    pub type_label: &'static str,
    pub region: String,
    pub require_verified: bool,
}

#[derive(Template)]
#[template(path = "admin_licence_rules.html")]
struct RulesPage {
    shell: Shell,
    rules: Vec<RuleView>,
    types: Vec<(&'static str, &'static str)>,
    can_edit: bool,
    /// The add form as typed (a new rule's defaults when first shown) and, when refused, why.
    f: RuleForm,
    refusal: super::form::Refusal,
}

async fn rules_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let f = RuleForm { require_verified: Some("1".into()), ..RuleForm::default() };
    render_rules(&state, &ctx, f, super::form::Refusal::none()).await
}

/// The rules page; a refused rule comes back as typed with the reasons beside its fields.
async fn render_rules(
    state: &AppState,
    ctx: &Ctx,
    f: RuleForm,
    refusal: super::form::Refusal,
) -> Result<Response, WebError> {
    let rules = service::rules(&state.db, &ctx.actor()).await?;
    let status = refusal.status();
    let page = RulesPage {
        shell: Shell::new(ctx, "Licence rules"),
        rules: rules
            .iter()
            .map(|r| RuleView {
                id: r.id.clone(),
                class: r.regulated_class.clone(),
                class_label: class_label(&r.regulated_class),
                type_label: r.type_label(),
                region: if r.region.is_empty() { "Everywhere".into() } else { r.region.clone() },
                require_verified: r.require_verified,
            })
            .collect(),
        types: LicenceType::ALL.iter().map(|t| (t.as_str(), t.label())).collect(),
        can_edit: ctx.session.principal.can(Permission::ManageCatalog),
        f,
        refusal,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// The add-a-rule form exactly as typed.
#[derive(Deserialize, Default)]
struct RuleForm {
    #[serde(default)]
    regulated_class: String,
    #[serde(default)]
    licence_type: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    require_verified: Option<String>,
}

async fn add_rule(State(state): State<AppState>, ctx: Ctx, Form(f): Form<RuleForm>) -> Result<Response, WebError> {
    let d = RuleDraft {
        regulated_class: f.regulated_class.clone(),
        licence_type: f.licence_type.clone(),
        region: f.region.clone(),
        require_verified: f.require_verified.is_some(),
    };
    match service::add_rule(&state.db, state.now(), &ctx.actor(), &d).await {
        Ok(_) => Ok(Redirect::to("/admin/licence-rules?notice=saved").into_response()),
        Err(e) => {
            let refusal = super::form::Refusal::of("rule", e, "regulated_class")?;
            render_rules(&state, &ctx, f, refusal).await
        }
    }
}

async fn remove_rule(State(state): State<AppState>, ctx: Ctx, Path(rid): Path<String>) -> Result<Redirect, WebError> {
    service::remove_rule(&state.db, state.now(), &ctx.actor(), &rid).await?;
    Ok(Redirect::to("/admin/licence-rules?notice=saved"))
}
