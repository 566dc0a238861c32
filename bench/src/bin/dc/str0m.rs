//! str0m 0.25: two sans-IO `Rtc`s, each driven by its own thread on a blocking UDP socket
//! (str0m's canonical run loop). The offerer sends, the answerer checks.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use str0m::channel::ChannelId;
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

use super::{Meter, Transfer};

/// The longest a peer sleeps in `recv` before it checks whether the run is over.
const TICK: Duration = Duration::from_millis(50);

pub fn run(t: &Transfer, m: &Meter) -> Result<()> {
    str0m::crypto::from_feature_flags().install_process_default();
    let sa = UdpSocket::bind("127.0.0.1:0")?;
    let sb = UdpSocket::bind("127.0.0.1:0")?;
    let now = Instant::now();
    let rtc = || {
        Rtc::builder()
            // str0m never accepts a message larger than this; the sender itself keeps to
            // `t.buffer` (see `Transfer::may_send`), so this only lets a lone large message go.
            .set_sctp_max_buffered_amount(t.buffer.max(t.msg))
            .set_sctp_max_message_size(t.msg.max(256 * 1024).try_into().unwrap_or(u32::MAX))
            .build(now)
    };
    let (mut a, mut b) = (rtc(), rtc());
    a.add_local_candidate(Candidate::host(sa.local_addr()?, "udp")?);
    b.add_local_candidate(Candidate::host(sb.local_addr()?, "udp")?);

    m.start();
    let mut change = a.sdp_api();
    let cid = change.add_channel("bench".into());
    let (offer, pending) = change.apply().context("no offer")?;
    let answer = b.sdp_api().accept_offer(offer)?;
    a.sdp_api().accept_answer(pending, answer)?;

    let finished = AtomicBool::new(false);
    std::thread::scope(|s| {
        let sender = s.spawn(|| {
            let on_event = |ev: &Event, st: &mut State| {
                if let Event::ChannelOpen(id, _) = ev
                    && *id == cid
                {
                    m.opened();
                    st.open = true;
                }
                Ok(())
            };
            let r = Peer::new(a, sa).run(m, &finished, on_event, Some((t, cid)));
            finished.store(true, Ordering::Relaxed);
            r
        });
        let receiver = s.spawn(|| {
            let mut check = t.checker();
            let on_event = |ev: &Event, _: &mut State| {
                if let Event::ChannelData(d) = ev
                    && check.check(&d.data)?
                {
                    m.done();
                    finished.store(true, Ordering::Relaxed);
                }
                Ok(())
            };
            let r = Peer::new(b, sb).run(m, &finished, on_event, None);
            finished.store(true, Ordering::Relaxed);
            r
        });
        let (rs, rr) = (sender.join(), receiver.join());
        rr.map_err(|_| anyhow::anyhow!("receiver panicked"))??;
        rs.map_err(|_| anyhow::anyhow!("sender panicked"))??;
        Ok(())
    })
}

/// Sender-side state the event handler can set.
#[derive(Default)]
struct State {
    open: bool,
    sent: u64,
}

struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    buf: Vec<u8>,
}

impl Peer {
    fn new(rtc: Rtc, socket: UdpSocket) -> Self {
        let local = socket
            .local_addr()
            .unwrap_or_else(|_| ([127, 0, 0, 1], 0).into());
        Peer {
            rtc,
            socket,
            local,
            buf: vec![0; 2048],
        }
    }

    /// Drains `poll_output` to its timeout, sending transmits and handing events to `on`.
    fn drain(
        &mut self,
        st: &mut State,
        on: &mut impl FnMut(&Event, &mut State) -> Result<()>,
    ) -> Result<Instant> {
        loop {
            match self.rtc.poll_output()? {
                Output::Timeout(t) => return Ok(t),
                Output::Transmit(t) => {
                    // A full socket buffer on our side is loss, as the network would make it.
                    let _ = self.socket.send_to(&t.contents, t.destination);
                }
                Output::Event(e) => {
                    if let Event::IceConnectionStateChange(IceConnectionState::Disconnected) = e {
                        bail!("ICE disconnected");
                    }
                    on(&e, st)?;
                }
            }
        }
    }

    /// str0m's run loop: mutate once, drain to the timeout, wait for a datagram or the
    /// timeout. The sender (`send` given) writes messages whenever the buffer rule allows.
    fn run(
        mut self,
        m: &Meter,
        finished: &AtomicBool,
        mut on: impl FnMut(&Event, &mut State) -> Result<()>,
        send: Option<(&Transfer, ChannelId)>,
    ) -> Result<()> {
        let mut st = State::default();
        let mut timeout = self.drain(&mut st, &mut on)?;
        while !finished.load(Ordering::Relaxed) {
            if m.expired() {
                bail!("deadline passed");
            }
            if let Some((t, cid)) = send
                && st.open
            {
                while let Some(msg) = t.message(st.sent) {
                    let Some(mut ch) = self.rtc.channel(cid) else {
                        break;
                    };
                    if !t.may_send(ch.buffered_amount(), msg.len()) || !ch.write(true, msg)? {
                        break;
                    }
                    st.sent += msg.len() as u64;
                    timeout = self.drain(&mut st, &mut on)?;
                }
            }
            let now = Instant::now();
            let wait = timeout
                .saturating_duration_since(now)
                .clamp(Duration::from_millis(1), TICK);
            self.socket.set_read_timeout(Some(wait))?;
            let input = match self.socket.recv_from(&mut self.buf) {
                Ok((n, source)) => Input::Receive(
                    Instant::now(),
                    Receive::new(Protocol::Udp, source, self.local, &self.buf[..n])?,
                ),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    Input::Timeout(Instant::now())
                }
                Err(e) => return Err(e.into()),
            };
            self.rtc.handle_input(input)?;
            // A steady stream of datagrams never lets the read time out: serve str0m's timers
            // (ICE consent, SCTP) when due all the same, or ICE disconnects mid-transfer.
            let now = Instant::now();
            if timeout <= now {
                self.rtc.handle_input(Input::Timeout(now))?;
            }
            timeout = self.drain(&mut st, &mut on)?;
        }
        Ok(())
    }
}
