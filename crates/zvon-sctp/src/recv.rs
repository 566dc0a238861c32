//! The receive side: which TSNs arrived (what to SACK), and the reassembly of fragments into
//! messages delivered in order per stream.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::chunk::{Data, SackRepr, SkippedStream, flag};
use crate::tsn::{lt32, unwrap16, unwrap32};

/// Most gap ranges tracked: beyond this a TSN that would open a new range is dropped (the
/// peer retransmits it), so a hostile peer cannot grow the list without bound.
const MAX_GAPS: usize = 1024;
/// How far past the cumulative TSN data is accepted at all.
const MAX_AHEAD: u64 = 1 << 20;
/// What one piece of inbound data held apart costs beyond its payload: its map entry, its own
/// allocation and the allocator's share (measured by `tests/memory.rs`). Charged with the
/// payload against the receive window, so that a peer sending many tiny pieces out of order
/// fills the window long before it fills memory.
pub(crate) const ENTRY_OVERHEAD: usize = 192;

/// What the receiver has seen, and so what the next SACK says.
#[derive(Debug)]
pub(crate) struct DataTracker {
    /// Highest TSN received in sequence (unwrapped).
    cum: u64,
    /// Received ranges above `cum + 1`, sorted and disjoint, inclusive.
    gaps: Vec<(u64, u64)>,
    dups: Vec<u32>,
    /// Something happened that the peer should hear about at once (gap, duplicate, I-bit).
    pub(crate) ack_now: bool,
    pub(crate) packets_since_sack: u32,
    /// A SACK is owed (delayed or immediate).
    pub(crate) sack_owed: bool,
}

/// What to do with an arriving DATA chunk.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Observed {
    New,
    Duplicate,
    /// Beyond what is tracked: dropped without a trace, the peer will retransmit.
    Dropped,
}

impl DataTracker {
    pub(crate) fn new(peer_initial_tsn: u32) -> Self {
        Self {
            cum: (peer_initial_tsn as u64 | (1 << 32)) - 1,
            gaps: Vec::new(),
            dups: Vec::new(),
            ack_now: false,
            packets_since_sack: 0,
            sack_owed: false,
        }
    }

    pub(crate) fn cum(&self) -> u64 {
        self.cum
    }

    pub(crate) fn unwrap(&self, tsn: u32) -> u64 {
        unwrap32(self.cum, tsn)
    }

    /// Highest TSN seen (cumulative or in a gap).
    pub(crate) fn highest(&self) -> u64 {
        self.gaps.last().map_or(self.cum, |g| g.1)
    }

    pub(crate) fn observe(&mut self, tsn: u64, wire: u32) -> Observed {
        if tsn <= self.cum {
            self.duplicate(wire);
            return Observed::Duplicate;
        }
        if tsn - self.cum > MAX_AHEAD {
            return Observed::Dropped;
        }
        if tsn == self.cum + 1 {
            self.cum = tsn;
            if let Some(&(s, e)) = self.gaps.first()
                && s == self.cum + 1
            {
                self.cum = e;
                self.gaps.remove(0);
            }
            if !self.gaps.is_empty() {
                // Still a hole: tell the peer at once (RFC 9260 6.7).
                self.ack_now = true;
            }
            return Observed::New;
        }
        // Out of order: find where it goes.
        let i = self.gaps.partition_point(|&(_, e)| e < tsn);
        if let Some(&(s, _)) = self.gaps.get(i)
            && s <= tsn
        {
            self.duplicate(wire);
            return Observed::Duplicate;
        }
        let joins_prev = i > 0 && self.gaps[i - 1].1 + 1 == tsn;
        let joins_next = self.gaps.get(i).is_some_and(|g| g.0 == tsn + 1);
        match (joins_prev, joins_next) {
            (true, true) => {
                self.gaps[i - 1].1 = self.gaps[i].1;
                self.gaps.remove(i);
            }
            (true, false) => self.gaps[i - 1].1 = tsn,
            (false, true) => self.gaps[i].0 = tsn,
            (false, false) => {
                if self.gaps.len() >= MAX_GAPS {
                    return Observed::Dropped;
                }
                self.gaps.insert(i, (tsn, tsn));
            }
        }
        self.ack_now = true;
        Observed::New
    }

    fn duplicate(&mut self, wire: u32) {
        if self.dups.len() < 64 {
            self.dups.push(wire);
        }
        self.ack_now = true;
    }

