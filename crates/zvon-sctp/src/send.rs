//! The send queue: user messages stored once (a `Vec` moved in, behind an `Arc`), one FIFO per
//! stream, and a weighted fair scheduler over the streams that have data. Fragments are ranges
//! of the stored message, so neither queuing nor retransmitting copies user data.
//!
//! The scheduler is stride scheduling (weighted fair queuing with virtual time), as dcsctp
//! weights streams by priority: every stream with data has a virtual time, the stream with the
//! lowest one sends next, and sending `n` bytes advances its virtual time by `n / priority`.
//! Over time each busy stream gets bytes in proportion to its priority (RFC 8831 6.4 / RFC
//! 8832 5.1: 128, 256, 512, 1024). A stream that was idle joins at the current virtual time, so
//! it neither banks credit while idle nor waits behind the backlog of a busy stream: a chat
//! message goes next, or after one bulk message without I-DATA, whatever the priorities.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use crate::chunk::flag;

/// One fragment handed to the retransmission queue: a range of a stored message plus the
/// header fields of its DATA / I-DATA chunk.
#[derive(Debug, Clone)]
pub(crate) struct Fragment {
    pub(crate) data: Arc<Vec<u8>>,
    pub(crate) start: u32,
    pub(crate) len: u32,
    pub(crate) stream: u16,
    /// SSN (DATA, 16 bits used) or MID (I-DATA).
    pub(crate) mid: u32,
    pub(crate) fsn: u32,
    pub(crate) ppid: u32,
    /// BEGIN / END / UNORDERED.
    pub(crate) flags: u8,
    pub(crate) expires: Option<Instant>,
    pub(crate) max_rtx: Option<u16>,
    /// Unique per message, to abandon all fragments of one message together.
    pub(crate) msg_seq: u64,
}

impl Fragment {
    pub(crate) fn payload(&self) -> &[u8] {
        // ok: start/len were cut from this very message by `produce`.
        &self.data[self.start as usize..(self.start + self.len) as usize]
    }
    pub(crate) fn unordered(&self) -> bool {
        self.flags & flag::UNORDERED != 0
    }
}

/// How long a message may try.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MessagePolicy {
    pub(crate) unordered: bool,
    pub(crate) expires: Option<Instant>,
    pub(crate) max_rtx: Option<u16>,
}

#[derive(Debug)]
struct OutMessage {
    data: Arc<Vec<u8>>,
    ppid: u32,
    policy: MessagePolicy,
    offset: usize,
    /// Assigned with the first fragment.
    mid: Option<u32>,
    next_fsn: u32,
    msg_seq: u64,
    /// Counts toward the buffered amount (user data; DCEP messages do not).
    counted: bool,
}

/// The priority of a stream nobody set one for: "normal" (RFC 8832 5.1), the W3C "low".
pub(crate) const DEFAULT_PRIORITY: u16 = 256;

/// Virtual time per byte at priority 1: large enough that even priority 65535 advances by a
/// whole unit per byte.
const STRIDE_SCALE: u64 = 1 << 16;

#[derive(Debug)]
struct OutStream {
    queue: VecDeque<OutMessage>,
    next_ssn: u32,
    next_unordered_mid: u32,
    buffered: usize,
    low_threshold: usize,
    /// Closing: no new messages are accepted.
    closed: bool,
    /// Has data and a place in the scheduler (an entry in the heap, or the current turn).
    active: bool,
    /// Weight in the scheduler (the channel priority, at least 1).
    priority: u16,
    /// Virtual time: where this stream stands in the fair share.
    pass: u64,
    /// Identifies this stream's live heap entry; older entries are stale.
    sched_seq: u64,
}

impl Default for OutStream {
    fn default() -> Self {
        Self {
            queue: VecDeque::new(),
            next_ssn: 0,
            next_unordered_mid: 0,
            buffered: 0,
            low_threshold: 0,
            closed: false,
            active: false,
            priority: DEFAULT_PRIORITY,
            pass: 0,
            sched_seq: 0,
        }
    }
}

