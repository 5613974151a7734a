//! The local test payment provider, served by Portico only when configured
//! (`PORTICO_TEST_PROVIDER_SECRET`; on in `portico demo`), and Portico's endpoint for provider
//! callbacks. Both live outside the session layer: the provider is "another site" (its form has
//! no Portico session or CSRF token), and the callback comes from the provider's server, proven by
//! its signature alone. See `service::payment_provider` for the protocol.

use super::AppState;
use super::session::Ctx;
use crate::domain::money::Money;
use crate::service::payment_provider::{self, LocalTestProvider, SIGNATURE_HEADER, http_request};
use axum::Form;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

/// The provider, if this Portico is configured with one.
pub fn provider(state: &AppState) -> Option<LocalTestProvider> {
    state.config.test_provider_secret.as_deref().map(|s| LocalTestProvider::new(&state.config.public_url, s))
}

/// Routes outside the session layer.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/test-provider/checkout", get(checkout_page))
        .route("/test-provider/checkout/pay", post(pay))
        .route("/payments/callback", post(callback).layer(DefaultBodyLimit::max(64 * 1024)))
}

/// Buyers' "Pay online" (inside the session layer: a signed-in buyer's form).
pub fn portal_router() -> Router<AppState> {
    Router::new().route("/portal/invoices/pay", post(start))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} — Test payment provider</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
         <body><main class=\"container stack\"><p class=\"muted\">Test payment provider — no real money moves, and no card data is asked for.</p>{body}</main></body></html>",
        t = esc(title)
    ))
}

#[derive(Deserialize)]
struct SessionQuery {
    s: String,
    sig: String,
}

async fn checkout_page(State(state): State<AppState>, Query(q): Query<SessionQuery>) -> Response {
    let Some(p) = provider(&state) else { return StatusCode::NOT_FOUND.into_response() };
    let Some(c) = p.open_session(&q.s, &q.sig, state.now()) else {
        return (
            StatusCode::BAD_REQUEST,
            page("Invalid checkout", "<h1>This checkout link is invalid or expired.</h1>"),
        )
            .into_response();
    };
    let amount = Money::parse(&c.amount).map(|m| m.format()).unwrap_or_else(|_| c.amount.clone());
    let body = format!(
        "<section class=\"card stack\"><h1>Pay ${amount}</h1><p>{desc}</p>\
         <form method=\"post\" action=\"/test-provider/checkout/pay\" class=\"stack\">\
         <input type=\"hidden\" name=\"s\" value=\"{s}\"><input type=\"hidden\" name=\"sig\" value=\"{sig}\">\
         <div class=\"form-actions\"><button class=\"btn btn-primary\" type=\"submit\" id=\"provider-pay\">Pay ${amount}</button> \
         <a href=\"{back}?cancelled=1\">Cancel</a></div></form></section>",
        desc = esc(&c.description),
        s = esc(&q.s),
        sig = esc(&q.sig),
        back = esc(&c.return_url),
    );
    page(&format!("Pay ${amount}"), &body).into_response()
}

/// The buyer pays: the provider reports it to Portico (signed, over HTTP), then sends the buyer back.
async fn pay(State(state): State<AppState>, Form(q): Form<SessionQuery>) -> Response {
    let Some(p) = provider(&state) else { return StatusCode::NOT_FOUND.into_response() };
    let now = state.now();
    let Some(c) = p.open_session(&q.s, &q.sig, now) else {
        return (
            StatusCode::BAD_REQUEST,
            page("Invalid checkout", "<h1>This checkout link is invalid or expired.</h1>"),
        )
            .into_response();
    };
    let event = p.succeeded(c.clone(), now);
    let body = serde_json::to_vec(&event).unwrap_or_default();
    let signature = p.signature_header(now, &body);
    let sent = http_request(
        "POST",
        &c.callback_url,
        &[("Content-Type", "application/json"), ("Provider-Signature", &signature)],
        &body,
    )
    .await;
    match sent {
        Ok((status, _)) if (200..300).contains(&status) => {
            Redirect::to(&format!("{}?paid={}", c.return_url, event.id)).into_response()
        }
        Ok((status, answer)) => {
            let msg = format!("<h1>The shop refused the payment ({status}).</h1><p>{}</p>", esc(&answer));
            (StatusCode::BAD_GATEWAY, page("Not confirmed", &msg)).into_response()
        }
        Err(e) => {
            let msg = format!("<h1>The shop could not be reached.</h1><p>{}</p>", esc(&e.to_string()));
            (StatusCode::BAD_GATEWAY, page("Not confirmed", &msg)).into_response()
        }
    }
}

/// A provider's callback: 200 once recorded, and 200 again (nothing recorded) for a payment
/// recorded before, so the provider stops sending it; 400 (nothing recorded) for a missing, bad
/// or stale signature or event; 503 when the database failed (the provider sends it again).
async fn callback(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(p) = provider(&state) else { return StatusCode::NOT_FOUND.into_response() };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    match payment_provider::confirm_callback(&state.db, state.now(), &p, signature, &body).await {
        Ok(number) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], format!("recorded {number}")).into_response()
        }
        Err(e @ payment_provider::CallbackError::Replayed) => {
            tracing::info!("payment provider callback for a payment recorded before; nothing changed");
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], e.to_string()).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "payment provider callback refused");
            let status = match e {
                payment_provider::CallbackError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            (status, [(header::CONTENT_TYPE, "text/plain")], e.to_string()).into_response()
        }
    }
}

/// "Pay online": the chosen open invoices (fields `invoice`), to the provider's checkout.
async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, super::error::WebError> {
    let Some(p) = provider(&state) else { return Err(super::error::WebError::NotFound) };
    let chosen: Vec<String> = fields.into_iter().filter(|(k, _)| k == "invoice").map(|(_, v)| v).collect();
    let url =
        payment_provider::start_checkout(&state.db, state.now(), &ctx.actor(), &p, &state.config.public_url, &chosen)
            .await?;
    Ok(Redirect::to(&url).into_response())
}
