//! The seller's brand (issue 17): read by every page (public: the sign-in page shows it), set by
//! admins on "Your company" and over the API, together with the company's name and address so
//! that one save changes everything or nothing. The rules are `domain::branding`.

use super::{Actor, ServiceError, ServiceResult, audit, check_texts};
use crate::domain::auth::Permission;
use crate::domain::branding::{Accent, Brand, Logo, prepare_logo};
use crate::domain::time_zone::Zone;
pub use crate::store::branding::{LogoFile, LogoInfo};
use crate::store::{Db, branding as store, invoices};
use serde_json::json;

/// The brand every page, the sign-in pages and mail show. One small read, no permission.
pub async fn brand(db: &Db) -> ServiceResult<Brand> {
    let row = store::brand(db).await?;
    Ok(Brand {
        name: row.name,
        // A stored accent or zone was checked when it was saved; an unreadable one is none.
        accent: Accent::parse(&row.accent).ok(),
        logo_etag: Some(row.logo_etag).filter(|e| !e.is_empty()),
        time_zone: Zone::parse(&row.time_zone).unwrap_or_default(),
    })
}

/// The logo's bytes, to serve (public).
pub async fn logo(db: &Db) -> ServiceResult<Option<LogoFile>> {
    Ok(store::logo(db).await?)
}

/// What the logo field of a change asks for.
#[derive(Clone, Debug, Default)]
pub enum LogoChange {
    #[default]
    Keep,
    Remove,
    /// An uploaded file: checked and resized before anything is written.
    Upload(Vec<u8>),
}

/// A change to the seller's company settings; `None` keeps what is stored.
#[derive(Clone, Debug, Default)]
pub struct CompanyChange {
    pub name: Option<String>,
    pub address: Option<String>,
    /// `#rrggbb`, or empty for Portico's own colours.
    pub accent: Option<String>,
    pub logo: LogoChange,
    /// An IANA name (`America/Chicago`): the zone pages show times in for users who chose none.
    pub time_zone: Option<String>,
}

/// The seller's company settings as the admin page and the API show them.
#[derive(Clone, Debug, Default)]
pub struct CompanySettings {
    pub name: String,
    pub address: String,
    pub accent: Option<Accent>,
    pub logo: Option<LogoInfo>,
    pub time_zone: Zone,
}

/// The longest company name, and the longest address (of at most [`MAX_ADDRESS_LINES`] lines).
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_ADDRESS_CHARS: usize = 500;
pub const MAX_ADDRESS_LINES: usize = 6;

/// The seller's company settings (admins).
pub async fn settings(db: &Db, actor: &Actor<'_>) -> ServiceResult<CompanySettings> {
    actor.require(Permission::AdminArea)?;
    let b = brand(db).await?;
    Ok(CompanySettings {
        name: b.name,
        address: invoices::setting(db, "seller.address").await?.unwrap_or_default(),
        accent: b.accent,
        logo: store::logo_info(db).await?,
        time_zone: b.time_zone,
    })
}

/// A change checked: what will be written. `accent: Some(None)` clears the accent.
#[derive(Clone, Debug, Default)]
pub struct CheckedChange {
    pub name: Option<String>,
    pub address: Option<String>,
    pub accent: Option<Option<Accent>>,
    /// `Some(None)` removes the logo.
    pub logo: Option<Option<Logo>>,
    pub time_zone: Option<Zone>,
}

