//! E-mail, as rules: which events mail whom, which mails a user may turn off, and what each mail
//! says (plain text and HTML, the seller's name and address in the footer). No I/O: the service
//! gathers the facts, `jobs::mail` sends.

/// What a mail is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailKind {
    Invitation,
    PasswordReset,
    OrderPlaced,
    ApprovalNeeded,
    QuoteSent,
    Shipped,
    InvoiceIssued,
    Statement,
}

impl MailKind {
    pub const ALL: [MailKind; 8] = [
        MailKind::Invitation,
        MailKind::PasswordReset,
        MailKind::OrderPlaced,
        MailKind::ApprovalNeeded,
        MailKind::QuoteSent,
        MailKind::Shipped,
        MailKind::InvoiceIssued,
        MailKind::Statement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Invitation => "invitation",
            MailKind::PasswordReset => "password_reset",
            MailKind::OrderPlaced => "order_placed",
            MailKind::ApprovalNeeded => "approval_needed",
            MailKind::QuoteSent => "quote_sent",
            MailKind::Shipped => "shipped",
            MailKind::InvoiceIssued => "invoice_issued",
            MailKind::Statement => "statement",
        }
    }

    pub fn parse(s: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the notification settings call it.
    pub fn label(self) -> &'static str {
        match self {
            MailKind::Invitation => "Invitations",
            MailKind::PasswordReset => "Password resets",
            MailKind::OrderPlaced => "Order confirmations (and, for reps, orders placed in your accounts)",
            MailKind::ApprovalNeeded => "Orders waiting for your approval",
            MailKind::QuoteSent => "Quotes ready for you",
            MailKind::Shipped => "Shipments of your orders",
            MailKind::InvoiceIssued => "New invoices",
            MailKind::Statement => "Account statements",
        }
    }

    /// Mails a user cannot turn off: without them nobody could sign in.
    pub fn essential(self) -> bool {
        matches!(self, MailKind::Invitation | MailKind::PasswordReset)
    }

    /// The mail an event sends, if any.
    pub fn for_event(event_type: &str) -> Option<MailKind> {
        Some(match event_type {
            "user.invited" => MailKind::Invitation,
            "user.password_reset_requested" => MailKind::PasswordReset,
            "order.placed" => MailKind::OrderPlaced,
            "order.approval_requested" => MailKind::ApprovalNeeded,
            "quote.sent" => MailKind::QuoteSent,
            "order.shipped" | "order.partially_shipped" => MailKind::Shipped,
            "invoice.issued" => MailKind::InvoiceIssued,
            "statement.sent" => MailKind::Statement,
            _ => return None,
        })
    }
}

/// The kinds a user turned off, as stored (space-separated); essential kinds are never in it.
pub fn parse_opt_outs(text: &str) -> Vec<MailKind> {
    text.split_whitespace().filter_map(MailKind::parse).filter(|k| !k.essential()).collect()
}

