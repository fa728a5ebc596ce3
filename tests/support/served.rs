//! A fake HTTP API on 127.0.0.1 (a free port), served until its `Served` is dropped: from the
//! test's own tokio runtime, or from a thread with a runtime of its own for tests that run the
//! synchronous `railyard` binary against it. The cloud fakes share this; each builds its state
//! and router from the origin it is served at.

use std::future::IntoFuture as _;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The server's lifetime: dropping it stops the server and waits for its thread.
pub(crate) struct Served {
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    /// Serves from the current runtime. `build` gets the origin (`http://127.0.0.1:PORT`) and
    /// returns what the fake keeps (its shared state) and the router to serve.
    pub(crate) async fn start<S>(build: impl FnOnce(String) -> (S, Router)) -> (Served, S, String) {
        let listener = bind().await;
        let origin = origin(&listener);
        let (kept, app) = build(origin.clone());
        let (shutdown, stopped) = oneshot::channel();
        tokio::spawn(serve(listener, app, stopped));
        let served = Served {
            shutdown: Some(shutdown),
            thread: None,
        };
        (served, kept, origin)
    }

    /// Serves from a thread named `name` with its own runtime; returns once it listens.
    pub(crate) fn start_in_background<S: Send + 'static>(
        name: &str,
        build: impl FnOnce(String) -> (S, Router) + Send + 'static,
    ) -> (Served, S, String) {
        let (ready, started) = std::sync::mpsc::channel();
        let (shutdown, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime");
                runtime.block_on(async move {
                    let listener = bind().await;
                    let origin = origin(&listener);
                    let (kept, app) = build(origin.clone());
                    ready.send((kept, origin)).expect("the starter waits");
                    serve(listener, app, stopped).await;
                });
            })
            .expect("spawn the fake's thread");
        let (kept, origin) = started.recv().expect("the fake starts");
        let served = Served {
            shutdown: Some(shutdown),
            thread: Some(thread),
        };
        (served, kept, origin)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0")
}

fn origin(listener: &TcpListener) -> String {
    let address = listener.local_addr().expect("a local address");
    format!("http://{address}")
}

async fn serve(listener: TcpListener, app: Router, stopped: oneshot::Receiver<()>) {
    tokio::select! {
        served = axum::serve(listener, app).into_future() => served.expect("the fake serves"),
        _ = stopped => {}
    }
}