/// Per-stream FIFOs and the weighted fair scheduler.
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    streams: BTreeMap<u16, OutStream>,
    /// Streams waiting for their turn, lowest virtual time first (ties in arrival order).
    /// Entries are checked against the stream when popped: a stream that went idle or away
    /// leaves a stale entry behind rather than costing a search.
    heap: BinaryHeap<Reverse<(u64, u64, u16)>>,
    /// The stream whose turn it is. With DATA (no interleaving) it keeps the turn until its
    /// current message is fully fragmented, since DATA fragments need consecutive TSNs.
    current: Option<u16>,
    /// Virtual time of the scheduler: that of the stream last given the turn.
    vtime: u64,
    next_sched_seq: u64,
    /// Streams with `active` set.
    active: usize,
    total_buffered: usize,
    next_msg_seq: u64,
    /// Streams whose buffered amount fell to or below their low threshold.
    pub(crate) low_events: Vec<u16>,
}

impl SendQueue {
    pub(crate) fn total_buffered(&self) -> usize {
        self.total_buffered
    }

    pub(crate) fn buffered(&self, stream: u16) -> usize {
        self.streams.get(&stream).map_or(0, |s| s.buffered)
    }

    pub(crate) fn set_low_threshold(&mut self, stream: u16, threshold: usize) {
        self.streams.entry(stream).or_default().low_threshold = threshold;
    }

    pub(crate) fn low_threshold(&self, stream: u16) -> usize {
        self.streams.get(&stream).map_or(0, |s| s.low_threshold)
    }

    /// Sets the stream's weight in the scheduler (the channel priority).
    pub(crate) fn set_priority(&mut self, stream: u16, priority: u16) {
        self.streams.entry(stream).or_default().priority = priority.max(1);
    }

    /// Queues a user message. The caller checked the size limits.
    pub(crate) fn push(&mut self, stream: u16, ppid: u32, data: Vec<u8>, policy: MessagePolicy) {
        self.push_inner(stream, ppid, data, policy, true);
    }

    /// Queues a protocol message (DCEP): sent in order with the stream's user messages, but
    /// not part of `bufferedAmount`.
    pub(crate) fn push_control(&mut self, stream: u16, ppid: u32, data: Vec<u8>) {
        self.push_inner(stream, ppid, data, MessagePolicy::default(), false);
    }

    fn push_inner(
        &mut self,
        stream: u16,
        ppid: u32,
        data: Vec<u8>,
        policy: MessagePolicy,
        counted: bool,
    ) {
        let s = self.streams.entry(stream).or_default();
        let len = if counted { data.len() } else { 0 };
        s.queue.push_back(OutMessage {
            data: Arc::new(data),
            ppid,
            policy,
            offset: 0,
            mid: None,
            next_fsn: 0,
            msg_seq: self.next_msg_seq,
            counted,
        });
        self.next_msg_seq += 1;
        s.buffered += len;
        self.total_buffered += len;
        if !s.active {
            s.active = true;
            self.active += 1;
            // An idle stream banks no credit: it joins at the current virtual time.
            s.pass = s.pass.max(self.vtime);
            Self::enqueue(&mut self.heap, &mut self.next_sched_seq, stream, s);
        }
    }

    fn enqueue(
        heap: &mut BinaryHeap<Reverse<(u64, u64, u16)>>,
        next_seq: &mut u64,
        sid: u16,
        s: &mut OutStream,
    ) {
        s.sched_seq = *next_seq;
        *next_seq += 1;
        heap.push(Reverse((s.pass, s.sched_seq, sid)));
    }

    fn deactivate(&mut self, sid: u16) {
        if let Some(s) = self.streams.get_mut(&sid)
            && s.active
        {
            s.active = false;
            self.active -= 1;
        }
        if self.current == Some(sid) {
            self.current = None;
        }
    }

