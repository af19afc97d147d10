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

/// A tiny SMTP server: greeting, EHLO/HELO, MAIL, RCPT, DATA … `.`, RSET, NOOP, QUIT.
pub async fn smtp_sink() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let kept = mails.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let mails = kept.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut rcpts = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 sink\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        rcpts.clear();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        let addr = line[8..].trim().trim_start_matches('<');
                        rcpts.push(addr.split('>').next().unwrap().to_string());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        w.write_all(b"354 end with .\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        mails.lock().unwrap().push(Mail {
                            rcpts: std::mem::take(&mut rcpts),
                            data,
                        });
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else if upper == "RSET" || upper == "NOOP" {
                        b"250 OK\r\n"
                    } else {
                        b"500 unknown command\r\n"
                    };
                    if w.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, mails)
}

/// A request the webhook receiver got: headers of interest, the JSON body, and whether
/// the signature verified with the expected secret.
#[derive(Debug, Clone)]
pub struct Hook {
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
                    let secret = if name == "ops" {
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
