//! Customer email (CONTRACTS §10): order confirmed, shipped, a return's decision and a
//! refund, mailed to the order's customer over SMTP.
//!
//! The messages ride the webhook machinery: when the delivery worker fans an outbox
//! row out it also builds the row's message ([`Mailer::compose`]) and the store keeps
//! it in the same transaction; the worker's next step claims due messages and sends
//! them ([`Mailer::send`]), with the webhooks' backoff. A 4xx answer or an unreachable
//! server is retried; a 5xx answer is final and its reason kept for staff.
//!
//! - [`compose`]: which events mail, and what the templates see.
//! - [`templates`]: the built-in templates and a shop's overrides.
//!
//! Addresses are never logged: not the customer's, not in an SMTP server's answer.

pub mod compose;
pub mod templates;

use std::{path::PathBuf, time::Duration};

use anyhow::{anyhow, Context};
use gapless_store::{EmailClaim, NewEmail, OutboxMessage};
use lettre::{
    address::Envelope,
    message::{Mailbox, MultiPart},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use secrecy::{ExposeSecret, SecretString};

use crate::webhooks::render::Snapshot;
pub use templates::Templates;

/// `GAPLESS_SMTP_URL`, `GAPLESS_MAIL_FROM` and what goes with them.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://[user:pass@]host:port` (STARTTLS when the server offers it) or
    /// `smtps://…` (TLS from the start).
    pub smtp_url: SecretString,
    /// `Shop Name <orders@shop.example>` or a bare address.
    pub from: String,
    /// What the messages call the shop; the From name (or its domain) when unset.
    pub shop_name: Option<String>,
    /// A folder of templates replacing the built-in ones, file by file.
    pub templates: Option<PathBuf>,
    /// Longest an SMTP exchange may take.
    pub timeout: Duration,
}

/// Builds and sends the customer's messages.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The right-hand side of every Message-ID.
    domain: String,
    shop_name: String,
    templates: Templates,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("shop_name", &self.shop_name).finish_non_exhaustive()
    }
}

/// Why a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// A 5xx answer: sending it again would get the same.
    pub permanent: bool,
    /// The SMTP reply code, when the server answered: what the logs show.
    pub code: Option<String>,
    /// The whole answer or the connection error, for staff (it may name the address).
    pub reason: String,
}

