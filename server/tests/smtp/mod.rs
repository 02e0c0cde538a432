//! A small SMTP server on loopback for the tests: enough of RFC 5321 for lettre (EHLO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT), no TLS, no AUTH. It keeps every message it
//! accepts and answers each DATA as the test asks (accept, 4xx, 5xx), optionally after
//! a pause so that messages queue up.
//!
//! Shared by the API tests and the crash tests.

#![allow(dead_code)]

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// The answer to the n-th DATA (0-based), across connections.
pub type Behaviour = Arc<dyn Fn(usize) -> Reply + Send + Sync>;

#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Accept,
    /// A 4xx or 5xx answer with its text.
    Refuse(u16, &'static str),
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as received, dot-unstuffed, CRLF line ends.
    pub data: String,
}

#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    accepted: Arc<Mutex<Vec<Mail>>>,
    datas: Arc<AtomicUsize>,
}

impl SmtpServer {
    pub async fn start(behaviour: Behaviour) -> SmtpServer {
        SmtpServer::start_on(0, behaviour, Duration::ZERO).await
    }

    /// A free port nobody listens on (yet): an SMTP server that is down.
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    /// Listens on `port` (0: any), answering each DATA after `pause`.
    pub async fn start_on(port: u16, behaviour: Behaviour, pause: Duration) -> SmtpServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let server = SmtpServer {
            port: listener.local_addr().unwrap().port(),
            accepted: Arc::default(),
            datas: Arc::default(),
        };
        let shared = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (server, behaviour) = (shared.clone(), behaviour.clone());
                tokio::spawn(async move {
                    let _ = server.session(stream, behaviour, pause).await;
                });
            }
        });
        server
    }

    pub fn always_accept() -> Behaviour {
        Arc::new(|_| Reply::Accept)
    }

    pub fn url(&self) -> String {
        url(self.port)
    }

    pub fn accepted(&self) -> Vec<Mail> {
        self.accepted.lock().unwrap().clone()
    }

    /// Messages offered (DATA sent), accepted or not.
    pub fn offered(&self) -> usize {
        self.datas.load(Ordering::SeqCst)
    }

    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Mail]) -> bool) -> Vec<Mail> {
        for _ in 0..600 {
            let got = self.accepted();
            if done(&got) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}; got {:#?}", self.accepted());
    }

    async fn session(
        &self,
        stream: TcpStream,
        behaviour: Behaviour,
        pause: Duration,
    ) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 test.local ESMTP ready\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_owned();
            let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            let answer: &[u8] = match verb.as_str() {
                "EHLO" => b"250-test.local\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                "HELO" | "NOOP" => b"250 ok\r\n",
                "RSET" => {
                    (from, to) = (String::new(), Vec::new());
                    b"250 ok\r\n"
                }
                "MAIL" => {
                    from = address(&command);
                    b"250 ok\r\n"
                }
                "RCPT" => {
                    to.push(address(&command));
                    b"250 ok\r\n"
                }
                "DATA" => {
                    write.write_all(b"354 go on\r\n").await?;
                    let mut data = String::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).await? == 0 {
                            return Ok(());
                        }
                        if line == ".\r\n" || line == ".\n" {
                            break;
                        }
                        data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    }
                    let n = self.datas.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(pause).await;
                    let answer = match behaviour(n) {
                        Reply::Accept => {
                            let mail = Mail { from: from.clone(), to: to.clone(), data };
                            self.accepted.lock().unwrap().push(mail);
                            "250 2.0.0 queued\r\n".to_owned()
                        }
                        Reply::Refuse(code, text) => format!("{code} {text}\r\n"),
                    };
                    (from, to) = (String::new(), Vec::new());
                    write.write_all(answer.as_bytes()).await?;
                    continue;
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await?;
                    return Ok(());
                }
                _ => b"502 not implemented\r\n",
            };
            write.write_all(answer).await?;
        }
    }
}

pub fn url(port: u16) -> String {
    format!("smtp://127.0.0.1:{port}")
}

/// `MAIL FROM:<a@b> SIZE=1` → `a@b`.
fn address(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..].find('>').map_or(command.len(), |i| start + i);
    command[start..end].to_owned()
}

impl Mail {
    /// A top-level header, unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    }

    /// The decoded body of the part with this content type (`text/plain`, `text/html`).
    pub fn part(&self, content_type: &str) -> Option<String> {
        self.data.split("\r\n--").find_map(|chunk| {
            let (head, body) = chunk.split_once("\r\n\r\n")?;
            let head = head.to_ascii_lowercase();
            if !head.contains(&format!("content-type: {content_type}")) {
                return None;
            }
            Some(if head.contains("content-transfer-encoding: quoted-printable") {
                quoted_printable(body)
            } else if head.contains("content-transfer-encoding: base64") {
                use base64::Engine;
                let joined: String = body.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD.decode(joined).unwrap();
                String::from_utf8(bytes).unwrap()
            } else {
                body.to_owned()
            })
        })
    }
}

fn quoted_printable(text: &str) -> String {
    let text = text.replace("=\r\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() + 1 {
            if let Ok(byte) = u8::from_str_radix(&text[i + 1..(i + 3).min(text.len())], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
