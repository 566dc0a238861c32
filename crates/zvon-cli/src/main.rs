//! The `zvon` command.
use clap::{Parser, Subcommand};

/// zvon: a WebRTC stack in Rust.
#[derive(Parser)]
#[command(name = "zvon", version = zvon::VERSION, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Print the protocol layers this build contains.
    Layers,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Layers) => {
            for layer in [
                "stun", "ice", "dtls", "srtp", "rtp", "sctp", "sdp", "core", "netsim",
            ] {
                println!("zvon-{layer}");
            }
        }
        None => {
            use clap::CommandFactory;
            Cli::command().print_help()?;
            println!();
        }
    }
    Ok(())
}
