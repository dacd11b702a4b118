//! The real server binary as its own process, on a free port: for what only a process shows
//! (memory, signals, a kill mid-load, several instances on one database).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Process {
    pub child: Child,
    /// `http://127.0.0.1:<port>`, where it listens.
    pub base: String,
    /// Its folder (database file, key file); removed with the process when it is its own.
    pub dir: PathBuf,
    owns_dir: bool,
}

impl Process {
    /// Starts the server with exactly these variables (and `PATH`), and waits until it says
    /// where it listens. `owns_dir`: `dir` goes when the process does.
    pub fn spawn(vars: &[(&str, String)], dir: PathBuf, owns_dir: bool) -> Process {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HELPDESK_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in out.lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.split("listening on ").nth(1) {
                    let addr: String = at.chars().take_while(|c| !c.is_whitespace()).collect();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr);
                    }
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server says where it listens");
        Process {
            child,
            base: format!("http://{addr}"),
            dir,
            owns_dir,
        }
    }

    /// SIGKILL: no shutdown, no cleanup, as a crash or the OOM killer ends a process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The most memory the process has held (VmHWM), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kb * 1024
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
