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
    /// Also run `zvon echo` in this room (the demo: open the printed URL and chat with it).
    #[arg(long, value_name = "ROOM")]
    echo: Option<String>,
}

pub(crate) async fn serve(args: ServeArgs) -> Result<()> {
    let mut cfg = ServerConfig::default();
    cfg.addr = args.addr;
    cfg.token = args.token.clone();
    let token = args.token;
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
    if let Some(room) = args.echo {
        let mut query = format!("?room={room}");
        if let Some(t) = &token {
            query.push_str(&format!("&token={t}"));
        }
        println!("echo peer in room {room:?}: open http://{shown}/{query} and chat with it");
        let echo = crate::RoomArgs {
            room,
            server: format!("http://{shown}"),
            token,
            name: None,
            loopback: true,
        };
        tokio::spawn(async move {
            if let Err(e) = crate::echo(echo).await {
                eprintln!("echo peer: {e:#}");
            }
        });
    }
    tokio::select! {
        done = &mut running => return done.context("server task")?.map_err(Into::into),
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
    }
    eprintln!("shutting down: telling {} peer(s) bye", handle.peers());
    handle.shutdown();
    running.await.context("server task")??;
    Ok(())
}
