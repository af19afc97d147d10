//! In-test notification receivers: an SMTP sink that records messages and a webhook
//! receiver that checks signatures and answers with a chosen status.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One message the SMTP sink accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    pub rcpts: Vec<String>,
    pub data: String,
}

/// How the sink speaks: plain SMTP, plain with STARTTLS offered (and then required for
/// mail), or TLS from the first byte. TLS uses the test certificate for `localhost` and
/// 127.0.0.1 (`fixtures/tls`), signed by the test CA in `fixtures/tls/ca.pem`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SinkTls {
    None,
    StartTls,
    Implicit,
}

/// The test CA that signed the sink's certificate (for `smtp_ca_file`).
pub const TEST_CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/fixtures/tls/ca.pem");

fn acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/fixtures/tls");
    let certs = CertificateDer::pem_file_iter(format!("{dir}/server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(format!("{dir}/server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A tiny SMTP server: greeting, EHLO/HELO, MAIL, RCPT, DATA … `.`, RSET, NOOP, QUIT.
pub async fn smtp_sink() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    smtp_sink_with(SinkTls::None).await
}

/// [`smtp_sink`] speaking `tls`. Over STARTTLS it refuses mail before the upgrade.
pub async fn smtp_sink_with(tls: SinkTls) -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let kept = mails.clone();
    let acceptor = (tls != SinkTls::None).then(acceptor);
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let mails = kept.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match (tls, acceptor) {
                    (SinkTls::Implicit, Some(a)) => {
                        if let Ok(s) = a.accept(sock).await {
                            dialog(s, &mails, false, true).await;
                        }
                    }
                    (SinkTls::StartTls, Some(a)) => {
                        if let Some(sock) = dialog(sock, &mails, true, true).await
                            && let Ok(s) = a.accept(sock).await
                        {
                            dialog(s, &mails, false, false).await;
                        }
                    }
                    _ => {
                        dialog(sock, &mails, false, true).await;
                    }
                }
            });
        }
    });
    (port, mails)
}

/// One SMTP session on `sock`. With `offer_starttls` it offers STARTTLS, takes no mail,
/// and on STARTTLS hands the connection back for the upgrade.
async fn dialog<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    sock: S,
    mails: &Mutex<Vec<Mail>>,
    offer_starttls: bool,
    greet: bool,
) -> Option<S> {
    let mut io = BufReader::new(sock);
    if greet {
        io.get_mut().write_all(b"220 sink ESMTP\r\n").await.ok()?;
    }
    let mut rcpts = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if io.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let l = line.trim_end_matches(['\r', '\n']).to_string();
        let upper = l.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            if offer_starttls {
                b"250-sink\r\n250 STARTTLS\r\n"
            } else {
                b"250 sink\r\n"
            }
        } else if upper == "STARTTLS" && offer_starttls {
            io.get_mut().write_all(b"220 ready\r\n").await.ok()?;
            return Some(io.into_inner());
        } else if offer_starttls && (upper.starts_with("MAIL") || upper.starts_with("RCPT")) {
            b"530 STARTTLS first\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            rcpts.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            let addr = l[8..].trim().trim_start_matches('<');
            rcpts.push(addr.split('>').next().unwrap().to_string());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            io.get_mut().write_all(b"354 end with .\r\n").await.ok()?;
            let mut data = String::new();
            loop {
                line.clear();
                if io.read_line(&mut line).await.ok()? == 0 {
                    return None;
                }
                let l = line.trim_end_matches(['\r', '\n']);
                if l == "." {
                    break;
                }
                data.push_str(l);
                data.push('\n');
            }
            mails.lock().unwrap().push(Mail {
                rcpts: std::mem::take(&mut rcpts),
                data,
            });
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            let _ = io.get_mut().write_all(b"221 bye\r\n").await;
            return None;
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 OK\r\n"
        } else {
            b"500 unknown command\r\n"
        };
        io.get_mut().write_all(reply).await.ok()?;
    }
}

/// A request the webhook receiver got: headers of interest, the JSON body, and whether
/// the signature verified with the expected secret.
#[derive(Debug, Clone)]
pub struct Hook {
    /// The webhook's name (the last segment of its URL).
    pub name: String,
    pub event: String,
    pub delivery: String,
    pub body: Value,
    pub signature_ok: bool,
}

pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Hook>>>,
    /// The status it answers with.
    pub status: Arc<AtomicU16>,
}

pub const SECRET: &str = "s3cret-for-ops";

fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(hex_sig) = h("x-custos-signature").strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{}.", h("x-custos-timestamp")).as_bytes());
    mac.update(body);
    h("content-type") == "application/json" && mac.verify_slice(&sig).is_ok()
}

pub async fn receiver() -> Receiver {
    let got = Arc::new(Mutex::new(Vec::new()));
    let status = Arc::new(AtomicU16::new(200));
    let (g, s) = (got.clone(), status.clone());
    let app = axum::Router::new().route(
        "/hook/{name}",
        axum::routing::post(
            move |axum::extract::Path(name): axum::extract::Path<String>,
                  headers: HeaderMap,
                  body: Bytes| {
                let (g, s) = (g.clone(), s.clone());
                async move {
                    let secret = if name == "ops" || name == "soc" {
                        SECRET
                    } else {
                        "other-secret"
                    };
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string()
                    };
                    g.lock().unwrap().push(Hook {
                        name: name.clone(),
                        event: h("x-custos-event"),
                        delivery: h("x-custos-delivery"),
                        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                        signature_ok: verify(secret, &headers, &body),
                    });
                    AxumStatus::from_u16(s.load(Ordering::SeqCst)).unwrap()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver {
        url: format!("http://{addr}/hook"),
        got,
        status,
    }
}