/// Checks a change without writing anything (the admin's preview uses it too): every problem is
/// reported at once, each naming its field.
pub fn check_change(actor: &Actor<'_>, change: &CompanyChange) -> ServiceResult<CheckedChange> {
    actor.require(Permission::AdminArea)?;
    let name = change.name.as_deref().map(str::trim);
    let address = change.address.as_deref();
    let accent = change.accent.as_deref().map(str::trim);
    let lines: Vec<(&str, &str)> =
        [("name", name), ("accent", accent)].into_iter().filter_map(|(f, v)| v.map(|v| (f, v))).collect();
    let multiline: Vec<(&str, &str)> = address.map(|a| ("address", a)).into_iter().collect();
    check_texts(&lines, &multiline)?;
    let mut problems = Vec::new();
    if let Some(name) = name {
        if name.is_empty() {
            problems
                .push(("name".to_string(), "Give your company's name: it heads invoices and signs mails.".to_string()));
        } else if name.chars().count() > MAX_NAME_CHARS {
            problems.push(("name".to_string(), format!("The name is at most {MAX_NAME_CHARS} characters.")));
        }
    }
    let address = address.map(|a| a.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n"));
    if let Some(a) = &address {
        if a.lines().count() > MAX_ADDRESS_LINES {
            problems.push(("address".to_string(), format!("The address is at most {MAX_ADDRESS_LINES} lines.")));
        } else if a.lines().map(|l| l.chars().count()).sum::<usize>() > MAX_ADDRESS_CHARS {
            problems.push(("address".to_string(), format!("The address is at most {MAX_ADDRESS_CHARS} characters.")));
        }
    }
    let accent = match accent {
        None => None,
        Some("") => Some(None),
        Some(text) => match Accent::parse_readable(text) {
            Ok(a) => Some(Some(a)),
            Err(e) => {
                problems.push(("accent".to_string(), format!("Accent colour: {e}")));
                None
            }
        },
    };
    let logo = match &change.logo {
        LogoChange::Keep => None,
        LogoChange::Remove => Some(None),
        LogoChange::Upload(bytes) => match prepare_logo(bytes) {
            Ok(l) => Some(Some(l)),
            Err(e) => {
                problems.push(("logo".to_string(), format!("Logo: {e}")));
                None
            }
        },
    };
    let time_zone = match change.time_zone.as_deref().map(Zone::parse) {
        None => None,
        Some(Ok(z)) => Some(z),
        Some(Err(e)) => {
            problems.push(("time_zone".to_string(), e));
            None
        }
    };
    ServiceError::from_problems(problems)?;
    Ok(CheckedChange { name: name.map(str::to_string), address, accent, logo, time_zone })
}

/// Changes the seller's company settings (admins): the name and address that head invoices and
/// sign mails, and the brand on every page and mail. Checked whole first: a bad field changes
/// nothing. Audited (`seller.updated`, with what changed before and after).
pub async fn change(db: &Db, now: i64, actor: &Actor<'_>, change: &CompanyChange) -> ServiceResult<CompanySettings> {
    let checked = check_change(actor, change)?;
    db.write((now, actor.owned(), checked), |tx, (now, actor, c)| {
        Box::pin(async move {
            let mut before = serde_json::Map::new();
            let mut after = serde_json::Map::new();
            let old_logo = store::logo_info_tx(tx).await?;
            if let Some(name) = &c.name {
                after.insert("name".into(), json!(name));
                invoices::put_setting(tx, "seller.name", name).await?;
            }
            if let Some(address) = &c.address {
                after.insert("address".into(), json!(address));
                invoices::put_setting(tx, "seller.address", address).await?;
            }
            if let Some(zone) = &c.time_zone {
                after.insert("time_zone".into(), json!(zone.name()));
                invoices::put_setting(tx, "seller.time_zone", zone.name()).await?;
            }
            if let Some(accent) = &c.accent {
                after.insert("accent".into(), json!(accent.map(|a| a.hex())));
                invoices::put_setting(tx, "brand.accent", &accent.map(|a| a.hex()).unwrap_or_default()).await?;
            }
            if let Some(logo) = &c.logo {
                before.insert("logo".into(), json!(old_logo.as_ref().map(|l| &l.etag)));
                match logo {
                    Some(l) => {
                        after.insert(
                            "logo".into(),
                            json!({"etag": l.etag(), "content_type": l.format.content_type(), "width": l.width, "height": l.height, "size": l.bytes.len()}),
                        );
                        store::put_logo(tx, l.format.content_type(), &l.bytes, (l.width, l.height), &l.etag(), *now)
                            .await?;
                    }
                    None => {
                        after.insert("logo".into(), serde_json::Value::Null);
                        store::delete_logo(tx).await?;
                    }
                }
            }
            let before = (!before.is_empty()).then_some(serde_json::Value::Object(before));
            audit(
                tx,
                Some(&actor.actor()),
                *now,
                "seller.updated",
                ("settings", "seller"),
                before,
                Some(serde_json::Value::Object(after)),
            )
            .await?;
            Ok::<(), ServiceError>(())
        })
    })
    .await?;
    settings(db, actor).await
}

/// The logo of a preview, as a `data:` URL the page can show before it is saved (the CSP allows
/// `data:` images), and as base64 for the form to send again with Save.
pub fn logo_data(logo: &Logo) -> (String, String) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&logo.bytes);
    (format!("data:{};base64,{b64}", logo.format.content_type()), b64)
}

/// A logo sent again as base64 by a previewed form, or over the API.
pub fn decode_logo(b64: &str) -> Result<Vec<u8>, ServiceError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| ServiceError::invalid("logo", "Logo: the image data is not valid base64."))
}
