//! One process of `ciguard serve`: the HTTP listener (ingress and health), workers and the
//! scheduler as its roles say, and the graceful stop: refuse new connections, finish in-flight
//! requests and jobs, release what is still leased.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinHandle;

use crate::ingress::{self, Counters, Ingress, MAX_BODY};
use crate::job::JobRunner;
use crate::scheduler::{self, DynTask, Janitor};
use crate::secret::Secret;
use crate::store::Store;
use crate::worker::{self, WorkerConfig};

const MAX_BODY_MIB: usize = MAX_BODY / (1024 * 1024);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub ingress: bool,
    pub worker: bool,
    pub scheduler: bool,
}

impl Roles {
    pub const ALL: Roles = Roles {
        ingress: true,
        worker: true,
        scheduler: true,
    };

    pub fn parse(role: &str) -> Option<Roles> {
        let none = Roles {
            ingress: false,
            worker: false,
            scheduler: false,
        };
        Some(match role {
            "all" => Roles::ALL,
            "ingress" => Roles {
                ingress: true,
                ..none
            },
            "worker" => Roles {
                worker: true,
                ..none
            },
            "scheduler" => Roles {
                scheduler: true,
                ..none
            },
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub roles: Roles,
    pub secrets: Vec<Secret>,
    pub worker: WorkerConfig,
    /// The scheduler's leader lease.
    pub scheduler_lease: Duration,
    /// How long deliveries and finished jobs are kept.
    pub retention: Duration,
    /// The most a graceful stop waits for in-flight requests and jobs.
    pub drain_timeout: Duration,
    /// MiB of webhook bodies buffered at once (at least one 25 MiB body).
    pub body_budget_mib: usize,
    pub max_connections: usize,
}

impl ServeConfig {
    pub fn new(listen: SocketAddr, secrets: Vec<Secret>) -> Self {
        ServeConfig {
            listen,
            roles: Roles::ALL,
            secrets,
            worker: WorkerConfig {
                concurrency: 4,
                lease: Duration::from_secs(60),
                poll: Duration::from_secs(1),
                retry: Default::default(),
                owner: worker::owner_name(),
            },
            scheduler_lease: Duration::from_secs(30),
            retention: Duration::from_secs(14 * 24 * 3600),
            drain_timeout: Duration::from_secs(20),
            body_budget_mib: 64,
            max_connections: 1024,
        }
    }
}

/// A started server.
pub struct Running {
    pub addr: SocketAddr,
    pub store: Store,
    pub counters: Arc<Counters>,
    owner: String,
    drain_timeout: Duration,
    draining: Arc<AtomicBool>,
    stop: watch::Sender<bool>,
    http: JoinHandle<()>,
    workers: Option<JoinHandle<()>>,
    scheduler: Option<JoinHandle<()>>,
}

/// What a graceful stop did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// All in-flight requests and jobs finished within the drain timeout.
    pub drained: bool,
    /// Leases put back in the queue because their job did not finish in time.
    pub released: usize,
}

pub async fn start<R: JobRunner>(
    store: Store,
    config: ServeConfig,
    runner: R,
    mut tasks: Vec<Box<dyn DynTask>>,
) -> std::io::Result<Running> {
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let counters = Arc::new(Counters::default());
    let draining = Arc::new(AtomicBool::new(false));
    let jobs_queued = Arc::new(Notify::new());
    let ingress = Arc::new(Ingress {
        store: store.clone(),
        secrets: config.secrets.clone(),
        max_attempts: config.worker.retry.max_attempts,
        counters: counters.clone(),
        jobs_queued: jobs_queued.clone(),
        accepts_webhooks: config.roles.ingress,
        draining: draining.clone(),
        body_permits: Semaphore::new(config.body_budget_mib.max(MAX_BODY_MIB)),
        body_timeout: Duration::from_secs(60),
    });
    let http = tokio::spawn(serve_http(
        listener,
        ingress,
        config.max_connections,
        config.drain_timeout,
        stopped.clone(),
    ));
    let workers = config.roles.worker.then(|| {
        tokio::spawn(worker::run(
            store.clone(),
            Arc::new(runner),
            config.worker.clone(),
            jobs_queued,
            stopped.clone(),
        ))
    });
    let scheduler = config.roles.scheduler.then(|| {
        tasks.push(Box::new(Janitor {
            store: store.clone(),
            retention: config.retention,
        }));
        tokio::spawn(scheduler::run(
            store.clone(),
            config.worker.owner.clone(),
            config.scheduler_lease,
            tasks,
            stopped,
        ))
    });
    tracing::info!(%addr, roles = ?config.roles, backend = ?store.backend(), "ciguard serve started");
    Ok(Running {
        addr,
        store,
        counters,
        owner: config.worker.owner,
        drain_timeout: config.drain_timeout,
        draining,
        stop,
        http,
        workers,
        scheduler,
    })
}

impl Running {
    /// Stops gracefully: no new connections, in-flight requests and jobs finish (up to the drain
    /// timeout), then leases still held are released for other workers.
    pub async fn stop(self) -> Stopped {
        self.draining.store(true, Ordering::Relaxed);
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + self.drain_timeout;
        let mut drained = tokio::time::timeout_at(deadline, self.http).await.is_ok();
        if let Some(workers) = self.workers {
            let abort = workers.abort_handle();
            if tokio::time::timeout_at(deadline, workers).await.is_err() {
                abort.abort();
                drained = false;
            }
        }
        if let Some(scheduler) = self.scheduler {
            let abort = scheduler.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), scheduler)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        let released = match self.store.release_leases(&self.owner).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot release leases; the reaper will requeue them");
                0
            }
        };
        self.store.close().await;
        tracing::info!(drained, released, "ciguard serve stopped");
        Stopped { drained, released }
    }
}

async fn serve_http(
    listener: TcpListener,
    ingress: Arc<Ingress>,
    max_connections: usize,
    drain_timeout: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = stopped.changed() => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.changed() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let ingress = ingress.clone();
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .serve_connection(
                TokioIo::new(stream),
                service_fn(move |request| ingress::handle(ingress.clone(), request)),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within the drain timeout");
    }
}
