//! Sending mails: by SMTP (`PORTICO_SMTP_URL`: `smtps://user:password@host:465` for TLS,
//! `smtp://user:password@host:587?tls=required` for STARTTLS, `smtp://host:25` for a local relay),
//! or, with no SMTP server set, into the local mailbox: the mail is kept (status `kept`) for the
//! admin's "Sent mail" page and reaches nobody — the demo's mailbox, and a new install's until
//! SMTP is set up.

use crate::domain::mail::Sender as From;
use crate::service::mail::{self as service, ClaimedMail, MailNext};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where mail goes, from the settings.
#[derive(Clone, Debug, Default)]
pub struct MailSettings {
    /// `smtp://…` or `smtps://…`; `None`: the local mailbox.
    pub smtp_url: Option<String>,
    /// The address mails come from (`PORTICO_MAIL_FROM`); the seller's name is its display name.
    pub from_address: String,
    /// Keep one-time links in the mailbox's copies (the demo, whose mailbox stands in for the users').
    pub mailbox_shows_links: bool,
}

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Mailbox,
}

impl Mailer {
    pub fn new(settings: &MailSettings) -> Result<Mailer, String> {
        match &settings.smtp_url {
            None => Ok(Mailer::Mailbox),
            Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|b| Mailer::Smtp(b.timeout(Some(std::time::Duration::from_secs(30))).build()))
                .map_err(|e| format!("PORTICO_SMTP_URL: {e}")),
        }
    }

    /// Writes and sends one claimed mail; says what became of it. A failure to reach the server
    /// is retried; an address the server refuses outright is not.
    pub async fn deliver(&self, m: &ClaimedMail, from: &From, settings: &MailSettings, retry: Option<i64>) -> MailNext {
        let Ok(mail) = service::write(m, from) else {
            return MailNext::Cancelled("the link in it was used or replaced before it was sent".into());
        };
        let kept = service::kept_copy(m, &mail, settings.mailbox_shows_links);
        let at = super::now_ms() / 1000;
        let done = |status| MailNext::Done {
            status,
            subject: kept.subject.clone(),
            text: kept.text.clone(),
            html: kept.html.clone(),
            at,
        };
        let transport = match self {
            Mailer::Mailbox => return done("kept"),
            Mailer::Smtp(t) => t,
        };
        let failed = |why: String, permanent: bool| match (permanent, retry) {
            (false, Some(due)) => MailNext::RetryAt(due, why),
            _ => MailNext::Dead(why),
        };
        let display = if from.seller_name.is_empty() { None } else { Some(from.seller_name.clone()) };
        let sender = match settings.from_address.parse() {
            Ok(address) => Mailbox::new(display, address),
            Err(e) => {
                return failed(format!("PORTICO_MAIL_FROM “{}” is not an address: {e}", settings.from_address), false);
            }
        };
        let to = match m.to_email.parse() {
            Ok(address) => Mailbox::new(Some(m.to_name.clone()).filter(|n| !n.trim().is_empty()), address),
            Err(e) => return failed(format!("“{}” is not an e-mail address: {e}", m.to_email), true),
        };
        let message = Message::builder()
            .from(sender)
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()));
        let message = match message {
            Ok(msg) => msg,
            Err(e) => return failed(format!("the mail could not be built: {e}"), true),
        };
        match transport.send(message).await {
            Ok(_) => done("sent"),
            Err(e) => failed(format!("the SMTP server: {e}"), e.is_permanent()),
        }
    }
}