    /// FORWARD-TSN: everything up to `new_cum` counts as received.
    pub(crate) fn forward_to(&mut self, new_cum: u64) {
        if new_cum <= self.cum {
            return;
        }
        self.cum = new_cum;
        self.gaps.retain(|&(_, e)| e > new_cum);
        if let Some(g) = self.gaps.first_mut()
            && g.0 <= new_cum
        {
            g.0 = new_cum + 1;
        }
        if let Some(&(s, e)) = self.gaps.first()
            && s == self.cum + 1
        {
            self.cum = e;
            self.gaps.remove(0);
        }
    }

    /// Writes a SACK and clears what it reported.
    pub(crate) fn write_sack(&mut self, a_rwnd: u32, max_len: usize, buf: &mut Vec<u8>) {
        let mut blocks = [(0u16, 0u16); 64];
        let mut n = 0;
        let room_blocks = (max_len.saturating_sub(16) / 4).min(blocks.len());
        for &(s, e) in &self.gaps {
            if n == room_blocks {
                break;
            }
            let (so, eo) = (s - self.cum, e - self.cum);
            if so > u16::MAX as u64 {
                break;
            }
            blocks[n] = (so as u16, eo.min(u16::MAX as u64) as u16);
            n += 1;
        }
        let ndups = self
            .dups
            .len()
            .min((max_len.saturating_sub(16) / 4).saturating_sub(n));
        SackRepr {
            cum_tsn: self.cum as u32,
            a_rwnd,
            gaps: &blocks[..n],
            dups: &self.dups[..ndups],
        }
        .encode(buf);
        self.dups.clear();
        self.ack_now = false;
        self.packets_since_sack = 0;
        self.sack_owed = false;
    }
}

/// A complete message ready for the application.
#[derive(Debug)]
pub(crate) struct Delivered {
    pub(crate) stream: u16,
    pub(crate) ppid: u32,
    pub(crate) data: Vec<u8>,
}

/// A message being reassembled. Fragments that arrive in order are appended straight into
/// `data` (one copy); others wait in `stash` until the hole before them fills.
#[derive(Debug, Default)]
struct Partial {
    ppid: u32,
    data: Vec<u8>,
    /// Next fragment key (TSN for DATA, FSN for I-DATA) the contiguous prefix wants; `None`
    /// until the first fragment arrived.
    next: Option<u64>,
    end_key: Option<u64>,
    stash: BTreeMap<u64, Vec<u8>>,
    /// What this message is charged: its payload, plus [`ENTRY_OVERHEAD`] for itself and for
    /// each fragment waiting in `stash`.
    bytes: usize,
}

impl Partial {
    /// Adds a fragment; returns what it adds to the charge.
    fn add(&mut self, key: u64, d: &Data<'_>) -> usize {
        if d.end() {
            self.end_key = Some(key);
        }
        let mut n = d.payload.len();
        if self.bytes == 0 {
            n += ENTRY_OVERHEAD;
        }
        if d.begin() {
            if self.next.is_some() {
                return 0; // a second first fragment: ignore
            }
            self.ppid = d.ppid;
            self.data.extend_from_slice(d.payload);
            self.next = Some(key + 1);
        } else if self.next == Some(key) {
            self.data.extend_from_slice(d.payload);
            self.next = Some(key + 1);
        } else {
            self.stash.insert(key, d.payload.to_vec());
            n += ENTRY_OVERHEAD;
        }
        self.bytes += n;
        while let Some(next) = self.next
            && let Some(v) = self.stash.remove(&next)
        {
            self.data.extend_from_slice(&v);
            self.next = Some(next + 1);
        }
        n
    }

    fn complete(&self) -> bool {
        matches!((self.next, self.end_key), (Some(n), Some(e)) if n == e + 1)
    }
}

#[derive(Debug, Default)]
struct InStream {
    /// Next ordered SSN/MID to deliver (unwrapped).
    next: u64,
    ordered: BTreeMap<u64, Partial>,
    /// I-DATA unordered messages in reassembly, by MID.
    unordered: BTreeMap<u64, Partial>,
    /// What this stream holds in reassembly, as charged (its share of `Reassembly::buffered`).
    buffered: usize,
}

/// A fragment of an unordered DATA message.
#[derive(Debug)]
struct UFrag {
    stream: u16,
    ppid: u32,
    flags: u8,
    payload: Vec<u8>,
}

