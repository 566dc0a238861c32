//! `zvon serve`: the signaling server and the web page (docs/signaling.md).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use zvon_server::{Server, ServerConfig};

/// Options of `zvon serve`.
#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (0.0.0.0:8080 to let other machines in).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Require this token in every join.
    #[arg(long)]
    token: Option<String>,
    /// Serve the web page from this directory instead of the copy built in (development).
    #[arg(long)]
    web_dir: Option<PathBuf>,
}

pub(crate) async fn serve(args: ServeArgs) -> Result<()> {
    let mut cfg = ServerConfig::default();
    cfg.addr = args.addr;
    cfg.token = args.token;
    cfg.web_dir = args.web_dir;
    let server = Server::bind(cfg).await?;
    let addr = server.local_addr();
    let shown = if addr.ip().is_unspecified() {
        SocketAddr::new([127, 0, 0, 1].into(), addr.port())
    } else {
        addr
    };
    println!("zvon serve: open http://{shown}/ (signaling on ws://{shown}/ws); Ctrl-C stops");
    let handle = server.handle();
    let mut running = tokio::spawn(server.run());
    tokio::select! {
        done = &mut running => return done.context("server task")?.map_err(Into::into),
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
    }
    eprintln!("shutting down: telling {} peer(s) bye", handle.peers());
    handle.shutdown();
    running.await.context("server task")??;
    Ok(())
}
