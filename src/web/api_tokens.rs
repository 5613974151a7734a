//! Administration of API tokens: create (shown once), list with last use, revoke.

use super::AppState;
use super::auth_pages::NoticeQuery;
use super::error::WebError;
use super::form::Refusal;
use super::session::Ctx;
use super::shell::{Shell, datetime};
use crate::domain::auth::Scope;
use crate::service::api_tokens;
use crate::service::api_tokens::ApiTokenRow;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/api-tokens", get(list).post(create))
        .route("/admin/api-tokens/{id}/revoke", post(revoke))
}

pub struct TokenView {
    pub row: ApiTokenRow,
    pub created: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "api_tokens.html")]
struct TokensPage {
    shell: Shell,
    tokens: Vec<TokenView>,
    scopes: Vec<(&'static str, &'static str)>,
    new_token: Option<(String, String)>,
    /// What a refused form had typed: the name and the scopes ticked.
    typed: (String, Vec<String>),
    refusal: Refusal,
}

impl TokensPage {
    fn ticked(&self, scope: &str) -> bool {
        self.typed.1.iter().any(|s| s == scope)
    }
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    new_token: Option<(String, String)>,
    (typed, refusal): ((String, Vec<String>), Refusal),
) -> Result<Response, WebError> {
    let tokens = api_tokens::list(&state.db, &ctx.actor())
        .await?
        .into_iter()
        .map(|row| TokenView {
            created: datetime(row.created_at),
            last_used: row.last_used_at.map(datetime).unwrap_or_else(|| "never".into()),
            row,
        })
        .collect();
    let page = TokensPage {
        shell: Shell::new(ctx, "API tokens").with_notice(notice),
        tokens,
        scopes: Scope::ALL.iter().map(|s| (s.as_str(), s.describe())).collect(),
        new_token,
        typed,
        refusal,
    };
    Ok((page.refusal.status(), Html(page.render()?)).into_response())
}

async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NoticeQuery>) -> Result<Response, WebError> {
    render(&state, &ctx, q.notice.as_deref(), None, Default::default()).await
}

/// The form: `name` and one `scope_<scope>` checkbox per scope granted (every scope the domain
/// knows is offered, so new scopes need no change here).
async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let name = fields.iter().find(|(k, _)| k == "name").map(|(_, v)| v.clone()).unwrap_or_default();
    let ticked: Vec<&str> = fields.iter().filter_map(|(k, _)| k.strip_prefix("scope_")).collect();
    let scopes: Vec<Scope> = ticked.iter().copied().filter_map(Scope::parse).collect();
    match api_tokens::create(&state.db, state.now(), &ctx.actor(), &name, &scopes).await {
        Ok((row, token)) => render(&state, &ctx, None, Some((row.name, token)), Default::default()).await,
        Err(e) => {
            let refusal = Refusal::of("", e, "name")?;
            let typed = (name, ticked.into_iter().map(String::from).collect());
            render(&state, &ctx, None, None, (typed, refusal)).await
        }
    }
}

async fn revoke(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, WebError> {
    api_tokens::revoke(&state.db, state.now(), &ctx.actor(), &id).await?;
    Ok(Redirect::to("/admin/api-tokens?notice=saved"))
}
