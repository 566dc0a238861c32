//! The `zvon` command.
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use zvon::{ChannelInit, Configuration, ConnectionState, DataChannel, PeerConnection, PeerEvent};

mod room;
mod serve;

/// zvon: a WebRTC stack in Rust.
#[derive(Parser)]
#[command(name = "zvon", version = zvon::VERSION, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Two zvon peer connections on this machine (real UDP on 127.0.0.1): offer/answer with
    /// trickle ICE, DTLS, a data channel, a chat exchange, then a bulk transfer.
    Demo {
        /// MiB for the bulk transfer.
        #[arg(long, default_value_t = 64)]
        mib: usize,
    },
    /// Benchmarks.
    #[command(subcommand)]
    Bench(Bench),
    /// Print the protocol layers this build contains.
    Layers,
    /// The signaling server and the web page: rooms of peers meet at http://ADDR/.
    Serve(serve::ServeArgs),
    /// Chat in a room of `zvon serve` with whoever is there (browser or native): lines from
    /// stdin go to every peer over a data channel, what they send is printed.
    Chat(RoomArgs),
    /// Answer every peer of a room and send each data-channel message back, all connections
    /// on one shared UDP socket.
    Echo(RoomArgs),
}

#[derive(clap::Args)]
pub(crate) struct RoomArgs {
    /// The room to join.
    #[arg(long)]
    pub(crate) room: String,
    /// The server (`http://host:port` or `ws://host:port/ws`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub(crate) server: String,
    /// The server's token, if it asks for one.
    #[arg(long)]
    pub(crate) token: Option<String>,
    /// The name others see.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Gather on loopback too (peers on this machine; off by default, like browsers).
    #[arg(long)]
    pub(crate) loopback: bool,
}

#[derive(Subcommand)]
enum Bench {
    /// Whole-stack data-channel throughput between two zvon peers over loopback UDP (ICE,
    /// DTLS, SCTP), one reliable ordered channel; prints one JSON line.
    Dc {
        /// MiB to move.
        #[arg(long, default_value_t = 256)]
        mib: usize,
        /// Message size in bytes.
        #[arg(long, default_value_t = 65536)]
        msg: usize,
        /// Most bytes kept buffered by the sender (bufferedAmount back-pressure).
        #[arg(long, default_value_t = 1 << 20)]
        buffer: usize,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Demo { mib }) => runtime()?.block_on(demo(mib)),
        Some(Command::Bench(Bench::Dc { mib, msg, buffer })) => {
            runtime()?.block_on(bench_dc(mib, msg, buffer, false))
        }
        Some(Command::Serve(args)) => runtime()?.block_on(serve::serve(args)),
        Some(Command::Chat(args)) => runtime()?.block_on(chat(args)),
        Some(Command::Echo(args)) => runtime()?.block_on(echo(args)),
        Some(Command::Layers) => {
            for layer in [
                "stun", "ice", "dtls", "srtp", "rtp", "sctp", "sdp", "core", "netsim",
            ] {
                println!("zvon-{layer}");
            }
            Ok(())
        }
        None => {
            use clap::CommandFactory;
            Cli::command().print_help()?;
            println!();
            Ok(())
        }
    }
}

fn room_config(args: &RoomArgs) -> Configuration {
    let mut config = Configuration::default();
    config.gather.include_loopback = args.loopback;
    config
}

fn room_options(
    args: RoomArgs,
    config: Configuration,
    mode: room::Mode,
    name: &str,
) -> room::RoomOptions {
    room::RoomOptions {
        url: args.server,
        room: args.room,
        token: args.token,
        name: args.name.unwrap_or_else(|| name.to_owned()),
        config,
        mode,
    }
}

async fn chat(args: RoomArgs) -> Result<()> {
    let config = room_config(&args);
    let (lines, _) = tokio::sync::broadcast::channel(64);
    let input = lines.clone();
    // Blocking stdin on its own thread: one line at a time to every channel.
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            let _ = input.send(line);
        }
    });
    room::run(room_options(
        args,
        config,
        room::Mode::Chat { lines },
        "zvon chat",
    ))
    .await
}

