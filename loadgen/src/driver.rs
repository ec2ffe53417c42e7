//! The external driver: a long-running process that runs operations of any protocol.
//! Requests go to its stdin and answers come from its stdout, one JSON object a line:
//! `{"id":1,"op":"create_group","vars":{…}}` → `{"id":1,"ok":true,"vars":{…}}` or
//! `{"id":1,"ok":false,"class":"authentication","message":"…"}`. An answer without
//! `id` belongs to the oldest open request (drivers that answer in order need not echo
//! it). When the process exits, every open and later request fails and the run ends.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::oneshot;

use crate::taxonomy::{Failure, TransportKind};
use crate::vars::Vars;

#[derive(Debug, Deserialize)]
struct Answer {
    id: Option<u64>,
    ok: bool,
    #[serde(default)]
    vars: BTreeMap<String, Value>,
    class: Option<String>,
    message: Option<String>,
}

type Reply = Result<BTreeMap<String, Value>, Failure>;

#[derive(Default)]
struct Pending {
    next_id: u64,
    open: BTreeMap<u64, oneshot::Sender<Reply>>,
}

pub struct Driver {
    stdin: tokio::sync::Mutex<ChildStdin>,
    pending: Arc<Mutex<Pending>>,
    dead: Arc<OnceLock<String>>,
    child: Mutex<Option<Child>>,
}

fn crashed(why: &str) -> Failure {
    Failure::Transport {
        kind: TransportKind::Other,
        message: format!("driver: {why}"),
    }
}

/// The last three lines the driver wrote to stderr, for the reason it stopped.
type StderrTail = Arc<Mutex<String>>;

/// Reads the driver's stderr to its end and keeps its last lines.
fn collect_stderr_tail(mut stderr: tokio::process::ChildStderr) -> StderrTail {
    let tail = StderrTail::default();
    let t = tail.clone();
    tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf).await;
        let text = String::from_utf8_lossy(&buf);
        let last: Vec<&str> = text.lines().rev().take(3).collect();
        *t.lock().unwrap_or_else(|e| e.into_inner()) =
            last.into_iter().rev().collect::<Vec<_>>().join(" | ");
    });
    tail
}

/// One answer line handed to the request it answers (its `id`, else the oldest open
/// one); a line that is not JSON fails that request as validation.
fn deliver(line: &str, pending: &Mutex<Pending>) {
    let answer: Result<Answer, _> = serde_json::from_str(line);
    let mut g = pending.lock().unwrap_or_else(|e| e.into_inner());
    let (id, reply) = match answer {
        Ok(a) => {
            let id = a.id.or_else(|| g.open.keys().next().copied());
            let reply = if a.ok {
                Ok(a.vars)
            } else {
                Err(Failure::Driver {
                    class: a.class,
                    message: a.message.unwrap_or_else(|| "failed".into()),
                })
            };
            (id, reply)
        }
        Err(e) => (
            g.open.keys().next().copied(),
            Err(Failure::Validation(format!(
                "driver answer is not JSON ({e}): {line:.80}"
            ))),
        ),
    };
    if let Some(tx) = id.and_then(|i| g.open.remove(&i)) {
        let _ = tx.send(reply);
    }
}

/// Reads answers until the driver's stdout ends, then records why it stopped and
/// fails every request still open.
async fn read_answers(
    stdout: tokio::process::ChildStdout,
    pending: Arc<Mutex<Pending>>,
    dead: Arc<OnceLock<String>>,
    stderr_tail: StderrTail,
) {
    let mut lines = BufReader::new(stdout).lines();
    let why = loop {
        match lines.next_line().await {
            Ok(Some(line)) if line.trim().is_empty() => continue,
            Ok(Some(line)) => deliver(&line, &pending),
            Ok(None) => break "closed its stdout".to_string(),
            Err(e) => break format!("reading its stdout: {e}"),
        }
    };
    // Give the stderr reader a moment to collect the last words.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let t = stderr_tail
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let why = if t.is_empty() {
        why
    } else {
        format!("{why}; stderr: {t}")
    };
    let _ = dead.set(why.clone());
    let mut g = pending.lock().unwrap_or_else(|e| e.into_inner());
    for (_, tx) in std::mem::take(&mut g.open) {
        let _ = tx.send(Err(crashed(&why)));
    }
}

impl Driver {
    pub fn start(command: &[String]) -> Result<Arc<Self>, String> {
        let (prog, args) = command.split_first().ok_or("driver.command is empty")?;
        let mut child = Command::new(prog)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting driver `{prog}`: {e}"))?;
        let stdin = child.stdin.take().ok_or("driver stdin")?;
        let stdout = child.stdout.take().ok_or("driver stdout")?;
        let stderr = child.stderr.take().ok_or("driver stderr")?;
        let pending = Arc::new(Mutex::new(Pending::default()));
        let dead = Arc::new(OnceLock::new());
        let stderr_tail = collect_stderr_tail(stderr);
        tokio::spawn(read_answers(
            stdout,
            pending.clone(),
            dead.clone(),
            stderr_tail,
        ));
        Ok(Arc::new(Self {
            stdin: tokio::sync::Mutex::new(stdin),
            pending,
            dead,
            child: Mutex::new(Some(child)),
        }))
    }

    /// Why the driver stopped, once it has.
    pub fn dead(&self) -> Option<String> {
        self.dead.get().cloned()
    }

    /// Runs `op` with the iteration's variables; answered variables are merged back.
    pub async fn call(
        &self,
        op: &str,
        vars: &mut Vars<'_>,
        extra: &[(String, String)],
    ) -> Result<(), Failure> {
        if let Some(why) = self.dead() {
            return Err(crashed(&why));
        }
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut g = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            g.next_id += 1;
            let id = g.next_id;
            g.open.insert(id, tx);
            id
        };
        let mut sent: serde_json::Map<String, Value> =
            vars.all().into_iter().map(|(k, v)| (k, json!(v))).collect();
        for (k, v) in extra {
            sent.insert(k.clone(), json!(v));
        }
        let mut line = json!({"id": id, "op": op, "vars": sent}).to_string();
        line.push('\n');
        let write = {
            let mut w = self.stdin.lock().await;
            match w.write_all(line.as_bytes()).await {
                Ok(()) => w.flush().await,
                Err(e) => Err(e),
            }
        };
        if let Err(e) = write {
            self.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .open
                .remove(&id);
            return Err(crashed(&format!("writing to it: {e}")));
        }
        let reply = rx
            .await
            .map_err(|_| crashed(&self.dead().unwrap_or_else(|| "stopped".into())))?;
        for (k, v) in reply? {
            let text = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            vars.set(k, text);
        }
        Ok(())
    }

    /// Closes stdin and waits briefly for the process to exit, then kills it.
    pub async fn stop(&self) {
        let _ = self.stdin.lock().await.shutdown().await;
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut c) = child {
            if tokio::time::timeout(std::time::Duration::from_secs(2), c.wait())
                .await
                .is_err()
            {
                let _ = c.kill().await;
            }
        }
    }
}
