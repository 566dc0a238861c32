//! The retransmission queue: every DATA chunk sent and not yet cumulatively acknowledged, in a
//! `VecDeque` indexed by `TSN - base`, so that a cumulative ack pops from the front in O(acked)
//! and a gap block touches only its own range. Congestion control (RFC 9260 7.2) lives here
//! too, since it is driven by the same acks.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use crate::chunk::{self, Data, SkippedStream, flag};
use crate::send::Fragment;
use crate::tsn::unwrap32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    InFlight,
    /// Acked by a gap block (may still be reneged, which this implementation ignores).
    Acked,
    /// Marked for retransmission (fast retransmit or T3).
    Lost,
    /// Given up (PR-SCTP); covered by the next FORWARD-TSN.
    Abandoned,
}

#[derive(Debug)]
struct Sent {
    frag: Fragment,
    state: St,
    sent_at: Instant,
    tx_count: u16,
    nacks: u8,
    fast_rtx: bool,
}

/// What a SACK changed.
#[derive(Debug, Default)]
pub(crate) struct SackOutcome {
    pub(crate) cum_advanced: bool,
    pub(crate) rtt: Option<Duration>,
    /// Some data was newly acknowledged (cumulatively or by a gap block).
    pub(crate) progress: bool,
}

/// A SACK that cannot be right.
#[derive(Debug)]
pub(crate) struct BadSack;

/// Result of trying to retransmit one chunk.
#[derive(Debug)]
pub(crate) enum Rtx {
    /// A chunk was written into the packet.
    Wrote,
    /// The first chunk to retransmit does not fit the room left.
    NoFit,
    /// Nothing to retransmit.
    Nothing,
    /// A message was abandoned instead (PR-SCTP): the send queue must drop its unsent rest.
    Abandoned { stream: u16, msg_seq: u64 },
}

#[derive(Debug)]
pub(crate) struct Outstanding {
    /// TSN of `chunks[0]`: the cumulative ack point plus one.
    base: u64,
    chunks: VecDeque<Sent>,
    lost: BTreeSet<u64>,
    pub(crate) flight: usize,
    pub(crate) cwnd: usize,
    pub(crate) ssthresh: usize,
    partial_bytes_acked: usize,
    fast_recovery_exit: Option<u64>,
    pub(crate) peer_rwnd: usize,
    mtu: usize,
    last_forward_tsn: u64,
    pub(crate) retransmissions: u64,
    /// The sender last stopped because cwnd was full (not for want of data): cwnd is "fully
    /// utilized" in the sense of RFC 9260 7.2.1, even if acks of a batch arrive together.
    pub(crate) cwnd_limited: bool,
}

impl Outstanding {
    pub(crate) fn new(initial_tsn: u32, peer_rwnd: u32, mtu: usize, initial_cwnd: usize) -> Self {
        Self {
            base: initial_tsn as u64 | (1 << 32),
            chunks: VecDeque::new(),
            lost: BTreeSet::new(),
            flight: 0,
            cwnd: initial_cwnd,
            ssthresh: peer_rwnd as usize,
            partial_bytes_acked: 0,
            fast_recovery_exit: None,
            peer_rwnd: peer_rwnd as usize,
            mtu,
            last_forward_tsn: 0,
            retransmissions: 0,
            cwnd_limited: false,
        }
    }

    /// The next TSN to assign (unwrapped).
    pub(crate) fn next_tsn(&self) -> u64 {
        self.base + self.chunks.len() as u64
    }

