//! A static file server for the built site under a sub-path, as GitHub Pages serves it,
//! recording every path asked for.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub struct Server {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<String>>>,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

impl Server {
    /// Serves `root` at `http://127.0.0.1:PORT{prefix}` (`prefix` like `/mer/`).
    pub fn start(root: PathBuf, prefix: &'static str) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut r = BufReader::new(&stream);
                    let mut line = String::new();
                    if r.read_line(&mut line).is_err() {
                        return;
                    }
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).map_or(true, |n| n == 0) || h.trim().is_empty() {
                            break;
                        }
                    }
                    let path = line.split(' ').nth(1).unwrap_or("/").to_string();
                    log.lock().unwrap().push(path.clone());
                    let path = path.split('?').next().unwrap_or("/");
                    // Only plain relative paths inside the site: no `..`, no absolute path.
                    let file = path
                        .strip_prefix(prefix)
                        .filter(|rest| {
                            !rest.starts_with('/') && !rest.split('/').any(|s| s == "..")
                        })
                        .map(|rest| {
                            let rest = if rest.is_empty() { "index.html" } else { rest };
                            root.join(rest)
                        });
                    let mut out = &stream;
                    match file.and_then(|f| std::fs::read(&f).ok().map(|b| (f, b))) {
                        Some((f, body)) => {
                            let _ = write!(
                                out,
                                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
                                 Connection: close\r\n\r\n",
                                content_type(&f.to_string_lossy()),
                                body.len()
                            );
                            let _ = out.write_all(&body);
                        }
                        None => {
                            let _ = write!(
                                out,
                                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            );
                        }
                    }
                });
            }
        });
        Server { port, requests }
    }
}
