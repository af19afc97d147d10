//! The two channels: an e-mail over SMTP (lettre) and a signed webhook POST (reqwest).
//! An attempt answers `Ok` or the error to store; the dispatcher turns that into an outcome.

use crate::notifications::ERROR_CHARS;

use crate::notifications::Inner;

use crate::http::state::SmtpSettings;
use crate::http::state::SmtpTls;
use crate::notifications::TIMEOUT;
use custos_core::Timestamp;
use custos_core::notify::{Channel, ClaimedDelivery, Event};
use hmac::{Hmac, Mac};
use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

pub(super) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

pub(super) fn sender(smtp: &SmtpSettings) -> Result<Mailbox, String> {
    smtp.from.parse().map_err(|_| {
        format!(
            "smtp_from {:?} must be an address such as Custos <custos@example.org>",
            smtp.from
        )
    })
}

impl Inner {
    pub(super) async fn attempt(&self, c: &ClaimedDelivery, now: Timestamp) -> Result<(), String> {
        match c.delivery.channel {
            Channel::Email => self.send_email(c).await,
            Channel::Webhook => self.send_webhook(c, now).await,
        }
    }

    async fn send_email(&self, c: &ClaimedDelivery) -> Result<(), String> {
        let m = self
            .mailer
            .as_ref()
            .ok_or("e-mail is off (smtp_host is empty)")?;
        let to: Mailbox = c
            .delivery
            .target
            .parse()
            .map_err(|_| "the recipient address is not valid".to_string())?;
        let message = Message::builder()
            .from(m.from.clone())
            .to(to)
            .subject(subject(&c.event))
            .header(ContentType::TEXT_PLAIN)
            .body(email_body(&c.event, &self.public_url))
            .map_err(|e| format!("cannot build the message: {e}"))?;
        m.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {}", chain(&e)))
    }

    async fn send_webhook(&self, c: &ClaimedDelivery, now: Timestamp) -> Result<(), String> {
        let w = self
            .webhooks
            .iter()
            .find(|w| w.name == c.delivery.target)
            .ok_or("the webhook is no longer configured")?;
        let payload = c.event.webhook_payload(
            &c.delivery.event_id.to_string(),
            c.event_at.0,
            w.need_to_know,
        );
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        let timestamp = now.secs();
        let resp = self
            .http
            .post(&w.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Custos-Event", c.event.kind.as_str())
            .header("X-Custos-Delivery", c.delivery.id.to_string())
            .header("X-Custos-Timestamp", timestamp.to_string())
            .header(
                "X-Custos-Signature",
                format!("sha256={}", signature(w.secret.expose(), timestamp, &body)),
            )
            .body(body)
            .send()
            .await
            // The URL may carry a token: it stays out of stored errors and logs.
            .map_err(|e| chain(&e.without_url()))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "the webhook answered HTTP {}",
                resp.status().as_u16()
            ))
        }
    }
}

pub(super) fn mailer(s: &SmtpSettings) -> Result<Mailer, String> {
    let host = s.host.trim();
    // `builder_dangerous` only means "no TLS yet": the mode is set right below.
    let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host);
    let builder = match s.tls {
        SmtpTls::None => builder,
        SmtpTls::StartTls => builder.tls(Tls::Required(tls_parameters(s)?)),
        SmtpTls::Tls => builder.tls(Tls::Wrapper(tls_parameters(s)?)),
    };
    let mut builder = builder.port(s.port).timeout(Some(TIMEOUT));
    if !s.username.is_empty() {
        builder = builder.credentials(Credentials::new(
            s.username.clone(),
            s.password.expose().to_string(),
        ));
    }
    Ok(Mailer {
        transport: builder.build(),
        from: sender(s)?,
    })
}

/// TLS towards the relay: its certificate must be valid for `smtp_host` and chain to the
/// system's trust store or to a CA of `smtp_ca_file`.
fn tls_parameters(s: &SmtpSettings) -> Result<TlsParameters, String> {
    let mut b = TlsParameters::builder(s.host.trim().to_string());
    if !s.ca_file.is_empty() {
        let bad = |e: &dyn std::fmt::Display| format!("smtp_ca_file {}: {e}", s.ca_file);
        let pem = std::fs::read(&s.ca_file).map_err(|e| bad(&e))?;
        if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
            return Err(bad(&"no PEM certificate in it"));
        }
        b = b.add_root_certificate(Certificate::from_pem(&pem).map_err(|e| bad(&e))?);
    }
    b.build_rustls().map_err(|e| format!("smtp_tls: {e}"))
}

/// `hex(HMAC-SHA256(secret, "<timestamp>.<body>"))`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn subject(e: &Event) -> String {
    if e.subject.trim().is_empty() {
        format!("{} {}", e.reference, e.kind.as_str().replace('_', " "))
    } else {
        e.subject.clone()
    }
}

/// The event's text and, with a public URL, a link to the incident or problem.
fn email_body(e: &Event, public_url: &str) -> String {
    let section = match e.entity_type.as_str() {
        "incident" => Some("incidents"),
        "problem" => Some("problems"),
        _ => None,
    };
    let mut body = e.body.trim_end().to_string();
    if let Some(section) = section.filter(|_| !public_url.is_empty()) {
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        body.push_str(&format!("{public_url}/{section}/{}", e.entity_id));
    }
    body.push('\n');
    body
}

/// An error with its causes, `: `-separated.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}

pub(super) fn truncate(mut s: String) -> String {
    if let Some((i, _)) = s.char_indices().nth(ERROR_CHARS) {
        s.truncate(i);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use custos_core::notify::EventKind;

    fn event(entity_type: &str) -> Event {
        Event {
            kind: EventKind::Breach,
            entity_type: entity_type.into(),
            entity_id: "abc".into(),
            reference: "INC-000007".into(),
            subject: String::new(),
            body: "Resolution clock breached.".into(),
            users: vec![],
            roles: vec![],
            confidential: false,
        }
    }

    #[test]
    fn body_links_to_the_entity_when_a_public_url_is_set() {
        let e = event("incident");
        assert_eq!(
            email_body(&e, "https://c.example.org"),
            "Resolution clock breached.\n\nhttps://c.example.org/incidents/abc\n"
        );
        assert_eq!(email_body(&e, ""), "Resolution clock breached.\n");
        assert!(email_body(&event("problem"), "https://x.org").ends_with("/problems/abc\n"));
        assert_eq!(subject(&e), "INC-000007 breach");
    }

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently: HMAC-SHA256("Jefe", "1700000000.{"a":1}").
        assert_eq!(
            signature("Jefe", 1_700_000_000, br#"{"a":1}"#),
            "fa5f6481efc59da48b19c9dc10196c9953e5651f8304b3a318b6b87d70272e0a"
        );
    }

    #[test]
    fn errors_are_cut() {
        let long = "é".repeat(ERROR_CHARS + 10);
        assert_eq!(truncate(long).chars().count(), ERROR_CHARS + 1);
    }
}
