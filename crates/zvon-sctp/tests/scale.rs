//! Many channels, channels closed mid-transfer, and a chat channel beside a bulk one.
mod common;

use std::time::Duration;

use common::*;
use zvon_netsim::{Limits, LinkConfig};
use zvon_sctp::{ChannelId, ChannelOptions, ChannelState, Event, MessageKind, priority};

fn link() -> LinkConfig {
    LinkConfig::ideal().with_latency(Duration::from_millis(10))
}

#[test]
fn thousand_channels_opened_used_and_closed() {
    let (mut sim, a, b) = pair(1, link(), |_| {});
    sim.run_until(Limits::time(secs(10)), |s| s.node(a).connected())
        .unwrap();
    let ids: Vec<ChannelId> = (0..1000)
        .map(|i| {
            sim.node_mut(a)
                .assoc
                .open_channel(ChannelOptions::new(format!("c{i}")))
                .unwrap()
        })
        .collect();
    assert!(ids.iter().all(|id| id.0 % 2 == 0));
    sim.run_until(Limits::time(secs(30)), |s| s.node(b).incoming.len() == 1000)
        .unwrap();
    for (i, id) in ids.iter().enumerate() {
        sim.node_mut(a)
            .assoc
            .send(*id, format!("hello {i}").into_bytes(), MessageKind::Text)
            .unwrap();
    }
    let total = |p: &Peer| {
        p.events
            .iter()
            .filter(|(_, e)| matches!(e, Event::Message { .. }))
            .count()
    };
    sim.run_until(Limits::time(secs(30)), |s| total(s.node(b)) == 1000)
        .unwrap();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            sim.node(b).messages(*id),
            vec![format!("hello {i}").into_bytes()]
        );
    }
    for id in &ids {
        sim.node_mut(a).assoc.close_channel(*id).unwrap();
    }
    let closed = |p: &Peer| {
        p.events
            .iter()
            .filter(|(_, e)| matches!(e, Event::ChannelClosed { .. }))
            .count()
    };
    sim.run_until(Limits::time(secs(120)), |s| {
        closed(s.node(a)) == 1000 && closed(s.node(b)) == 1000
    })
    .unwrap();
    assert_eq!(sim.node(a).assoc.channel_count(), 0);
    assert_eq!(sim.node(b).assoc.channel_count(), 0);
    assert!(sim.node(a).assoc.is_established());
}

#[test]
fn channel_closed_mid_transfer() {
    let (mut sim, a, b) = pair(2, link().with_loss(0.01), |_| {});
    let bulk = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("bulk"))
        .unwrap();
    let other = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("other"))
        .unwrap();
    sim.run_until(Limits::time(secs(10)), |s| s.node(b).incoming.len() == 2)
        .unwrap();
    sim.node_mut(a).bulk_tx = Some(BulkTx::new(bulk, 50 << 20, 16 * 1024, 256 * 1024));
    sim.node_mut(b).bulk_rx = Some((bulk, BulkRx::new(true, 16 * 1024)));
    sim.run_until(Limits::time(secs(60)), |s| {
        s.node(b).bulk_rx.as_ref().unwrap().1.bytes > 2 << 20
    })
    .unwrap();
    // The receiver closes the channel while the sender is still pushing.
    sim.node_mut(b).assoc.close_channel(bulk).unwrap();
    let closed =
        |p: &Peer| p.has_event(|e| matches!(e, Event::ChannelClosed { id } if *id == bulk));
    sim.run_until(Limits::time(secs(60)), |s| {
        closed(s.node(a)) && closed(s.node(b))
    })
    .unwrap();
    assert!(
        sim.node(a)
            .has_event(|e| matches!(e, Event::ChannelClosing { id } if *id == bulk))
    );
    assert_eq!(sim.node(a).assoc.channel_state(bulk), ChannelState::Closed);
    let got = sim.node(b).bulk_rx.as_ref().unwrap().1.bytes;
    assert!(got < 50 << 20, "the transfer was cut short");
    // The sender's send() now fails; the other channel still works.
    assert!(
        sim.node_mut(a)
            .assoc
            .send(bulk, vec![1], MessageKind::Binary)
            .is_err()
    );
    sim.node_mut(a).bulk_tx = None;
    sim.node_mut(a)
        .assoc
        .send(other, b"still here".to_vec(), MessageKind::Text)
        .unwrap();
    sim.run_until(Limits::time(secs(10)), |s| {
        s.node(b).messages(other).len() == 1
    })
    .unwrap();
    assert!(sim.node(a).assoc.is_established());
}

/// A chat message every 50 ms beside a bulk transfer on a 20 Mbit/s, 40 ms RTT link; returns
/// chat latencies in ms, sorted.
fn chat_latency(interleaving: bool) -> Vec<u64> {
    chat_latency_with(interleaving, priority::LOW, priority::LOW)
}

