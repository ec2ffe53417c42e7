//! The service under test: started in its own process group, probed until ready, and
//! stopped (SIGTERM to the group, SIGKILL after `stop_timeout`) — or killed when its
//! handle is dropped, so a failed job never leaves a server listening.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::Child;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::definition::ServiceStep;
use crate::duration;
use crate::group::{exit_code, Group};
use crate::output::{pump, Capture, LogSink, Stream};
use crate::process::{shell, spawn, StepError};

/// Pause between readiness probes.
const PROBE_EVERY: Duration = Duration::from_millis(100);
/// Longest single probe attempt.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A running, ready service. Stop it with [`ServiceHandle::stop`]; dropping it kills
/// its process group.
pub struct ServiceHandle {
    name: String,
    child: Child,
    group: Group,
    stop_timeout: Duration,
    sink: Arc<dyn LogSink>,
    capture: Arc<Capture>,
    pumps: Vec<JoinHandle<()>>,
    ready_after: Duration,
}

impl std::fmt::Debug for ServiceHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceHandle")
            .field("name", &self.name)
            .field("pid", &self.group.pid())
            .finish()
    }
}

impl ServiceHandle {
    /// The service's pid (also its process group id), for procfs probes.
    pub fn pid(&self) -> u32 {
        self.group.pid()
    }

    /// How long it took to become ready.
    pub fn ready_after(&self) -> Duration {
        self.ready_after
    }

    /// The exit code if the service has exited (it should not have, during a load).
    pub fn exited(&mut self) -> Option<i32> {
        match self.child.try_wait() {
            Ok(Some(s)) => Some(exit_code(&s)),
            _ => None,
        }
    }

    /// The last lines the service printed.
    pub fn tail(&self) -> String {
        self.capture.tail()
    }

    /// SIGTERM to the group, SIGKILL after `stop_timeout`; returns the leader's exit
    /// code (143 = it obeyed SIGTERM by dying of it).
    pub async fn stop(mut self) -> i32 {
        let code = self
            .group
            .terminate(&mut self.child, self.stop_timeout)
            .await;
        for p in self.pumps.drain(..) {
            // The group is dead; its pipes close at once unless something escaped it.
            let _ = tokio::time::timeout(Duration::from_secs(1), p).await;
        }
        self.sink.line(
            &self.name,
            Stream::System,
            &format!("stopped (exit {code})"),
        );
        code
    }
}

impl Drop for ServiceHandle {
    fn drop(&mut self) {
        for p in &self.pumps {
            p.abort();
        }
        // `group`'s own Drop SIGKILLs the group; `child` has kill_on_drop.
    }
}

/// [`start_service_named`] with the step name `service`.
pub async fn start_service(
    svc: &ServiceStep,
    cwd: &Path,
    extra_env: &[(String, String)],
    sink: Arc<dyn LogSink>,
    cancel: &CancellationToken,
) -> Result<ServiceHandle, StepError> {
    start_service_named("service", svc, cwd, extra_env, sink, cancel).await
}

/// Starts the service in `cwd` and waits until its probe answers: a 2xx from
/// `ready_url` (with `${VAR}` from `extra_env` filled in) or a TCP connection to
/// 127.0.0.1:`ready_port`. Fails if it exits first, the probe times out, or `cancel`
/// fires; in every failure the group is killed.
pub async fn start_service_named(
    name: &str,
    svc: &ServiceStep,
    cwd: &Path,
    extra_env: &[(String, String)],
    sink: Arc<dyn LogSink>,
    cancel: &CancellationToken,
) -> Result<ServiceHandle, StepError> {
    let started = Instant::now();
    let (mut child, group) = spawn(name, shell(&svc.command, cwd, &svc.env, extra_env))?;
    let capture = Arc::new(Capture::default());
    let mut pumps = Vec::new();
    if let Some(o) = child.stdout.take() {
        pumps.push(spawn_pump(o, name, Stream::Stdout, &sink, &capture));
    }
    if let Some(e) = child.stderr.take() {
        pumps.push(spawn_pump(e, name, Stream::Stderr, &sink, &capture));
    }
    let mut handle = ServiceHandle {
        name: name.to_string(),
        child,
        group,
        stop_timeout: svc.stop_timeout,
        sink: sink.clone(),
        capture,
        pumps,
        ready_after: Duration::ZERO,
    };
    let probe = Probe::new(svc, extra_env);
    let not_ready = |reason: String| StepError::NotReady {
        step: name.to_string(),
        reason,
    };
    loop {
        if let Some(code) = handle.exited() {
            // Let the last output arrive so the tail explains the exit.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return Err(not_ready(format!(
                "it exited with code {code} before it was ready; last output:\n{}",
                handle.tail()
            )));
        }
        let last = match probe.once().await {
            Ok(()) => break,
            Err(e) => e,
        };
        if started.elapsed() >= svc.ready_timeout {
            return Err(not_ready(format!(
                "no answer after {} ({})",
                duration::format(svc.ready_timeout),
                last
            )));
        }
        tokio::select! {
            _ = tokio::time::sleep(PROBE_EVERY) => {}
            _ = cancel.cancelled() => return Err(StepError::Canceled { step: name.to_string() }),
        }
    }
    handle.ready_after = started.elapsed();
    sink.line(
        name,
        Stream::System,
        &format!(
            "ready after {} ms (pid {})",
            handle.ready_after.as_millis(),
            handle.pid()
        ),
    );
    Ok(handle)
}

fn spawn_pump<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    r: R,
    name: &str,
    stream: Stream,
    sink: &Arc<dyn LogSink>,
    cap: &Arc<Capture>,
) -> JoinHandle<()> {
    let (name, sink, cap) = (name.to_string(), sink.clone(), cap.clone());
    tokio::spawn(async move { pump(r, &name, stream, &*sink, &cap).await })
}

/// One readiness check.
enum Probe {
    Url(reqwest::Client, String),
    Port(u16),
    Broken(String),
}

impl Probe {
    fn new(svc: &ServiceStep, env: &[(String, String)]) -> Probe {
        if let Some(port) = svc.ready_port {
            return Probe::Port(port);
        }
        let url = expand(svc.ready_url.as_deref().unwrap_or_default(), env);
        // Proxies from the worker's environment must not intercept a loopback probe.
        match reqwest::Client::builder()
            .no_proxy()
            .timeout(PROBE_TIMEOUT)
            .build()
        {
            Ok(c) => Probe::Url(c, url),
            Err(e) => Probe::Broken(format!("no HTTP client: {e}")),
        }
    }

    async fn once(&self) -> Result<(), String> {
        match self {
            Probe::Url(client, url) => match client.get(url).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("GET {url} answered {}", r.status())),
                Err(e) => Err(format!("GET {url}: {e}")),
            },
            Probe::Port(port) => {
                let addr = std::net::SocketAddr::from(([127, 0, 0, 1], *port));
                match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(addr))
                    .await
                {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(format!("connect {addr}: {e}")),
                    Err(_) => Err(format!("connect {addr}: timed out")),
                }
            }
            Probe::Broken(why) => Err(why.clone()),
        }
    }
}

/// Replaces `${NAME}` with the value of NAME from `env`; unknown names stay as written.
pub fn expand(text: &str, env: &[(String, String)]) -> String {
    let mut out = text.to_string();
    for (k, v) in env {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}