    /// The cumulative ack point (unwrapped).
    pub(crate) fn cum_ack(&self) -> u64 {
        self.base - 1
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    pub(crate) fn has_lost(&self) -> bool {
        !self.lost.is_empty()
    }

    /// May new data be sent now? (RFC 9260 6.1 rules A and B.)
    pub(crate) fn can_send(&self, len: usize) -> bool {
        if self.flight >= self.cwnd {
            return false;
        }
        // Zero window probing: one chunk may go when nothing is in flight.
        self.peer_rwnd >= len || self.flight == 0
    }

    /// Records a new chunk as sent and writes it into `buf`.
    pub(crate) fn send_new(
        &mut self,
        now: Instant,
        frag: Fragment,
        interleaved: bool,
        immediate: bool,
        buf: &mut Vec<u8>,
    ) {
        let tsn = self.next_tsn();
        write_data(tsn, &frag, interleaved, immediate, buf);
        let len = frag.len as usize;
        self.flight += len;
        self.peer_rwnd = self.peer_rwnd.saturating_sub(len);
        self.chunks.push_back(Sent {
            frag,
            state: St::InFlight,
            sent_at: now,
            tx_count: 1,
            nacks: 0,
            fast_rtx: false,
        });
    }

    /// Writes the first chunk marked for retransmission if it fits `room`, or abandons it
    /// when its PR-SCTP policy says so.
    pub(crate) fn retransmit(
        &mut self,
        now: Instant,
        room: usize,
        interleaved: bool,
        buf: &mut Vec<u8>,
    ) -> Rtx {
        let Some(&tsn) = self.lost.first() else {
            return Rtx::Nothing;
        };
        let idx = (tsn - self.base) as usize;
        let Some(c) = self.chunks.get(idx) else {
            self.lost.remove(&tsn);
            return Rtx::Nothing;
        };
        let f = &c.frag;
        if f.max_rtx.is_some_and(|m| c.tx_count > m) || f.expires.is_some_and(|e| now >= e) {
            let (stream, msg_seq) = (f.stream, f.msg_seq);
            self.abandon(msg_seq);
            return Rtx::Abandoned { stream, msg_seq };
        }
        let hdr = if interleaved {
            chunk::IDATA_HEADER
        } else {
            chunk::DATA_HEADER
        };
        if (hdr + f.len as usize + 3) & !3 > room {
            return Rtx::NoFit;
        }
        self.lost.remove(&tsn);
        // ok: idx checked by `get` above
        let c = &mut self.chunks[idx];
        write_data(tsn, &c.frag, interleaved, false, buf);
        c.state = St::InFlight;
        c.tx_count = c.tx_count.saturating_add(1);
        c.sent_at = now;
        c.nacks = 0;
        self.flight += c.frag.len as usize;
        self.retransmissions += 1;
        Rtx::Wrote
    }

    /// Abandons every chunk of one message (PR-SCTP).
    pub(crate) fn abandon(&mut self, msg_seq: u64) {
        let base = self.base;
        for (i, c) in self.chunks.iter_mut().enumerate() {
            if c.frag.msg_seq != msg_seq {
                continue;
            }
            match c.state {
                St::InFlight => self.flight -= c.frag.len as usize,
                St::Lost => {
                    self.lost.remove(&(base + i as u64));
                }
                St::Acked | St::Abandoned => {}
            }
            c.state = St::Abandoned;
        }
    }

    /// Processes a SACK (RFC 9260 6.2.1, 7.2).
    pub(crate) fn handle_sack(
        &mut self,
        now: Instant,
        cum_wire: u32,
        a_rwnd: u32,
        gaps: impl Iterator<Item = (u16, u16)>,
    ) -> Result<SackOutcome, BadSack> {
        let old_cum = self.cum_ack();
        let cum = unwrap32(old_cum, cum_wire);
        let mut out = SackOutcome::default();
        if cum < old_cum {
            // An old SACK, reordered: RFC 9260 6.2.1 D i) says drop it.
            return Ok(out);
        }
        if cum >= self.next_tsn() {
            return Err(BadSack);
        }
        let flight_before = self.flight;
        let in_fast_recovery = self.fast_recovery_exit.is_some();
        let mut acked_bytes = 0usize;
        let mut rtt_from: Option<Instant> = None;
        while self.base <= cum {
            let Some(c) = self.chunks.pop_front() else {
                break;
            };
            let len = c.frag.len as usize;
            match c.state {
                St::InFlight => {
                    self.flight -= len;
                    acked_bytes += len;
                    if c.tx_count == 1 {
                        rtt_from = Some(c.sent_at);
                    }
                }
                St::Lost => {
                    self.lost.remove(&self.base);
                    acked_bytes += len;
                }
                St::Acked | St::Abandoned => {}
            }
            self.base += 1;
        }
        out.cum_advanced = cum > old_cum;
        let mut highest_newly_acked: Option<u64> = None;
        let mut highest_gap: Option<u64> = None;
        let next = self.next_tsn();
        for (s, e) in gaps {
            if s == 0 || s > e {
                continue;
            }
            let start = cum + s as u64;
            let end = (cum + e as u64).min(next - 1);
            if start > end {
                continue;
            }
            highest_gap = Some(highest_gap.map_or(end, |h| h.max(end)));
            for tsn in start..=end {
                let idx = (tsn - self.base) as usize;
                let Some(c) = self.chunks.get_mut(idx) else {
                    break;
                };
                match c.state {
                    St::InFlight => {
                        c.state = St::Acked;
                        let len = c.frag.len as usize;
                        self.flight -= len;
                        acked_bytes += len;
                        highest_newly_acked = Some(tsn);
                    }
                    St::Lost => {
                        c.state = St::Acked;
                        self.lost.remove(&tsn);
                        acked_bytes += c.frag.len as usize;
                        highest_newly_acked = Some(tsn);
                    }
                    St::Acked | St::Abandoned => {}
                }
            }
        }
        out.progress = acked_bytes > 0;
        out.rtt = rtt_from.map(|t| now.saturating_duration_since(t));

        //# RFC 9260 7.2.4: miss indications follow the HTNA algorithm; in Fast Recovery, a
        //# SACK that advances the cumulative ack counts a miss for every TSN reported missing.
        let limit = if in_fast_recovery && out.cum_advanced {
            highest_gap
        } else {
            highest_newly_acked
        };
        let mut fast_rtx = false;
        if let Some(limit) = limit {
            let n = ((limit - self.base) as usize).min(self.chunks.len());
            let base = self.base;
            for (i, c) in self.chunks.iter_mut().take(n).enumerate() {
                if c.state != St::InFlight || c.fast_rtx {
                    continue;
                }
                c.nacks = c.nacks.saturating_add(1);
                if c.nacks >= 3 {
                    c.state = St::Lost;
                    c.fast_rtx = true;
                    self.flight -= c.frag.len as usize;
                    self.lost.insert(base + i as u64);
                    fast_rtx = true;
                }
            }
        }
        if fast_rtx && self.fast_recovery_exit.is_none() {
            self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
            self.cwnd = self.ssthresh;
            self.partial_bytes_acked = 0;
            self.fast_recovery_exit = Some(self.next_tsn() - 1);
        }
        if self.fast_recovery_exit.is_some_and(|p| cum >= p) {
            self.fast_recovery_exit = None;
        }

        //# RFC 9260 7.2.1/7.2.2: grow cwnd only when it was fully used and not in Fast Recovery.
        if out.cum_advanced && !in_fast_recovery {
            let fully_used = self.cwnd_limited || flight_before + self.mtu >= self.cwnd;
            if self.cwnd <= self.ssthresh {
                if fully_used {
                    self.cwnd += acked_bytes.min(self.mtu);
                }
            } else {
                self.partial_bytes_acked += acked_bytes;
                if self.partial_bytes_acked >= self.cwnd && fully_used {
                    self.partial_bytes_acked -= self.cwnd;
                    self.cwnd += self.mtu;
                }
            }
        }
        if self.flight == 0 {
            self.partial_bytes_acked = 0;
        }
        self.peer_rwnd = (a_rwnd as usize).saturating_sub(self.flight);
        Ok(out)
    }

    /// The retransmission timer expired (RFC 9260 6.3.3): everything in flight is marked for
    /// retransmission and cwnd falls to one MTU. Returns `false` if nothing was outstanding.
    pub(crate) fn t3_expired(&mut self) -> bool {
        let mut any = false;
        let base = self.base;
        for (i, c) in self.chunks.iter_mut().enumerate() {
            if c.state == St::InFlight {
                c.state = St::Lost;
                c.nacks = 0;
                self.lost.insert(base + i as u64);
                any = true;
            }
        }
        self.flight = 0;
        if any || !self.lost.is_empty() {
            self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
            self.cwnd = self.mtu;
            self.partial_bytes_acked = 0;
            self.fast_recovery_exit = None;
        }
        // The FORWARD-TSN is sent again on T3 (RFC 3758 3.5 C3).
        self.last_forward_tsn = 0;
        !self.chunks.is_empty()
    }

    /// The new cumulative TSN to announce in a FORWARD-TSN, with the streams it skips, when
    /// abandoned chunks sit right after the cumulative ack point and that point was not yet
    /// announced (or T3 asked to announce it again).
    pub(crate) fn forward_tsn(&mut self, interleaved: bool) -> Option<(u64, Vec<SkippedStream>)> {
        let mut point = None;
        let mut abandoned = false;
        for (i, c) in self.chunks.iter().enumerate() {
            match c.state {
                St::Abandoned => abandoned = true,
                St::Acked => {}
                _ => break,
            }
            point = Some(self.base + i as u64);
        }
        let point = point?;
        if !abandoned || point <= self.last_forward_tsn {
            return None;
        }
        self.last_forward_tsn = point;
        let n = (point - self.base + 1) as usize;
        let mut streams: Vec<SkippedStream> = Vec::new();
        for c in self.chunks.iter().take(n) {
            if c.state != St::Abandoned {
                continue;
            }
            let f = &c.frag;
            let unordered = f.unordered();
            if unordered && !interleaved {
                continue;
            }
            let unordered = unordered && interleaved;
            match streams
                .iter_mut()
                .find(|s| s.stream == f.stream && s.unordered == unordered)
            {
                Some(s) => s.mid = f.mid,
                None => streams.push(SkippedStream {
                    stream: f.stream,
                    unordered,
                    mid: f.mid,
                }),
            }
        }
        Some((point, streams))
    }
}

fn write_data(tsn: u64, f: &Fragment, interleaved: bool, immediate: bool, buf: &mut Vec<u8>) {
    let mut flags = f.flags;
    if immediate {
        flags |= flag::IMMEDIATE;
    }
    chunk::put_data(
        buf,
        &Data {
            tsn: tsn as u32,
            stream: f.stream,
            mid: f.mid,
            ppid: f.ppid,
            fsn: f.fsn,
            flags,
            interleaved,
            payload: f.payload(),
        },
    );
}