    /// The stream whose turn it is: the current one, or the live heap entry with the lowest
    /// virtual time (which becomes current).
    fn turn(&mut self) -> Option<u16> {
        if let Some(sid) = self.current {
            return Some(sid);
        }
        while let Some(Reverse((pass, seq, sid))) = self.heap.pop() {
            if let Some(s) = self.streams.get(&sid)
                && s.active
                && s.sched_seq == seq
            {
                self.vtime = self.vtime.max(pass);
                self.current = Some(sid);
                return Some(sid);
            }
        }
        None
    }

    /// `true` when nothing waits to be fragmented.
    pub(crate) fn is_empty(&self) -> bool {
        self.active == 0
    }

    /// `true` when `stream` has no unsent bytes.
    pub(crate) fn stream_is_empty(&self, stream: u16) -> bool {
        self.streams.get(&stream).is_none_or(|s| s.queue.is_empty())
    }

    /// Cuts the next fragment of at most `max_payload` bytes, skipping messages whose lifetime
    /// ran out before any of it was sent. `interleaving` (I-DATA) lets the turn pass to the
    /// next stream after every fragment; without it a message is sent whole before the turn
    /// passes, since DATA fragments need consecutive TSNs.
    ///
    /// `fits_whole` is the room left in the packet being filled: a message that fits a fresh
    /// packet but not the room left returns `None`, so that small messages are not split just
    /// to fill a packet.
    pub(crate) fn produce(
        &mut self,
        now: Instant,
        max_payload: usize,
        room: usize,
        interleaving: bool,
    ) -> Option<Fragment> {
        loop {
            let sid = self.turn()?;
            let Some(s) = self.streams.get_mut(&sid) else {
                self.current = None;
                continue;
            };
            let Some(m) = s.queue.front_mut() else {
                self.deactivate(sid);
                continue;
            };
            if m.offset == 0 && m.policy.expires.is_some_and(|e| now >= e) {
                // Expired before a byte of it left: drop it without spending a TSN.
                let len = if m.counted { m.data.len() } else { 0 };
                s.queue.pop_front();
                s.buffered -= len;
                self.total_buffered -= len;
                Self::check_low(&mut self.low_events, sid, s, len);
                continue;
            }
            let remaining = m.data.len() - m.offset;
            let take = if remaining <= room {
                remaining
            } else if remaining > max_payload {
                // A large message fills whatever room the packet has.
                room
            } else {
                return None;
            };
            if take == 0 {
                return None;
            }
            let begin = m.offset == 0;
            let end = take == remaining;
            let mid = match m.mid {
                Some(mid) => mid,
                None => {
                    let mid = if m.policy.unordered {
                        let v = s.next_unordered_mid;
                        s.next_unordered_mid = v.wrapping_add(1);
                        v
                    } else {
                        let v = s.next_ssn;
                        s.next_ssn = v.wrapping_add(1);
                        v
                    };
                    m.mid = Some(mid);
                    mid
                }
            };
            let mut flags = 0;
            if begin {
                flags |= flag::BEGIN;
            }
            if end {
                flags |= flag::END;
            }
            if m.policy.unordered {
                flags |= flag::UNORDERED;
            }
            let frag = Fragment {
                data: m.data.clone(),
                start: m.offset as u32,
                len: take as u32,
                stream: sid,
                mid,
                fsn: m.next_fsn,
                ppid: m.ppid,
                flags,
                expires: m.policy.expires,
                max_rtx: m.policy.max_rtx,
                msg_seq: m.msg_seq,
            };
            m.offset += take;
            m.next_fsn = m.next_fsn.wrapping_add(1);
            let m_counted = m.counted;
            let counted = if m_counted { take } else { 0 };
            s.buffered -= counted;
            self.total_buffered -= counted;
            if end {
                s.queue.pop_front();
                if !m_counted && s.queue.is_empty() {
                    // The DCEP handshake is the only traffic of many channels: an idle
                    // channel keeps no queue buffer. User data keeps it for the next message.
                    s.queue.shrink_to_fit();
                }
            }
            if counted > 0 {
                Self::check_low(&mut self.low_events, sid, s, counted);
            }
            //# RFC 8831 6.4: channels are scheduled by priority; the stream pays for what it
            //# sent in virtual time, less the higher its priority.
            let cost = (take as u64 * STRIDE_SCALE / s.priority.max(1) as u64).max(1);
            s.pass = s.pass.saturating_add(cost);
            if s.queue.is_empty() {
                s.active = false;
                self.active -= 1;
                self.current = None;
            } else if end || interleaving {
                self.current = None;
                Self::enqueue(&mut self.heap, &mut self.next_sched_seq, sid, s);
            }
            return Some(frag);
        }
    }