/// Fragments of unordered DATA messages (no I-DATA), by TSN: DATA gives them nothing but TSN
/// adjacency to find each other. Runs of adjacent TSNs and the TSNs of first and last
/// fragments are indexed, so that a fragment costs O(log n) however long the run it joins (a
/// walk over the run made a peer sending tiny middle fragments cost quadratic time).
#[derive(Debug, Default)]
struct UnorderedFrags {
    frags: BTreeMap<u64, UFrag>,
    /// Runs of adjacent TSNs held: first TSN -> last TSN.
    runs: BTreeMap<u64, u64>,
    begins: BTreeSet<u64>,
    ends: BTreeSet<u64>,
}

impl UnorderedFrags {
    /// Adds a fragment; `false` if its TSN is held already.
    fn insert(&mut self, tsn: u64, f: UFrag) -> bool {
        if self.frags.contains_key(&tsn) {
            return false;
        }
        if f.flags & flag::BEGIN != 0 {
            self.begins.insert(tsn);
        }
        if f.flags & flag::END != 0 {
            self.ends.insert(tsn);
        }
        self.frags.insert(tsn, f);
        let mut start = tsn;
        if let Some((&s, &e)) = self.runs.range(..tsn).next_back()
            && e + 1 == tsn
        {
            start = s;
        }
        let end = self.runs.remove(&(tsn + 1)).unwrap_or(tsn);
        self.runs.insert(start, end);
        true
    }

    fn run_of(&self, tsn: u64) -> Option<(u64, u64)> {
        let (&s, &e) = self.runs.range(..=tsn).next_back()?;
        (e >= tsn).then_some((s, e))
    }

    /// The message around `tsn` when all of it is here: from the nearest first fragment at or
    /// before it to the nearest last fragment at or after it, over adjacent TSNs.
    fn complete_around(&self, tsn: u64) -> Option<(u64, u64)> {
        let (s, e) = self.run_of(tsn)?;
        let first = *self.begins.range(s..=tsn).next_back()?;
        let last = *self.ends.range(tsn..=e).next()?;
        Some((first, last))
    }

    /// Removes the fragments `first..=last` (adjacent, all held), in order.
    fn take(&mut self, first: u64, last: u64) -> impl Iterator<Item = UFrag> + '_ {
        if let Some((s, e)) = self.run_of(first) {
            self.runs.remove(&s);
            if s < first {
                self.runs.insert(s, first - 1);
            }
            if last < e {
                self.runs.insert(last + 1, e);
            }
        }
        (first..=last).filter_map(move |t| {
            self.begins.remove(&t);
            self.ends.remove(&t);
            self.frags.remove(&t)
        })
    }

    /// Removes every fragment at or below `cum` (FORWARD-TSN).
    fn drain_through(&mut self, cum: u64) -> impl Iterator<Item = UFrag> + use<> {
        let keep = self.frags.split_off(&(cum + 1));
        let old = std::mem::replace(&mut self.frags, keep);
        self.begins = self.begins.split_off(&(cum + 1));
        self.ends = self.ends.split_off(&(cum + 1));
        let mut keep_runs = self.runs.split_off(&(cum + 1));
        if let Some((_, &e)) = self.runs.iter().next_back()
            && e > cum
        {
            keep_runs.insert(cum + 1, e);
        }
        self.runs = keep_runs;
        old.into_values()
    }

    /// Removes every fragment of `stream` (stream reset; rare, so the index is rebuilt).
    fn remove_stream(&mut self, stream: u16) -> Vec<UFrag> {
        if !self.frags.values().any(|f| f.stream == stream) {
            return Vec::new();
        }
        let all = std::mem::take(&mut self.frags);
        *self = Self::default();
        let mut removed = Vec::new();
        for (tsn, f) in all {
            if f.stream == stream {
                removed.push(f);
            } else {
                self.insert(tsn, f);
            }
        }
        removed
    }
}

/// Reassembly and ordering for every incoming stream.
#[derive(Debug, Default)]
pub(crate) struct Reassembly {
    streams: BTreeMap<u16, InStream>,
    /// Fragments of unordered DATA messages (no I-DATA).
    unordered_frags: UnorderedFrags,
    /// Bytes held in reassembly, with [`ENTRY_OVERHEAD`] per piece held apart (counts against
    /// the receive window).
    pub(crate) buffered: usize,
    pub(crate) ready: VecDeque<Delivered>,
    /// A message grew beyond the local maximum message size.
    pub(crate) too_large: bool,
    max_message: usize,
}

