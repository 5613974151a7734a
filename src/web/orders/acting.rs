//! Acting for a customer: staff start and stop working on an account's portal (audited by the
//! service).

use crate::service::acting;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::session::Ctx;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/accounts/{id}/act", post(act_for)).route("/act/exit", post(act_exit))
}

#[derive(Deserialize, Default)]
struct ActForm {
    /// Where to go once acting: a page of the customer's portal (the rep home's "Reorder" and
    /// "Quick order" go straight to their page, one tap). Anything else lands on the catalog.
    #[serde(default)]
    next: String,
}

/// The portal page to open after starting to act: a same-site `/portal/…` path, else the catalog.
fn portal_target(next: &str) -> &str {
    match crate::domain::redirect::safe_redirect_target(next) {
        Some(t) if t.starts_with("/portal/") => t,
        _ => "/portal/catalog",
    }
}

async fn act_for(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<ActForm>,
) -> Result<Redirect, WebError> {
    acting::act_for_account(&state.db, state.now(), &ctx.actor(), &ctx.session.id_hash, &id).await?;
    Ok(Redirect::to(portal_target(&f.next)))
}

async fn act_exit(State(state): State<AppState>, ctx: Ctx) -> Result<Redirect, WebError> {
    let back = acting::stop_acting(&state.db, state.now(), &ctx.actor(), &ctx.session.id_hash).await?;
    Ok(Redirect::to(&match back {
        Some(id) => format!("/accounts/{id}?notice=acting_ended"),
        None => "/".to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::portal_target;

    #[test]
    fn only_portal_pages_follow_acting() {
        assert_eq!(portal_target("/portal/reorder/order/SO-100001"), "/portal/reorder/order/SO-100001");
        assert_eq!(portal_target("/portal/quick-order"), "/portal/quick-order");
        for bad in ["", "/admin/accounts", "//evil.example/portal/", "https://evil.example/portal/x", "/portal/\\x"] {
            assert_eq!(portal_target(bad), "/portal/catalog", "{bad}");
        }
    }
}