    fn check_low(events: &mut Vec<u16>, sid: u16, s: &OutStream, taken: usize) {
        let before = s.buffered + taken;
        if before > s.low_threshold && s.buffered <= s.low_threshold {
            events.push(sid);
        }
    }

    /// Drops the unsent rest of an abandoned message (PR-SCTP).
    pub(crate) fn abandon_message(&mut self, stream: u16, msg_seq: u64) {
        if let Some(s) = self.streams.get_mut(&stream)
            && let Some(pos) = s.queue.iter().position(|m| m.msg_seq == msg_seq)
        {
            let m = &s.queue[pos];
            let left = if m.counted {
                m.data.len() - m.offset
            } else {
                0
            };
            s.queue.remove(pos);
            s.buffered -= left;
            self.total_buffered -= left;
            Self::check_low(&mut self.low_events, stream, s, left);
            if s.queue.is_empty() {
                self.deactivate(stream);
            } else if pos == 0 && self.current == Some(stream) {
                // The message that held the turn is gone: let the scheduler choose again.
                self.current = None;
                Self::enqueue(&mut self.heap, &mut self.next_sched_seq, stream, s);
            }
        }
    }

    /// Marks a stream closed for new messages (channel closing).
    pub(crate) fn close_stream(&mut self, stream: u16) {
        self.streams.entry(stream).or_default().closed = true;
    }

    pub(crate) fn is_closed(&self, stream: u16) -> bool {
        self.streams.get(&stream).is_some_and(|s| s.closed)
    }

    /// After an outgoing stream reset: sequence numbers restart at 0.
    pub(crate) fn reset_stream(&mut self, stream: u16) {
        if let Some(s) = self.streams.get_mut(&stream) {
            s.next_ssn = 0;
            s.next_unordered_mid = 0;
        }
    }