impl Reassembly {
    pub(crate) fn new(max_message: usize) -> Self {
        Self {
            max_message,
            ..Default::default()
        }
    }

    /// Adds one new (not duplicate) DATA / I-DATA chunk whose TSN is `tsn`.
    pub(crate) fn add(&mut self, tsn: u64, d: &Data<'_>) {
        let complete_single = d.begin() && d.end();
        if d.unordered() {
            if complete_single {
                self.ready.push_back(Delivered {
                    stream: d.stream,
                    ppid: d.ppid,
                    data: d.payload.to_vec(),
                });
                return;
            }
            if d.interleaved {
                let s = self.streams.entry(d.stream).or_default();
                // Unordered messages need identity, not order: the wire MID is the key.
                let key = d.mid as u64;
                let p = s.unordered.entry(key).or_default();
                let charged = p.add(d.fsn as u64, d);
                self.buffered += charged;
                s.buffered += charged;
                if p.data.len() > self.max_message {
                    self.too_large = true;
                }
                if p.complete()
                    && let Some(p) = s.unordered.remove(&key)
                {
                    self.buffered -= p.bytes;
                    s.buffered -= p.bytes;
                    self.ready.push_back(Delivered {
                        stream: d.stream,
                        ppid: p.ppid,
                        data: p.data,
                    });
                }
            } else {
                self.add_unordered_data(tsn, d);
            }
            return;
        }
        let s = self.streams.entry(d.stream).or_default();
        let ssn = if d.interleaved {
            unwrap32(s.next, d.mid)
        } else {
            unwrap16(s.next, d.mid as u16)
        };
        if ssn < s.next {
            return; // already delivered or skipped
        }
        if complete_single && ssn == s.next {
            s.next += 1;
            self.ready.push_back(Delivered {
                stream: d.stream,
                ppid: d.ppid,
                data: d.payload.to_vec(),
            });
            if !s.ordered.is_empty() {
                Self::deliver_ordered(d.stream, s, &mut self.ready, &mut self.buffered);
            }
            return;
        }
        let key = if d.interleaved { d.fsn as u64 } else { tsn };
        let p = s.ordered.entry(ssn).or_default();
        let charged = p.add(key, d);
        self.buffered += charged;
        s.buffered += charged;
        if p.data.len() > self.max_message {
            self.too_large = true;
        }
        if ssn == s.next && p.complete() {
            Self::deliver_ordered(d.stream, s, &mut self.ready, &mut self.buffered);
        }
    }

    fn deliver_ordered(
        sid: u16,
        s: &mut InStream,
        ready: &mut VecDeque<Delivered>,
        buffered: &mut usize,
    ) {
        while let Some(p) = s.ordered.get(&s.next) {
            if !p.complete() {
                break;
            }
            let Some(p) = s.ordered.remove(&s.next) else {
                break;
            };
            *buffered -= p.bytes;
            s.buffered -= p.bytes;
            ready.push_back(Delivered {
                stream: sid,
                ppid: p.ppid,
                data: p.data,
            });
            s.next += 1;
        }
    }

    fn add_unordered_data(&mut self, tsn: u64, d: &Data<'_>) {
        let frag = UFrag {
            stream: d.stream,
            ppid: d.ppid,
            flags: d.flags,
            payload: d.payload.to_vec(),
        };
        if !self.unordered_frags.insert(tsn, frag) {
            return;
        }
        let charged = d.payload.len() + ENTRY_OVERHEAD;
        self.buffered += charged;
        self.streams.entry(d.stream).or_default().buffered += charged;
        let Some((first, last)) = self.unordered_frags.complete_around(tsn) else {
            return;
        };
        let mut data = Vec::new();
        let mut ppid = 0;
        let max_message = self.max_message;
        let (frags, buffered, streams) = (
            &mut self.unordered_frags,
            &mut self.buffered,
            &mut self.streams,
        );
        for f in frags.take(first, last) {
            if f.flags & flag::BEGIN != 0 {
                ppid = f.ppid;
            }
            let charged = f.payload.len() + ENTRY_OVERHEAD;
            *buffered -= charged;
            if let Some(s) = streams.get_mut(&f.stream) {
                s.buffered -= charged;
            }
            if data.len() <= max_message {
                data.extend_from_slice(&f.payload);
            }
        }
        if data.len() > self.max_message {
            self.too_large = true;
        }
        self.ready.push_back(Delivered {
            stream: d.stream,
            ppid,
            data,
        });
    }