pub fn opt_outs_text(kinds: &[MailKind]) -> String {
    let mut names: Vec<&str> = kinds.iter().filter(|k| !k.essential()).map(|k| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

/// Whether `kind` goes to a user who turned off `opt_outs`.
pub fn wanted(kind: MailKind, opt_outs: &str) -> bool {
    kind.essential() || !parse_opt_outs(opt_outs).contains(&kind)
}

/// Who sends, and where links lead.
#[derive(Clone, Debug)]
pub struct Sender {
    pub seller_name: String,
    /// Lines of the seller's postal address.
    pub seller_address: String,
    /// Portico's public URL, without a trailing slash.
    pub base_url: String,
    /// The seller's accent colour (`#rrggbb`), for the mail's button.
    pub accent: Option<String>,
    /// The path of the seller's logo (`/brand/logo?v=…`), shown under the base URL.
    pub logo_path: Option<String>,
}

/// A mail, written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a mail says: a greeting, paragraphs, one call to action, facts as label/value rows.
pub struct Content<'a> {
    pub kind: MailKind,
    pub to_name: &'a str,
    pub subject: String,
    pub paragraphs: Vec<String>,
    pub facts: Vec<(&'static str, String)>,
    /// (button text, path under the base URL).
    pub action: Option<(&'static str, String)>,
}

/// `&`, `<`, `>`, `"` and `'` as HTML entities.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes the mail: plain text and HTML saying the same, with the seller in the footer and, for a
/// mail the user may turn off, where to do so.
pub fn compose(from: &Sender, c: &Content<'_>) -> Composed {
    let seller = if from.seller_name.is_empty() { "Portico" } else { from.seller_name.as_str() };
    let greeting =
        if c.to_name.trim().is_empty() { "Hello,".to_string() } else { format!("Hello {},", c.to_name.trim()) };
    let link = c.action.as_ref().map(|(label, path)| (*label, format!("{}{}", from.base_url, path)));
    let address: Vec<&str> = from.seller_address.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let why = if c.kind.essential() {
        "You receive this e-mail because of a request for your account.".to_string()
    } else {
        format!(
            "You receive this e-mail because {} is turned on in your notification settings: {}/me/notifications",
            c.kind.label().to_lowercase(),
            from.base_url
        )
    };

    let mut text = format!("{greeting}\n\n");
    for p in &c.paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
    }
    for (label, value) in &c.facts {
        text.push_str(&format!("{label}: {value}\n"));
    }
    if !c.facts.is_empty() {
        text.push('\n');
    }
    if let Some((label, url)) = &link {
        text.push_str(&format!("{label}: {url}\n\n"));
    }
    text.push_str(&format!("— {seller}\n"));
    for line in &address {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!("\n{why}\n\nPowered by Portico\n"));

    let mut html = String::from(
        "<!doctype html><html><body style=\"margin:0;padding:24px;background:#f5f6f8;font-family:Arial,Helvetica,sans-serif;color:#1f2937\">",
    );
    html.push_str("<div style=\"max-width:560px;margin:0 auto;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:24px\">");
    if let Some(path) = &from.logo_path {
        html.push_str(&format!(
            "<p style=\"margin:0 0 8px\"><img src=\"{}{}\" alt=\"\" height=\"40\" style=\"height:40px;width:auto;border:0\"></p>",
            escape(&from.base_url),
            escape(path)
        ));
    }
    html.push_str(&format!("<p style=\"font-weight:bold;font-size:18px;margin:0 0 16px\">{}</p>", escape(seller)));
    html.push_str(&format!("<p>{}</p>", escape(&greeting)));
    for p in &c.paragraphs {
        html.push_str(&format!("<p>{}</p>", escape(p)));
    }
    if !c.facts.is_empty() {
        html.push_str("<table style=\"border-collapse:collapse;margin:8px 0 16px\">");
        for (label, value) in &c.facts {
            html.push_str(&format!(
                "<tr><td style=\"padding:2px 16px 2px 0;color:#6b7280\">{}</td><td style=\"padding:2px 0\"><strong>{}</strong></td></tr>",
                escape(label),
                escape(value)
            ));
        }
        html.push_str("</table>");
    }
    if let Some((label, url)) = &link {
        html.push_str(&format!(
            "<p><a href=\"{}\" style=\"display:inline-block;background:{};color:#fff;text-decoration:none;padding:10px 16px;border-radius:6px\">{}</a></p>",
            escape(url),
            escape(from.accent.as_deref().unwrap_or("#1d4ed8")),
            escape(label)
        ));
    }
    html.push_str("<hr style=\"border:0;border-top:1px solid #e5e7eb;margin:24px 0 12px\">");
    html.push_str(&format!("<p style=\"font-size:12px;color:#6b7280;margin:0\">{}", escape(seller)));
    for line in &address {
        html.push_str(&format!("<br>{}", escape(line)));
    }
    html.push_str(&format!("</p><p style=\"font-size:12px;color:#6b7280\">{}</p>", escape(&why)));
    html.push_str("<p style=\"font-size:11px;color:#6b7280;margin:0\">Powered by Portico</p></div></body></html>");
    Composed { subject: c.subject.clone(), text, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender() -> Sender {
        Sender {
            seller_name: "Meridian <Supply> & Co".into(),
            seller_address: "1 Main St\nSpringfield, IL 62701".into(),
            base_url: "https://portal.example.com".into(),
            accent: None,
            logo_path: None,
        }
    }

    #[test]
    fn events_map_to_mails_and_only_non_essential_ones_can_be_turned_off() {
        assert_eq!(MailKind::for_event("order.placed"), Some(MailKind::OrderPlaced));
        assert_eq!(MailKind::for_event("order.partially_shipped"), Some(MailKind::Shipped));
        assert_eq!(MailKind::for_event("stock.changed"), None);
        let stored =
            opt_outs_text(&[MailKind::Shipped, MailKind::Invitation, MailKind::OrderPlaced, MailKind::Shipped]);
        assert_eq!(stored, "order_placed shipped");
        assert!(!wanted(MailKind::Shipped, &stored));
        assert!(wanted(MailKind::InvoiceIssued, &stored));
        // An essential kind written in by hand is still sent.
        assert!(wanted(MailKind::PasswordReset, "password_reset invitation"));
        for k in MailKind::ALL {
            assert_eq!(MailKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn a_mail_says_the_same_in_text_and_html_with_the_seller_in_the_footer() {
        let c = Content {
            kind: MailKind::Shipped,
            to_name: "Aisha <b>",
            subject: "Order SO-100001 shipped".into(),
            paragraphs: vec!["Your order is on its way.".into()],
            facts: vec![("Tracking", "1Z999".into())],
            action: Some(("Track your order", "/portal/orders/SO-100001".into())),
        };
        let m = compose(&sender(), &c);
        assert!(m.text.starts_with("Hello Aisha <b>,\n\nYour order is on its way."), "{}", m.text);
        assert!(m.text.contains("Tracking: 1Z999"));
        assert!(m.text.contains("Track your order: https://portal.example.com/portal/orders/SO-100001"));
        assert!(m.text.contains("— Meridian <Supply> & Co\n1 Main St\nSpringfield, IL 62701"));
        assert!(m.text.contains("/me/notifications"));
        // The HTML escapes what it shows.
        assert!(m.html.contains("Hello Aisha &lt;b&gt;,"));
        assert!(m.html.contains("Meridian &lt;Supply&gt; &amp; Co"));
        assert!(m.html.contains("href=\"https://portal.example.com/portal/orders/SO-100001\""));
        assert!(!m.html.contains("<b>"));
        // An essential mail does not offer to turn it off.
        let invite = compose(&sender(), &Content { kind: MailKind::Invitation, ..c });
        assert!(!invite.text.contains("/me/notifications"));
    }
}
