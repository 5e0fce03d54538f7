//! A minimal W3C WebDriver client over HTTP/1.1, enough to drive chromedriver.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One request to the driver at `port`; returns the response's `value`.
fn request(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut r = BufReader::new(s);
    let mut status = String::new();
    r.read_line(&mut status).map_err(|e| e.to_string())?;
    let mut length = None;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut buf = Vec::new();
    match length {
        Some(n) => {
            buf.resize(n, 0);
            r.read_exact(&mut buf).map_err(|e| e.to_string())?;
        }
        None => {
            r.read_to_end(&mut buf).map_err(|e| e.to_string())?;
        }
    }
    let v: Value = serde_json::from_slice(&buf).map_err(|e| format!("{status}: {e}"))?;
    if !status.contains(" 200") {
        return Err(format!("{} {path}: {}", status.trim(), v["value"]));
    }
    Ok(v["value"].clone())
}

/// A browser session.
pub struct Session {
    port: u16,
    id: String,
}

impl Session {
    /// Waits for the driver at `port`, then opens Chromium with `args`.
    pub fn start(port: u16, chromium: &str, args: &[String]) -> Session {
        let t0 = Instant::now();
        while request(port, "GET", "/status", None).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        }}});
        let v = request(port, "POST", "/session", Some(&caps)).expect("new session");
        Session {
            port,
            id: v["sessionId"].as_str().expect("session id").to_string(),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.id);
        request(self.port, method, &path, body.as_ref())
            .unwrap_or_else(|e| panic!("webdriver {method} {path}: {e}"))
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub fn run(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Polls `script` until it returns something other than null or false.
    pub fn wait_for(&self, what: &str, script: &str, timeout: Duration) -> Value {
        let t0 = Instant::now();
        loop {
            let v = self.run(script, json!([]));
            if !(v.is_null() || v == Value::Bool(false)) {
                return v;
            }
            assert!(
                t0.elapsed() < timeout,
                "timed out waiting for {what}; page says: {}",
                self.run(
                    "return document.querySelector('#status')?.textContent + ' / ' + \
                     document.querySelector('#error')?.textContent",
                    json!([])
                )
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `text` into the element matching `css` (for a file input: a path to upload).
    pub fn send_keys(&self, css: &str, text: &str) {
        let e = self.call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        let id = e
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("element id")
            .to_string();
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let b64 = self.call("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().expect("base64"))
            .expect("PNG")
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = request(self.port, "DELETE", &format!("/session/{}", self.id), None);
    }
}
