//! Headless Chromium through chromedriver, for the browser tests.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use serde_json::json;

/// Where Debian's `chromium` and `chromium-driver` packages put the programs.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process on a free loopback port, killed when dropped.
pub struct Chromedriver {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    child: Child,
    profiles: Vec<PathBuf>,
    sessions: Vec<String>,
    log_file: PathBuf,
}

impl Chromedriver {
    /// Starts chromedriver. Fails the test (never skips it) when Chromium or chromedriver are
    /// not installed.
    pub async fn start() -> Chromedriver {
        for (program, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing: the browser tests need it (`apt-get install -y {package}`; \
                 scripts/test installs it)"
            );
        }
        let port = crate::free_port();
        let log_file = std::env::temp_dir().join(format!("demarc-test-chromedriver-{port}.log"));
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log_file.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let driver = Chromedriver {
            url: format!("http://127.0.0.1:{port}"),
            child,
            profiles: vec![],
            sessions: vec![],
            log_file,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = reqwest::get(format!("{}/status", driver.url))
                .await
                .ok()
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ready {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {} within 20 s (log: {})",
                driver.url,
                driver.log_file.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new headless browser session with a fresh profile.
    pub async fn browser(&mut self) -> fantoccini::Client {
        let profile = std::env::temp_dir().join(format!(
            "demarc-test-chromium-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&profile).expect("profile folder");
        self.profiles.push(profile.clone());
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--window-size=1280,800",
        ];
        let mut all_args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all_args.push(format!("--user-data-dir={}", profile.display()));
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": CHROMIUM, "args": all_args }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = fantoccini::ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open a Chromium session (log: {}): {e}",
                    self.log_file.display()
                )
            });
        if let Ok(Some(id)) = client.session_id().await {
            self.sessions.push(id);
        }
        client
    }

    /// Ends a session the blocking way (from `Drop`, even while a failed test unwinds), so
    /// that Chromium quits before chromedriver is killed.
    fn delete_session(&self, id: &str) {
        use std::io::{Read, Write};
        let Some(addr) = self.url.strip_prefix("http://") else {
            return;
        };
        let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{id} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        for id in &self.sessions {
            self.delete_session(id);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for profile in &self.profiles {
            let _ = std::fs::remove_dir_all(profile);
        }
    }
}
