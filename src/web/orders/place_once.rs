//! Placing from a form under its one-time token: a double click (or a resubmitted form) finds the
//! first order instead of placing a second one.

use crate::service::ServiceError;
use crate::service::orders::{self, IdemKey, Placement};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::session::Ctx;

/// Places through the pipeline under a form's one-time token: a double click (or a resubmitted
/// form) finds the first order instead of placing a second one.
pub(crate) async fn place_once<F, Fut>(state: &AppState, ctx: &Ctx, token: &str, place: F) -> Result<String, WebError>
where
    F: FnOnce(IdemKey) -> Fut,
    Fut: std::future::Future<Output = Result<Placement, ServiceError>>,
{
    if token.len() < 16 {
        return Err(WebError::BadRequest("This form has expired; reload the page.".into()));
    }
    let key = IdemKey {
        scope: format!("form:{}", ctx.session.principal.user_id),
        key: token.to_string(),
        request_hash: "place".into(),
    };
    match place(key.clone()).await {
        Ok(Placement::Placed { order, .. }) => Ok(order.number),
        Ok(Placement::Replayed { order_id, .. }) => number_of(state, ctx, order_id).await,
        // The first click is still placing: wait for it, then show its order.
        Err(ServiceError::InFlight) => {
            Ok(orders::wait_for_placement(&state.db, &ctx.order_actor(), &key).await?.number)
        }
        Err(e) => Err(e.into()),
    }
}

/// The number of an order placed under a form token (the record keeps its id).
async fn number_of(state: &AppState, ctx: &Ctx, order_id: Option<String>) -> Result<String, WebError> {
    let id = order_id.ok_or(WebError::NotFound)?;
    Ok(orders::get_order(&state.db, &ctx.order_actor(), &id).await?.number)
}