pub(crate) async fn echo(args: RoomArgs) -> Result<()> {
    let mut config = room_config(&args);
    let mux = zvon::UdpMux::bind(&config.gather).await?;
    eprintln!("echo peers share {:?}", mux.local_addresses());
    config.mux = Some(mux);
    room::run(room_options(args, config, room::Mode::Echo, "zvon echo")).await
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Connects two peers on loopback with one channel from `a`; returns both and the channels.
async fn connect() -> Result<(
    PeerConnection,
    PeerConnection,
    DataChannel,
    DataChannel,
    Duration,
)> {
    let mut a = PeerConnection::new(Configuration::loopback()).await?;
    let mut b = PeerConnection::new(Configuration::loopback()).await?;
    let t0 = Instant::now();
    let mut tx = a.create_data_channel("zvon-demo", ChannelInit::default())?;
    let offer = a.create_offer().await?;
    a.set_local_description(offer.clone()).await?;
    b.set_remote_description(offer).await?;
    let answer = b.create_answer().await?;
    b.set_local_description(answer.clone()).await?;
    a.set_remote_description(answer).await?;
    let deadline = tokio::time::sleep(Duration::from_secs(10));
    tokio::pin!(deadline);
    let rx = loop {
        tokio::select! {
            ev = a.next_event() => match ev.context("a ended")? {
                PeerEvent::IceCandidate(c) => b.add_ice_candidate(c).await?,
                PeerEvent::ConnectionStateChange(ConnectionState::Failed) => bail!("a failed"),
                _ => {}
            },
            ev = b.next_event() => match ev.context("b ended")? {
                PeerEvent::IceCandidate(c) => a.add_ice_candidate(c).await?,
                PeerEvent::ConnectionStateChange(ConnectionState::Failed) => bail!("b failed"),
                PeerEvent::DataChannel(dc) => break dc,
                _ => {}
            },
            _ = &mut deadline => bail!("no connection within 10 s"),
        }
    };
    tx.wait_open().await?;
    let setup = t0.elapsed();
    // Keep both event queues drained from here on (candidates, state changes).
    Ok((a, b, tx, rx, setup))
}

async fn demo(mib: usize) -> Result<()> {
    println!(
        "zvon {}: two peer connections over UDP on 127.0.0.1",
        zvon::VERSION
    );
    let (a, b, tx, mut rx, setup) = connect().await?;
    let st = a.stats();
    if let Some((l, _, r, _)) = st.selected_pair {
        println!("ICE: selected pair {l} -> {r} ({:?})", st.ice_state);
    }
    println!(
        "DTLS: {:?}, {:?} on this side; SRTP profile {:?}",
        st.dtls_version, st.dtls_role, st.srtp_profile
    );
    println!("offer to open data channel: {setup:.2?}");
    for line in ["hello from a", "how are you, b?"] {
        let t = Instant::now();
        tx.send_text(line)?;
        let m = rx.recv().await.context("channel closed")?;
        println!(
            "b got {:?} after {:.0?}",
            String::from_utf8_lossy(&m.data),
            t.elapsed()
        );
    }
    drop((a, b));
    bench_dc(mib, 65536, 1 << 20, true).await
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process from /proc (Linux); 0 elsewhere.
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat, counted after the ")" as 12 and 13 (0-based from state).
    (ticks(11) + ticks(12)) / 100.0
}

async fn bench_dc(mib: usize, msg: usize, buffer: usize, human: bool) -> Result<()> {
    let (mut a, mut b, tx, mut rx, setup) = connect().await?;
    // Drain connection events in the background so their queues do not grow.
    let drain = tokio::spawn(async move {
        loop {
            tokio::select! {
                ev = a.next_event() => if ev.is_none() { break },
                ev = b.next_event() => if ev.is_none() { break },
            }
        }
    });
    let total = mib * 1024 * 1024;
    let msg = msg.max(1).min(tx.max_message_size().unwrap_or(65536));
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let sender = tokio::spawn(async move {
        let mut sent = 0usize;
        let mut seq = 0u64;
        let mut buf = vec![0u8; msg];
        while sent < total {
            let n = msg.min(total - sent);
            buf[..8.min(n)].copy_from_slice(&seq.to_be_bytes()[..8.min(n)]);
            tx.wait_buffered_below(buffer.saturating_sub(n)).await?;
            tx.send(&buf[..n])?;
            sent += n;
            seq += 1;
        }
        anyhow::Ok(tx)
    });
    let mut got = 0usize;
    let mut seq = 0u64;
    while got < total {
        let m = rx.recv().await.context("channel closed early")?;
        let k = 8.min(m.data.len());
        if m.data[..k] != seq.to_be_bytes()[..k] {
            bail!("message {seq} out of order");
        }
        got += m.data.len();
        seq += 1;
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let _tx = sender.await??;
    drain.abort();
    let mbit = total as f64 * 8.0 / secs / 1e6;
    let cpu_per_gb = cpu / (total as f64 / 1e9);
    if human {
        println!(
            "bulk: {mib} MiB in {msg}-byte messages in {secs:.2} s = {mbit:.0} Mbit/s, {cpu_per_gb:.2} CPU s/GB (both peers)"
        );
    } else {
        println!(
            "{{\"impl\":\"zvon\",\"mib\":{mib},\"buffer\":{buffer},\"msg\":{msg},\"seconds\":{secs:.3},\"mbit_per_s\":{mbit:.1},\"cpu_s_per_gb\":{cpu_per_gb:.3},\"setup_ms\":{:.2}}}",
            setup.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
