//! Unordered and partially reliable channels under loss deliver what their policy promises and
//! never more: every message intact, none twice, ordered ones in order, reliable ones all.
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use zvon_netsim::{HostId, Limits, LinkConfig, Sim};
use zvon_sctp::{ChannelId, ChannelOptions, Event, MessageKind, Reliability};

fn msg(seq: u64, len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    fill(seq, &mut v, len);
    v[..8].copy_from_slice(&seq.to_le_bytes());
    v
}

fn seq_of(data: &[u8]) -> u64 {
    let seq = u64::from_le_bytes(data[..8].try_into().unwrap());
    assert_eq!(data, &msg(seq, data.len())[..], "message {seq} corrupted");
    seq
}

/// Sends `n` messages of `len` bytes every `gap` on a channel with these options, over a lossy
/// link; returns the sequence numbers the receiver got, in arrival order.
fn run(
    seed: u64,
    opts: ChannelOptions,
    link: LinkConfig,
    n: u64,
    len: usize,
    gap: Duration,
) -> (Sim<Peer>, HostId, HostId, ChannelId, Vec<u64>) {
    let (mut sim, a, b) = pair(seed, link, |_| {});
    let id = sim.node_mut(a).assoc.open_channel(opts).unwrap();
    sim.run_until(Limits::time(secs(60)), |s| !s.node(b).incoming.is_empty())
        .unwrap();
    for i in 0..n {
        sim.node_mut(a)
            .assoc
            .send(id, msg(i, len), MessageKind::Binary)
            .unwrap();
        sim.advance(gap).unwrap();
    }
    // Let everything settle: the sender's queue empties and the retransmission queue drains
    // (acked, or abandoned and skipped with FORWARD-TSN).
    sim.advance(secs(60)).unwrap();
    let got: Vec<u64> = sim.node(b).messages(id).iter().map(|d| seq_of(d)).collect();
    (sim, a, b, id, got)
}

fn assert_no_duplicates(got: &[u64], n: u64) {
    let set: BTreeSet<u64> = got.iter().copied().collect();
    assert_eq!(set.len(), got.len(), "a message was delivered twice");
    assert!(got.iter().all(|&s| s < n), "a message that was never sent");
}

fn lossy(p: f64) -> LinkConfig {
    LinkConfig::ideal()
        .with_latency(Duration::from_millis(20))
        .with_loss(p)
}

#[test]
fn unordered_reliable_delivers_all_exactly_once() {
    let mut o = ChannelOptions::new("u");
    o.ordered = false;
    let n = 2000;
    let (_, _, _, _, got) = run(1, o, lossy(0.05), n, 3000, Duration::from_millis(2));
    assert_no_duplicates(&got, n);
    assert_eq!(got.len() as u64, n, "reliable: every message");
    // Under loss, unordered delivery really does reorder.
    assert!(got.windows(2).any(|w| w[0] > w[1]));
}

#[test]
fn ordered_max_retransmits_zero_is_a_subset_in_order() {
    let mut o = ChannelOptions::new("pr");
    o.reliability = Reliability::MaxRetransmits(0);
    let n = 2000;
    let (sim, a, b, _, got) = run(2, o, lossy(0.1), n, 200, Duration::from_millis(2));
    assert_no_duplicates(&got, n);
    assert!(got.windows(2).all(|w| w[0] < w[1]), "ordered");
    assert!(
        (got.len() as u64) < n,
        "10% loss with no retransmission loses some"
    );
    assert!(got.len() as u64 > n * 7 / 10, "most arrive: {}", got.len());
    // Nothing is stuck: the association is still healthy and idle.
    assert_eq!(
        sim.node(a).assoc.congestion().1,
        0,
        "nothing left in flight"
    );
    assert_eq!(sim.node(a).errors + sim.node(b).errors, 0);
}

#[test]
fn unordered_max_retransmits_multi_fragment() {
    let mut o = ChannelOptions::new("pr-u");
    o.ordered = false;
    o.reliability = Reliability::MaxRetransmits(1);
    let n = 500;
    // Messages of several fragments: a lost fragment retried once, then the whole message goes.
    let (sim, a, _, _, got) = run(3, o, lossy(0.1), n, 5000, Duration::from_millis(5));
    assert_no_duplicates(&got, n);
    assert!((got.len() as u64) < n);
    assert!(got.len() as u64 > n / 2, "{}", got.len());
    assert_eq!(sim.node(a).assoc.congestion().1, 0);
}

#[test]
fn max_lifetime_drops_late_messages_only() {
    let mut o = ChannelOptions::new("pr-t");
    o.reliability = Reliability::MaxLifetimeMs(150);
    // 0.4 Mbit/s offered: a lost packet is usually repaired within its lifetime, but not when
    // the repair needs the retransmission timer (200 ms at least).
    let n = 300;
    let (sim, a, _, _, got) = run(4, o, lossy(0.1), n, 1000, Duration::from_millis(20));
    assert_no_duplicates(&got, n);
    assert!(got.windows(2).all(|w| w[0] < w[1]));
    assert!((got.len() as u64) < n);
    assert!(got.len() as u64 > n * 7 / 10, "{}", got.len());
    assert_eq!(sim.node(a).assoc.congestion().1, 0);
    // At this rate some losses are found by the timer, not by SACKs.
    assert!(sim.node(a).assoc.stats().t3_expiries > 0);
}

#[test]
fn reliable_channel_beside_partial_one_gets_everything() {
    let (mut sim, a, b) = pair(5, lossy(0.1), |_| {});
    let mut o = ChannelOptions::new("pr");
    o.reliability = Reliability::MaxRetransmits(0);
    let pr = sim.node_mut(a).assoc.open_channel(o).unwrap();
    let rel = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("rel"))
        .unwrap();
    sim.run_until(Limits::time(secs(60)), |s| s.node(b).incoming.len() == 2)
        .unwrap();
    for i in 0..1000u64 {
        let pa = &mut sim.node_mut(a).assoc;
        pa.send(pr, msg(i, 300), MessageKind::Binary).unwrap();
        pa.send(rel, msg(i, 300), MessageKind::Binary).unwrap();
        sim.advance(Duration::from_millis(2)).unwrap();
    }
    sim.run_until(Limits::time(secs(120)), |s| {
        s.node(b).messages(rel).len() == 1000
    })
    .unwrap();
    let got: Vec<u64> = sim
        .node(b)
        .messages(rel)
        .iter()
        .map(|d| seq_of(d))
        .collect();
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
    let pr_got: Vec<u64> = sim.node(b).messages(pr).iter().map(|d| seq_of(d)).collect();
    assert_no_duplicates(&pr_got, 1000);
    assert!(
        !sim.node(b)
            .has_event(|e| matches!(e, Event::Aborted { .. }))
    );
}