    /// FORWARD-TSN / I-FORWARD-TSN (RFC 3758 3.6, RFC 8260 2.3.1): drop what was abandoned and
    /// move the ordered streams past the skipped messages.
    pub(crate) fn forward(
        &mut self,
        new_cum: u64,
        interleaved: bool,
        skipped: impl Iterator<Item = SkippedStream>,
    ) {
        if !interleaved {
            for f in self.unordered_frags.drain_through(new_cum) {
                self.uncharge_frag(f.stream, f.payload.len());
            }
        }
        for sk in skipped {
            let s = self.streams.entry(sk.stream).or_default();
            if sk.unordered {
                let buffered = &mut self.buffered;
                let stream_buffered = &mut s.buffered;
                s.unordered.retain(|&mid, p| {
                    let skipped = mid as u32 == sk.mid || lt32(mid as u32, sk.mid);
                    if skipped {
                        *buffered -= p.bytes;
                        *stream_buffered -= p.bytes;
                    }
                    !skipped
                });
                continue;
            }
            let ssn = if interleaved {
                unwrap32(s.next, sk.mid)
            } else {
                unwrap16(s.next, sk.mid as u16)
            };
            if ssn < s.next {
                continue;
            }
            let keep = s.ordered.split_off(&(ssn + 1));
            for (_, p) in std::mem::replace(&mut s.ordered, keep) {
                self.buffered -= p.bytes;
                s.buffered -= p.bytes;
            }
            s.next = ssn + 1;
            Self::deliver_ordered(sk.stream, s, &mut self.ready, &mut self.buffered);
        }
    }

    fn uncharge_frag(&mut self, sid: u16, len: usize) {
        let charged = len + ENTRY_OVERHEAD;
        self.buffered -= charged;
        if let Some(s) = self.streams.get_mut(&sid) {
            s.buffered -= charged;
        }
    }

    /// Incoming stream reset (RFC 6525 5.2.2): sequence numbers restart at 0, and whatever
    /// the stream still held is dropped.
    pub(crate) fn reset_stream(&mut self, stream: u16) {
        // Unordered DATA fragments of the stream: every TSN before the reset point arrived,
        // so these belong to messages that can never complete.
        // Their charge is part of the stream's, dropped below.
        drop(self.unordered_frags.remove_stream(stream));
        if let Some(s) = self.streams.remove(&stream) {
            self.buffered -= s.buffered;
        }
    }

    /// What `stream` holds in reassembly, as charged against the receive window.
    pub(crate) fn stream_buffered(&self, stream: u16) -> usize {
        self.streams.get(&stream).map_or(0, |s| s.buffered)
    }

    /// Streams with receive state (sequence numbers, reassembly).
    pub(crate) fn stream_count(&self) -> usize {
        self.streams.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::flag;

    fn d(tsn: u32, stream: u16, ssn: u32, flags: u8, payload: &[u8]) -> Data<'_> {
        Data {
            tsn,
            stream,
            mid: ssn,
            ppid: 53,
            fsn: 0,
            flags,
            interleaved: false,
            payload,
        }
    }

    #[test]
    fn tracker_gaps_and_dups() {
        let mut t = DataTracker::new(100);
        let u = |t: &DataTracker, x: u32| t.unwrap(x);
        for x in [100u32, 101, 103, 104, 106] {
            let tsn = u(&t, x);
            assert_eq!(t.observe(tsn, x), Observed::New);
        }
        assert_eq!(t.cum() as u32, 101);
        let tsn = u(&t, 103);
        assert_eq!(t.observe(tsn, 103), Observed::Duplicate);
        let mut buf = Vec::new();
        t.write_sack(1000, 1200, &mut buf);
        // cum 101, gaps (2,3) and (5,5), one dup
        assert_eq!(&buf[4..8], &101u32.to_be_bytes());
        assert_eq!(&buf[12..16], &[0, 2, 0, 1]);
        assert_eq!(&buf[16..24], &[0, 2, 0, 3, 0, 5, 0, 5]);
        let tsn = u(&t, 102);
        t.observe(tsn, 102);
        assert_eq!(t.cum() as u32, 104);
        t.forward_to(t.unwrap(106));
        assert_eq!(t.cum() as u32, 106);
        assert!(t.gaps.is_empty());
    }

