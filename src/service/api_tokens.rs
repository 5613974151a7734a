//! Creating, revoking and checking API tokens.

use super::auth::{random_token, token_hash};
use super::{Actor, ServiceError, ServiceResult, audit};
use crate::domain::auth::{ActorChannel, Permission, Principal, Scope};
use crate::store::api_tokens;
pub use crate::store::api_tokens::ApiTokenRow;
use crate::store::{Db, new_id};
use serde_json::json;

/// A token records its use at most this often.
const TOUCH_EVERY_SECS: i64 = 60;

fn require_admin(actor: &Actor<'_>) -> ServiceResult<()> {
    match actor.principal.can(Permission::AdminArea) {
        true => Ok(()),
        false if actor.principal.is_staff() => Err(ServiceError::Forbidden),
        false => Err(ServiceError::NotFound),
    }
}

/// Creates a token; the returned string is the only time it is ever shown.
pub async fn create(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    name: &str,
    scopes: &[Scope],
) -> ServiceResult<(ApiTokenRow, String)> {
    require_admin(actor)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::invalid("name", "Name the integration (1–100 characters), e.g. “ERP sync”."));
    }
    if scopes.is_empty() {
        return Err(ServiceError::invalid("scopes", "Choose at least one scope."));
    }
    let token = format!("pt_{}", random_token(24));
    let row = ApiTokenRow {
        id: new_id(),
        name: name.to_string(),
        prefix: token[..10].to_string(),
        scopes: scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    let unit = (actor.owned(), now, row, token);
    db.write(unit, |tx, (actor, now, row, token)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let now = *now;
            // `portico token create` acts as an administrator who is no user row.
            let created_by = (actor.channel != ActorChannel::Cli).then_some(actor.principal.user_id.as_str());
            api_tokens::insert(tx, row, &token_hash(token), created_by).await?;
            audit(
                tx,
                Some(actor),
                now,
                "api_token.created",
                ("api_token", &row.id),
                None,
                Some(json!({ "name": row.name, "scopes": row.scopes })),
            )
            .await?;
            Ok((row.clone(), token.clone()))
        })
    })
    .await
}

pub async fn revoke(db: &Db, now: i64, actor: &Actor<'_>, id: &str) -> ServiceResult<()> {
    require_admin(actor)?;
    let unit = (actor.owned(), now, id.to_string());
    db.write(unit, |tx, (actor, now, id)| {
        Box::pin(async move {
            let actor = &actor.actor();
            let now = *now;
            let id: &str = id;
            if !api_tokens::revoke(tx, id, now).await? {
                return Err(ServiceError::NotFound);
            }
            audit(tx, Some(actor), now, "api_token.revoked", ("api_token", id), None, None).await?;
            Ok(())
        })
    })
    .await
}

pub async fn list(db: &Db, actor: &Actor<'_>) -> ServiceResult<Vec<ApiTokenRow>> {
    require_admin(actor)?;
    Ok(api_tokens::list(db).await?)
}

/// The integration behind a bearer token, if the token is valid and not revoked.
pub async fn authenticate(db: &Db, now: i64, token: &str) -> ServiceResult<Option<Principal>> {
    let Some(row) = api_tokens::find_active(db, &token_hash(token)).await? else { return Ok(None) };
    if row.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY_SECS) {
        api_tokens::touch(db, &row.id, now).await?;
    }
    Ok(Some(Principal::integration(row.id, row.name, &Scope::parse_list(&row.scopes))))
}