    /// Forgets a stream entirely (channel closed, id free for reuse).
    pub(crate) fn remove_stream(&mut self, stream: u16) {
        if let Some(s) = self.streams.remove(&stream) {
            let left: usize = s
                .queue
                .iter()
                .filter(|m| m.counted)
                .map(|m| m.data.len() - m.offset)
                .sum();
            self.total_buffered -= left;
            if s.active {
                self.active -= 1;
            }
            if self.current == Some(stream) {
                self.current = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Instant {
        // ok: tests are allowed a clock; the queue only compares instants.
        #[allow(clippy::disallowed_methods)]
        Instant::now()
    }

    #[test]
    fn fragments_cover_message_once() {
        let mut q = SendQueue::default();
        let msg: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        q.push(1, 53, msg.clone(), MessagePolicy::default());
        let t = now();
        let mut out = Vec::new();
        let mut flags = Vec::new();
        while let Some(f) = q.produce(t, 1000, 1000, false) {
            out.extend_from_slice(f.payload());
            flags.push(f.flags);
        }
        assert_eq!(out, msg);
        assert_eq!(flags.first(), Some(&flag::BEGIN));
        assert_eq!(flags.last(), Some(&flag::END));
        assert_eq!(q.total_buffered(), 0);
    }

    #[test]
    fn round_robin_by_message_and_by_fragment() {
        for interleaving in [false, true] {
            let mut q = SendQueue::default();
            q.push(1, 53, vec![1; 3000], MessagePolicy::default());
            q.push(1, 53, vec![1; 10], MessagePolicy::default());
            q.push(2, 51, vec![2; 10], MessagePolicy::default());
            let t = now();
            let order: Vec<u16> =
                std::iter::from_fn(|| q.produce(t, 1000, 1000, interleaving).map(|f| f.stream))
                    .collect();
            if interleaving {
                assert_eq!(order, [1, 2, 1, 1, 1]);
            } else {
                assert_eq!(order, [1, 1, 1, 2, 1]);
            }
        }
    }

    #[test]
    fn small_message_not_split_to_fill() {
        let mut q = SendQueue::default();
        q.push(1, 53, vec![0; 500], MessagePolicy::default());
        let t = now();
        assert!(q.produce(t, 1000, 300, false).is_none());
        assert_eq!(q.produce(t, 1000, 1000, false).unwrap().len, 500);
    }

    #[test]
    fn low_threshold_event() {
        let mut q = SendQueue::default();
        q.set_low_threshold(3, 1000);
        q.push(3, 53, vec![0; 2500], MessagePolicy::default());
        let t = now();
        q.produce(t, 1000, 1000, false);
        assert!(q.low_events.is_empty());
        q.produce(t, 1000, 1000, false);
        assert_eq!(q.low_events, [3]);
    }

    #[test]
    fn bytes_follow_priority_weights() {
        for interleaving in [false, true] {
            let mut q = SendQueue::default();
            q.set_priority(1, 1024);
            q.set_priority(2, 256);
            q.set_priority(3, 128);
            for _ in 0..2000 {
                for sid in 1..=3 {
                    q.push(sid, 53, vec![0; 1500], MessagePolicy::default());
                }
            }
            let t = now();
            let mut bytes = [0usize; 4];
            for _ in 0..1400 {
                let f = q.produce(t, 1000, 1000, interleaving).unwrap();
                bytes[f.stream as usize] += f.len as usize;
            }
            let r12 = bytes[1] as f64 / bytes[2] as f64;
            let r23 = bytes[2] as f64 / bytes[3] as f64;
            assert!((3.8..=4.2).contains(&r12), "{bytes:?}");
            assert!((1.9..=2.1).contains(&r23), "{bytes:?}");
        }
    }

    #[test]
    fn idle_stream_joins_at_current_virtual_time() {
        let mut q = SendQueue::default();
        q.set_priority(1, 1024);
        q.set_priority(2, 128);
        for _ in 0..100 {
            q.push(1, 53, vec![0; 1000], MessagePolicy::default());
        }
        let t = now();
        for _ in 0..50 {
            assert_eq!(q.produce(t, 1000, 1000, false).unwrap().stream, 1);
        }
        // A low-priority chat message waits behind at most the message being sent, however
        // long the bulk backlog and whatever the weights.
        q.push(2, 51, vec![0; 10], MessagePolicy::default());
        let order: Vec<u16> = (0..3)
            .map(|_| q.produce(t, 1000, 1000, false).unwrap().stream)
            .collect();
        assert!(order[..2].contains(&2), "{order:?}");
        // Idle time banks no credit: after the chat message, bulk flows again.
        assert_eq!(q.produce(t, 1000, 1000, false).unwrap().stream, 1);
    }

    #[test]
    fn removed_and_abandoned_streams_leave_no_turn_behind() {
        let mut q = SendQueue::default();
        q.push(1, 53, vec![0; 3000], MessagePolicy::default());
        q.push(2, 53, vec![0; 100], MessagePolicy::default());
        let t = now();
        assert_eq!(q.produce(t, 1000, 1000, false).unwrap().stream, 1);
        q.remove_stream(1);
        assert_eq!(q.produce(t, 1000, 1000, false).unwrap().stream, 2);
        assert!(q.produce(t, 1000, 1000, false).is_none());
        assert!(q.is_empty());
        q.push(3, 53, vec![0; 3000], MessagePolicy::default());
        let f = q.produce(t, 1000, 1000, false).unwrap();
        q.abandon_message(3, f.msg_seq);
        assert!(q.is_empty());
        assert!(q.produce(t, 1000, 1000, false).is_none());
        assert_eq!(q.total_buffered(), 0);
    }
}