    #[test]
    fn ordered_reassembly_out_of_order() {
        let mut r = Reassembly::new(1 << 20);
        // message ssn 1 (tsn 3,4) arrives before ssn 0 (tsn 1,2)
        r.add(3, &d(3, 0, 1, flag::BEGIN, b"cd"));
        r.add(4, &d(4, 0, 1, flag::END, b"ef"));
        assert!(r.ready.is_empty());
        r.add(2, &d(2, 0, 0, flag::END, b"b"));
        r.add(1, &d(1, 0, 0, flag::BEGIN, b"a"));
        let got: Vec<_> = r.ready.drain(..).map(|m| m.data).collect();
        assert_eq!(got, [b"ab".to_vec(), b"cdef".to_vec()]);
        assert_eq!(r.buffered, 0);
    }

    #[test]
    fn unordered_data_fragments() {
        let mut r = Reassembly::new(1 << 20);
        let u = flag::UNORDERED;
        r.add(11, &d(11, 2, 0, u | flag::END, b"3"));
        r.add(9, &d(9, 2, 0, u | flag::BEGIN, b"1"));
        assert!(r.ready.is_empty());
        r.add(10, &d(10, 2, 0, u, b"2"));
        assert_eq!(r.ready.pop_front().unwrap().data, b"123");
        assert_eq!(r.buffered, 0);
    }

    #[test]
    fn forward_tsn_skips_ordered_message() {
        let mut r = Reassembly::new(1 << 20);
        r.add(1, &d(1, 0, 0, flag::BEGIN, b"x")); // ssn 0 never completes
        r.add(3, &d(3, 0, 1, flag::BEGIN | flag::END, b"y"));
        assert!(r.ready.is_empty());
        r.forward(
            2,
            false,
            [SkippedStream {
                stream: 0,
                unordered: false,
                mid: 0,
            }]
            .into_iter(),
        );
        assert_eq!(r.ready.pop_front().unwrap().data, b"y");
        assert_eq!(r.buffered, 0);
    }

    #[test]
    fn unordered_data_runs_split_and_forward() {
        let mut r = Reassembly::new(1 << 20);
        let u = flag::UNORDERED;
        // Two partial messages side by side: [10 B, 11 m] [12 E]... 12 ends the first.
        r.add(10, &d(10, 1, 0, u | flag::BEGIN, b"a"));
        r.add(13, &d(13, 1, 0, u | flag::BEGIN, b"x"));
        r.add(14, &d(14, 1, 0, u, b"y"));
        r.add(12, &d(12, 1, 0, u | flag::END, b"c"));
        assert!(r.ready.is_empty());
        r.add(11, &d(11, 1, 0, u, b"b"));
        assert_eq!(r.ready.pop_front().unwrap().data, b"abc");
        // 13..14 remain, a run of their own; 15 completes it.
        r.add(15, &d(15, 1, 0, u | flag::END, b"z"));
        assert_eq!(r.ready.pop_front().unwrap().data, b"xyz");
        assert_eq!(r.buffered, 0);
        // A run cut by FORWARD-TSN keeps its part above the new cumulative TSN.
        r.add(20, &d(20, 1, 0, u | flag::BEGIN, b"1"));
        r.add(21, &d(21, 1, 0, u, b"2"));
        r.add(22, &d(22, 1, 0, u | flag::BEGIN, b"p"));
        r.forward(21, false, std::iter::empty());
        r.add(23, &d(23, 1, 0, u | flag::END, b"q"));
        assert_eq!(r.ready.pop_front().unwrap().data, b"pq");
        assert_eq!(r.buffered, 0);
        assert_eq!(r.stream_buffered(1), 0);
    }

    #[test]
    fn stream_reset_drops_unordered_fragments_and_their_charge() {
        let mut r = Reassembly::new(1 << 20);
        let u = flag::UNORDERED;
        r.add(5, &d(5, 2, 0, u | flag::BEGIN, b"a"));
        r.add(7, &d(7, 3, 0, u | flag::BEGIN, b"b"));
        r.reset_stream(2);
        assert_eq!(r.stream_buffered(2), 0);
        assert_eq!(r.buffered, r.stream_buffered(3));
        r.add(8, &d(8, 3, 0, u | flag::END, b"c"));
        assert_eq!(r.ready.pop_front().unwrap().data, b"bc");
        assert_eq!(r.buffered, 0);
    }
}