fn chat_latency_with(interleaving: bool, bulk_priority: u16, chat_priority: u16) -> Vec<u64> {
    let link = LinkConfig::ideal()
        .with_latency(Duration::from_millis(20))
        .with_rate(20_000_000, 64 * 1024);
    let (mut sim, a, b) = pair(3, link, |c| c.interleaving = interleaving);
    let mut opts = ChannelOptions::new("bulk");
    opts.priority = bulk_priority;
    let bulk = sim.node_mut(a).assoc.open_channel(opts).unwrap();
    let mut opts = ChannelOptions::new("chat");
    opts.priority = chat_priority;
    let chat = sim.node_mut(a).assoc.open_channel(opts).unwrap();
    sim.run_until(Limits::time(secs(10)), |s| s.node(b).incoming.len() == 2)
        .unwrap();
    assert_eq!(sim.node(a).assoc.interleaving(), interleaving);
    sim.node_mut(a).bulk_tx = Some(BulkTx::new(bulk, u64::MAX, 64 * 1024, 1 << 20));
    sim.node_mut(b).bulk_rx = Some((bulk, BulkRx::new(true, 64 * 1024)));
    let origin = sim.now();
    for i in 0..100u64 {
        let t = (sim.now() - origin).as_millis() as u64;
        let mut m = t.to_le_bytes().to_vec();
        m.extend_from_slice(format!("chat {i}").as_bytes());
        sim.node_mut(a)
            .assoc
            .send(chat, m, MessageKind::Text)
            .unwrap();
        sim.advance(Duration::from_millis(50)).unwrap();
    }
    sim.advance(secs(2)).unwrap();
    let mut lat: Vec<u64> = sim
        .node(b)
        .events
        .iter()
        .filter_map(|(at, e)| match e {
            Event::Message { id, data, .. } if *id == chat => {
                let sent = u64::from_le_bytes(data[..8].try_into().unwrap());
                Some((*at - origin).as_millis() as u64 - sent)
            }
            _ => None,
        })
        .collect();
    assert_eq!(lat.len(), 100, "every chat message arrives");
    let bulk_bytes = sim.node(b).bulk_rx.as_ref().unwrap().1.bytes;
    assert!(
        bulk_bytes > 5 << 20,
        "the bulk channel moves too: {bulk_bytes}"
    );
    lat.sort_unstable();
    lat
}

#[test]
fn chat_beside_bulk_is_not_starved() {
    for il in [true, false] {
        let lat = chat_latency(il);
        let (p50, p99, max) = (lat[50], lat[98], lat[99]);
        println!(
            "chat latency beside bulk ({}): p50 {p50} ms, p99 {p99} ms, max {max} ms (RTT 40 ms)",
            if il { "I-DATA" } else { "DATA" }
        );
        // One-way delay is 20 ms plus the bottleneck queue (64 KiB at 20 Mbit/s: 26 ms) plus
        // at most one bulk message ahead in the send queue without I-DATA.
        assert!(p50 < 250, "p50 {p50} ms");
        assert!(max < 1000, "max {max} ms");
    }
}

/// Two bulk channels, `high` beside `low` priority, both always backlogged on a 20 Mbit/s link:
/// the bytes they get follow the weights (1024 : 256), with DATA and with I-DATA. Returns the
/// ratio measured after the first second.
fn weighted_ratio(interleaving: bool) -> f64 {
    let link = LinkConfig::ideal()
        .with_latency(Duration::from_millis(20))
        .with_rate(20_000_000, 64 * 1024);
    let (mut sim, a, b) = pair(4, link, |c| c.interleaving = interleaving);
    let mut ids = Vec::new();
    for (label, prio) in [("high", priority::HIGH), ("low", priority::LOW)] {
        let mut opts = ChannelOptions::new(label);
        opts.priority = prio;
        ids.push(sim.node_mut(a).assoc.open_channel(opts).unwrap());
    }
    sim.run_until(Limits::time(secs(10)), |s| s.node(b).incoming.len() == 2)
        .unwrap();
    assert_eq!(
        sim.node(b).assoc.channel_priority(ids[0]),
        Some(priority::HIGH),
        "the peer learns the priority from DATA_CHANNEL_OPEN"
    );
    for &id in &ids {
        sim.node_mut(a)
            .more_tx
            .push(BulkTx::new(id, u64::MAX, 16 * 1024, 1 << 20));
        sim.node_mut(b)
            .more_rx
            .push((id, BulkRx::new(true, 16 * 1024)));
    }
    sim.advance(secs(1)).unwrap();
    let got = |sim: &zvon_netsim::Sim<Peer>| -> Vec<u64> {
        sim.node(b).more_rx.iter().map(|(_, r)| r.bytes).collect()
    };
    let start = got(&sim);
    sim.advance(secs(4)).unwrap();
    let end = got(&sim);
    let (high, low) = (end[0] - start[0], end[1] - start[1]);
    assert!(
        high + low > 6_000_000,
        "the link is used: {high} + {low} bytes"
    );
    high as f64 / low as f64
}

#[test]
fn bulk_channels_share_by_priority() {
    for il in [true, false] {
        let ratio = weighted_ratio(il);
        println!(
            "high : low priority bulk ({}): {ratio:.2} (weights 1024 : 256)",
            if il { "I-DATA" } else { "DATA" }
        );
        assert!((3.5..=4.5).contains(&ratio), "ratio {ratio:.2}");
    }
}

#[test]
fn low_priority_chat_beside_high_priority_bulk_is_not_starved() {
    for il in [true, false] {
        let lat = chat_latency_with(il, priority::HIGH, priority::VERY_LOW);
        let (p50, max) = (lat[50], lat[99]);
        println!(
            "very-low chat beside high bulk ({}): p50 {p50} ms, max {max} ms",
            if il { "I-DATA" } else { "DATA" }
        );
        assert!(p50 < 250, "p50 {p50} ms");
        assert!(max < 1000, "max {max} ms");
    }
}