impl Mailer {
    /// Checks the settings and the templates; every problem is an error here, at start.
    pub fn new(settings: &MailSettings) -> anyhow::Result<Mailer> {
        crate::tls::install_crypto_provider();
        let from: Mailbox = settings.from.trim().parse().map_err(|e| {
            anyhow!("GAPLESS_MAIL_FROM {:?} is not a mail address: {e}", settings.from)
        })?;
        let domain = from.email.domain().to_owned();
        let shop_name = settings
            .shop_name
            .clone()
            .or_else(|| from.name.clone())
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| domain.clone());
        let url = smtp_url(settings.smtp_url.expose_secret())?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .map_err(|e| anyhow!("GAPLESS_SMTP_URL is not usable: {e}"))?
            .timeout(Some(settings.timeout))
            .build();
        let templates = Templates::load(settings.templates.as_deref())?;
        Ok(Mailer { transport, from, domain, shop_name, templates })
    }

    /// The message `message`'s event sends the customer, if it sends one: `None` for
    /// an event that mails nobody or an order without an email address.
    pub fn compose(
        &self,
        message: &OutboxMessage,
        snapshot: &Snapshot,
    ) -> anyhow::Result<Option<NewEmail>> {
        let Some(kind) = compose::kind_of(&message.topic) else { return Ok(None) };
        let Some((recipient, context)) = compose::context(&self.shop_name, snapshot) else {
            return Ok(None);
        };
        let Ok(to) = recipient.parse::<Mailbox>() else {
            tracing::warn!(
                outbox_id = message.id,
                topic = %message.topic,
                "the customer's email address is not one SMTP takes; no message"
            );
            return Ok(None);
        };
        let rendered = self
            .templates
            .render(kind, &context)
            .map_err(|e| anyhow!("the {kind} email template: {e}"))?;
        let message_id = format!("<{}@{}>", message.event_id, self.domain);
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject.clone())
            .message_id(Some(message_id.clone()))
            .multipart(MultiPart::alternative_plain_html(rendered.text, rendered.html))
            .context("building the email")?;
        let wire = String::from_utf8(email.formatted()).context("the email is not text")?;
        let (order_number, rma) = match snapshot {
            Snapshot::Order { number, .. } => (number.as_str().to_owned(), None),
            Snapshot::Return { view, order_number, .. } => {
                (order_number.clone(), Some(view.rma.clone()))
            }
        };
        Ok(Some(NewEmail {
            order_number,
            rma,
            recipient,
            message_id,
            subject: rendered.subject,
            message: wire,
        }))
    }

    /// Hands one message to the SMTP server.
    pub async fn send(&self, claim: &EmailClaim) -> Result<(), SendError> {
        let to = claim.recipient.parse().map_err(|_| SendError {
            permanent: true,
            code: None,
            reason: "the recipient is not a mail address".into(),
        })?;
        let envelope = Envelope::new(Some(self.from.email.clone()), vec![to]).map_err(|e| {
            SendError { permanent: true, code: None, reason: format!("no envelope: {e}") }
        })?;
        match self.transport.send_raw(&envelope, claim.message.as_bytes()).await {
            Ok(_) => Ok(()),
            Err(error) => Err(SendError {
                permanent: error.is_permanent(),
                code: error.status().map(|code| code.to_string()),
                reason: error.to_string(),
            }),
        }
    }
}

/// CONTRACTS §10: `smtp://` uses STARTTLS when the server offers it (lettre's own
/// default for `smtp://` would be plain text throughout).
fn smtp_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim();
    let parsed = reqwest::Url::parse(url).map_err(|_| {
        anyhow!("GAPLESS_SMTP_URL is not a URL: use smtp://[user:pass@]host:port or smtps://…")
    })?;
    match parsed.scheme() {
        "smtp" if !parsed.query_pairs().any(|(k, _)| k == "tls") => {
            let mut parsed = parsed;
            parsed.query_pairs_mut().append_pair("tls", "opportunistic");
            Ok(parsed.to_string())
        }
        "smtp" | "smtps" => Ok(url.to_owned()),
        other => Err(anyhow!("GAPLESS_SMTP_URL has the scheme {other:?}: use smtp:// or smtps://")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str, from: &str) -> MailSettings {
        MailSettings {
            smtp_url: SecretString::from(url.to_owned()),
            from: from.to_owned(),
            shop_name: None,
            templates: None,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn smtp_urls_get_starttls_when_offered() {
        assert_eq!(
            smtp_url("smtp://u:p@mail.example:587").unwrap(),
            "smtp://u:p@mail.example:587?tls=opportunistic"
        );
        assert_eq!(smtp_url("smtp://h:25?tls=required").unwrap(), "smtp://h:25?tls=required");
        assert_eq!(smtp_url("smtps://h:465").unwrap(), "smtps://h:465");
        assert!(smtp_url("http://h").is_err());
        assert!(smtp_url("mail.example").is_err());
    }

    #[tokio::test]
    async fn the_shop_name_comes_from_the_sender_when_not_given() {
        let mailer =
            Mailer::new(&settings("smtp://127.0.0.1:2525", "Ada's Tees <o@tees.example>")).unwrap();
        assert_eq!(mailer.shop_name, "Ada's Tees");
        assert_eq!(mailer.domain, "tees.example");
        let bare = Mailer::new(&settings("smtp://127.0.0.1:2525", "o@tees.example")).unwrap();
        assert_eq!(bare.shop_name, "tees.example");
        assert!(Mailer::new(&settings("smtp://127.0.0.1:2525", "not an address")).is_err());
    }
}
