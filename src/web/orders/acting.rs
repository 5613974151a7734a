//! Acting for a customer: staff start and stop working on an account's portal (audited by the
//! service).

use crate::service::acting;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::session::Ctx;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::post;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/accounts/{id}/act", post(act_for)).route("/act/exit", post(act_exit))
}

async fn act_for(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, WebError> {
    acting::act_for_account(&state.db, state.now(), &ctx.actor(), &ctx.session.id_hash, &id).await?;
    Ok(Redirect::to("/portal/catalog"))
}

async fn act_exit(State(state): State<AppState>, ctx: Ctx) -> Result<Redirect, WebError> {
    let back = acting::stop_acting(&state.db, state.now(), &ctx.actor(), &ctx.session.id_hash).await?;
    Ok(Redirect::to(&match back {
        Some(id) => format!("/accounts/{id}?notice=acting_ended"),
        None => "/".to_string(),
    }))
}
