//! Handshake, data channels and their messages, in the simulator.
mod common;

use std::time::Duration;

use common::*;
use zvon_netsim::{Limits, LinkConfig};
use zvon_sctp::{ChannelId, ChannelOptions, ChannelState, Event, MessageKind, Reliability};

fn connected_pair(
    seed: u64,
    link: LinkConfig,
) -> (
    zvon_netsim::Sim<Peer>,
    zvon_netsim::HostId,
    zvon_netsim::HostId,
) {
    let (mut sim, a, b) = pair(seed, link, |_| {});
    sim.run_until(Limits::time(secs(30)), |s| {
        s.node(a).connected() && s.node(b).connected()
    })
    .unwrap();
    (sim, a, b)
}

#[test]
fn simultaneous_init_establishes_once() {
    let (sim, a, b) = connected_pair(
        1,
        LinkConfig::ideal().with_latency(Duration::from_millis(10)),
    );
    for h in [a, b] {
        let p = sim.node(h);
        assert!(p.assoc.is_established());
        let n = p
            .events
            .iter()
            .filter(|(_, e)| matches!(e, Event::Connected))
            .count();
        assert_eq!(n, 1);
    }
    assert!(sim.node(a).assoc.zero_checksum() && sim.node(a).assoc.interleaving());
}

#[test]
fn one_sided_connect() {
    let (mut sim, a, b) = pair(
        2,
        LinkConfig::ideal().with_latency(Duration::from_millis(5)),
        |_| {},
    );
    // Replace B with a fresh association that does not connect.
    let now = sim.now();
    let fresh = zvon_sctp::Association::new(
        zvon_sctp::Config::new(zvon_sctp::Role::Server),
        zvon_base::Rng::from_seed_u64(99),
        now,
    );
    sim.node_mut(b).assoc = fresh;
    sim.run_until(Limits::time(secs(10)), |s| {
        s.node(a).connected() && s.node(b).connected()
    })
    .unwrap();
}

#[test]
fn in_band_channel_text_binary_empty() {
    let (mut sim, a, b) = connected_pair(
        3,
        LinkConfig::ideal().with_latency(Duration::from_millis(10)),
    );
    let mut opts = ChannelOptions::new("chat");
    opts.protocol = "proto".into();
    let id = sim.node_mut(a).assoc.open_channel(opts).unwrap();
    assert_eq!(id.0 % 2, 0, "DTLS client uses even ids");
    sim.run_until(Limits::time(secs(5)), |s| !s.node(b).incoming.is_empty())
        .unwrap();
    assert!(sim.node(b).has_event(|e| matches!(e, Event::IncomingChannel { id: i, label, protocol, ordered: true, reliability: Reliability::Reliable } if *i == id && label == "chat" && protocol == "proto")));
    assert_eq!(sim.node(b).assoc.channel_state(id), ChannelState::Open);
    let pa = sim.node_mut(a);
    pa.assoc
        .send(id, b"hello".to_vec(), MessageKind::Text)
        .unwrap();
    pa.assoc
        .send(id, vec![1, 2, 3], MessageKind::Binary)
        .unwrap();
    pa.assoc.send(id, Vec::new(), MessageKind::Text).unwrap();
    pa.assoc.send(id, Vec::new(), MessageKind::Binary).unwrap();
    sim.run_until(Limits::time(secs(5)), |s| s.node(b).messages(id).len() == 4)
        .unwrap();
    let kinds: Vec<(Vec<u8>, MessageKind)> = sim
        .node(b)
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Message { data, kind, .. } => Some((data.clone(), *kind)),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            (b"hello".to_vec(), MessageKind::Text),
            (vec![1, 2, 3], MessageKind::Binary),
            (vec![], MessageKind::Text),
            (vec![], MessageKind::Binary),
        ]
    );
    // And back, on the same channel.
    sim.node_mut(b)
        .assoc
        .send(id, b"pong".to_vec(), MessageKind::Text)
        .unwrap();
    sim.run_until(Limits::time(secs(5)), |s| s.node(a).messages(id).len() == 1)
        .unwrap();
}

#[test]
fn server_uses_odd_ids_and_negotiated_channels() {
    let (mut sim, a, b) = connected_pair(
        4,
        LinkConfig::ideal().with_latency(Duration::from_millis(10)),
    );
    let id = sim
        .node_mut(b)
        .assoc
        .open_channel(ChannelOptions::new("x"))
        .unwrap();
    assert_eq!(id.0 % 2, 1);
    let mut n = ChannelOptions::new("neg");
    n.negotiated = Some(42);
    let na = sim.node_mut(a).assoc.open_channel(n.clone()).unwrap();
    let nb = sim.node_mut(b).assoc.open_channel(n.clone()).unwrap();
    assert_eq!((na, nb), (ChannelId(42), ChannelId(42)));
    assert!(sim.node_mut(a).assoc.open_channel(n).is_err(), "id in use");
    sim.node_mut(a)
        .assoc
        .send(na, b"negotiated".to_vec(), MessageKind::Text)
        .unwrap();
    sim.run_until(Limits::time(secs(5)), |s| s.node(b).messages(nb).len() == 1)
        .unwrap();
    assert!(
        sim.node(b).incoming.is_empty(),
        "no DCEP for a negotiated channel"
    );
}

#[test]
fn message_size_limits() {
    let (mut sim, a, b) = connected_pair(
        5,
        LinkConfig::ideal().with_latency(Duration::from_millis(10)),
    );
    let id = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("big"))
        .unwrap();
    let too_big = vec![7u8; 65537];
    assert!(matches!(
        sim.node_mut(a).assoc.send(id, too_big, MessageKind::Binary),
        Err(zvon_sctp::Error::MessageTooLarge {
            size: 65537,
            max: 65536
        })
    ));
    let max = vec![9u8; 65536];
    sim.node_mut(a)
        .assoc
        .send(id, max.clone(), MessageKind::Binary)
        .unwrap();
    sim.run_until(Limits::time(secs(5)), |s| s.node(b).messages(id).len() == 1)
        .unwrap();
    assert_eq!(sim.node(b).messages(id)[0], max);
}

#[test]
fn channel_opened_before_connect_opens_on_establishment() {
    let (mut sim, a, b) = pair(
        6,
        LinkConfig::ideal().with_latency(Duration::from_millis(10)),
        |_| {},
    );
    let id = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("early"))
        .unwrap();
    assert_eq!(
        sim.node(a).assoc.channel_state(id),
        ChannelState::Connecting
    );
    assert!(
        sim.node_mut(a)
            .assoc
            .send(id, b"x".to_vec(), MessageKind::Text)
            .is_err()
    );
    sim.run_until(Limits::time(secs(5)), |s| {
        s.node(a)
            .has_event(|e| matches!(e, Event::ChannelOpen { .. }))
    })
    .unwrap();
    sim.node_mut(a)
        .assoc
        .send(id, b"x".to_vec(), MessageKind::Text)
        .unwrap();
    sim.run_until(Limits::time(secs(5)), |s| s.node(b).messages(id).len() == 1)
        .unwrap();
}

#[test]
fn close_channel_both_sides_see_closed_and_id_reused() {
    let (mut sim, a, b) = connected_pair(
        7,
        LinkConfig::ideal().with_latency(Duration::from_millis(10)),
    );
    let id = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("c"))
        .unwrap();
    sim.run_until(Limits::time(secs(5)), |s| !s.node(b).incoming.is_empty())
        .unwrap();
    for i in 0..10u8 {
        sim.node_mut(a)
            .assoc
            .send(id, vec![i; 3000], MessageKind::Binary)
            .unwrap();
    }
    sim.node_mut(a).assoc.close_channel(id).unwrap();
    assert_eq!(sim.node(a).assoc.channel_state(id), ChannelState::Closing);
    let closed =
        |p: &Peer| p.has_event(|e| matches!(e, Event::ChannelClosed { id: i } if *i == id));
    sim.run_until(Limits::time(secs(10)), |s| {
        closed(s.node(a)) && closed(s.node(b))
    })
    .unwrap();
    // Everything queued before close arrived first.
    assert_eq!(sim.node(b).messages(id).len(), 10);
    assert!(
        sim.node(b)
            .has_event(|e| matches!(e, Event::ChannelClosing { .. }))
    );
    // The id is free again, and its sequence numbers restarted on both sides.
    let again = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("again"))
        .unwrap();
    assert_eq!(again, id);
    sim.run_until(Limits::time(secs(5)), |s| s.node(b).incoming.len() == 2)
        .unwrap();
    sim.node_mut(a)
        .assoc
        .send(again, b"fresh".to_vec(), MessageKind::Text)
        .unwrap();
    sim.run_until(Limits::time(secs(5)), |s| {
        s.node(b).messages(id).len() == 11
    })
    .unwrap();
}

#[test]
fn graceful_shutdown() {
    let (mut sim, a, b) = connected_pair(
        8,
        LinkConfig::ideal().with_latency(Duration::from_millis(10)),
    );
    let id = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("c"))
        .unwrap();
    sim.run_until(Limits::time(secs(5)), |s| !s.node(b).incoming.is_empty())
        .unwrap();
    sim.node_mut(a)
        .assoc
        .send(id, vec![1; 50_000], MessageKind::Binary)
        .unwrap();
    let now = sim.now();
    sim.node_mut(a).assoc.close(now);
    let closed = |p: &Peer| p.has_event(|e| matches!(e, Event::Closed));
    sim.run_until(Limits::time(secs(10)), |s| {
        closed(s.node(a)) && closed(s.node(b))
    })
    .unwrap();
    assert_eq!(sim.node(b).messages(id).len(), 1);
}

#[test]
fn abort_reaches_peer_with_cause() {
    let (mut sim, a, b) = connected_pair(
        9,
        LinkConfig::ideal().with_latency(Duration::from_millis(10)),
    );
    sim.node_mut(a).assoc.abort("going away");
    sim.run_until(Limits::time(secs(5)), |s| {
        s.node(b).has_event(|e| matches!(e, Event::Aborted { .. }))
    })
    .unwrap();
    let reason = sim.node(b).events.iter().find_map(|(_, e)| match e {
        Event::Aborted { reason } => Some(reason.to_string()),
        _ => None,
    });
    assert!(reason.unwrap().contains("going away"));
}

#[test]
fn staggered_connects_and_lossy_handshakes_establish() {
    for (seed, delay_ms, loss) in [
        (10u64, 5u64, 0.0),
        (11, 15, 0.0),
        (12, 25, 0.0),
        (13, 0, 0.3),
        (14, 7, 0.3),
        (15, 3, 0.3),
    ] {
        let link = LinkConfig::ideal()
            .with_latency(Duration::from_millis(10))
            .with_loss(loss);
        let (mut sim, a, b) = pair(seed, link, |_| {});
        // Replace B with one that connects `delay_ms` later.
        let now = sim.now();
        sim.node_mut(b).assoc = zvon_sctp::Association::new(
            zvon_sctp::Config::new(zvon_sctp::Role::Server),
            zvon_base::Rng::from_seed_u64(seed),
            now,
        );
        sim.advance(Duration::from_millis(delay_ms)).unwrap();
        let now = sim.now();
        let _ = sim.node_mut(b).assoc.connect(now);
        sim.run_until(Limits::time(secs(300)), |s| {
            s.node(a).connected() && s.node(b).connected()
        })
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        // And the association really works both ways.
        let id = sim
            .node_mut(a)
            .assoc
            .open_channel(ChannelOptions::new("x"))
            .unwrap();
        sim.run_until(Limits::time(secs(300)), |s| !s.node(b).incoming.is_empty())
            .unwrap_or_else(|e| {
                panic!(
                    "seed {seed}: {e}: a {:?} {:?} {:?} / b {:?} {:?}",
                    sim.node(a).assoc,
                    sim.node(a).assoc.congestion(),
                    sim.node(a).events,
                    sim.node(b).assoc,
                    sim.node(b).events
                )
            });
        sim.node_mut(b)
            .assoc
            .send(id, b"back".to_vec(), MessageKind::Text)
            .unwrap();
        sim.run_until(Limits::time(secs(300)), |s| {
            s.node(a).messages(id).len() == 1
        })
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}

#[test]
fn buffered_amount_counts_user_bytes_and_fires_low_once_below_threshold() {
    let (mut sim, a, b) = connected_pair(
        20,
        LinkConfig::ideal().with_latency(Duration::from_millis(10)),
    );
    let id = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("buf"))
        .unwrap();
    assert_eq!(
        sim.node(a).assoc.buffered_amount(id),
        0,
        "the DCEP OPEN is not user data"
    );
    sim.run_until(Limits::time(secs(5)), |s| !s.node(b).incoming.is_empty())
        .unwrap();
    assert!(
        !sim.node(a)
            .has_event(|e| matches!(e, Event::BufferedAmountLow { .. }))
    );
    sim.node_mut(a)
        .assoc
        .set_buffered_amount_low_threshold(id, 100_000);
    for _ in 0..20 {
        sim.node_mut(a)
            .assoc
            .send(id, vec![0; 50_000], MessageKind::Binary)
            .unwrap();
    }
    assert_eq!(sim.node(a).assoc.buffered_amount(id), 1_000_000);
    sim.run_until(Limits::time(secs(30)), |s| {
        s.node(b).messages(id).len() == 20
    })
    .unwrap();
    let lows = sim
        .node(a)
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::BufferedAmountLow { .. }))
        .count();
    assert_eq!(lows, 1, "one crossing, one event");
    assert_eq!(sim.node(a).assoc.buffered_amount(id), 0);
}

#[test]
fn heartbeats_keep_an_idle_association_and_detect_a_dead_peer() {
    let link = LinkConfig::ideal().with_latency(Duration::from_millis(30));
    let (mut sim, a, b) = pair(21, link, |c| {
        c.heartbeat_interval = Some(Duration::from_secs(1));
        c.max_retransmissions = Some(5);
    });
    sim.run_until(Limits::time(secs(10)), |s| {
        s.node(a).connected() && s.node(b).connected()
    })
    .unwrap();
    // Idle for a minute: heartbeats go both ways, RTT is measured, nothing breaks.
    sim.advance(secs(60)).unwrap();
    let pa = sim.node(a);
    assert!(pa.assoc.is_established() && sim.node(b).assoc.is_established());
    assert!(pa.assoc.stats().packets_sent > 30, "heartbeats were sent");
    let rtt = pa.assoc.rtt().expect("heartbeat acks measure the RTT");
    assert!(
        rtt >= Duration::from_millis(55) && rtt <= Duration::from_millis(70),
        "{rtt:?}"
    );
    // The peer goes silent: A gives up after max_retransmissions unanswered heartbeats.
    sim.cut(b);
    sim.run_until(Limits::time(secs(600)), |s| {
        s.node(a).has_event(|e| {
            matches!(
                e,
                Event::Aborted {
                    reason: zvon_sctp::Error::Unreachable(_)
                }
            )
        })
    })
    .unwrap();
    assert_eq!(
        sim.node(a).assoc.state(),
        zvon_sctp::AssociationState::Closed
    );
}

#[test]
fn association_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<zvon_sctp::Association>();
    check::<Event>();
}

/// RFC 7053: the last DATA chunk before the sender goes idle carries the I-bit, so a message
/// spanning an odd number of packets is acknowledged at once instead of after the 200 ms
/// delayed-SACK timer (the stall sctp-proto and rtc-sctp show, see /work/shared/PEERS.md).
#[test]
fn odd_packet_messages_do_not_wait_for_the_delayed_sack() {
    let (mut sim, a, b) = connected_pair(
        22,
        LinkConfig::ideal().with_latency(Duration::from_millis(5)),
    );
    let id = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("ping"))
        .unwrap();
    sim.run_until(Limits::time(secs(5)), |s| !s.node(b).incoming.is_empty())
        .unwrap();
    let start = sim.now();
    for i in 0..50 {
        // Three packets' worth: the receiver would SACK after two and delay the third.
        sim.node_mut(a)
            .assoc
            .send(id, vec![i as u8; 3000], MessageKind::Binary)
            .unwrap();
        sim.run_until(Limits::time(secs(5)), |s| {
            s.node(b).messages(id).len() == i + 1 && s.node(a).assoc.congestion().1 == 0
        })
        .unwrap();
    }
    let per_message = (sim.now() - start) / 50;
    // One round trip is 10 ms; a delayed SACK would make it 200 ms.
    assert!(
        per_message < Duration::from_millis(15),
        "{per_message:?} per message"
    );
}

#[test]
fn shutdown_waits_for_the_peers_queued_data() {
    let link = LinkConfig::ideal()
        .with_latency(Duration::from_millis(10))
        .with_rate(10_000_000, 64 * 1024);
    let (mut sim, a, b) = pair(23, link, |_| {});
    let id = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("c"))
        .unwrap();
    sim.run_until(Limits::time(secs(5)), |s| !s.node(b).incoming.is_empty())
        .unwrap();
    // B has 3 MB queued (2.4 s at 10 Mbit/s) when A starts the shutdown.
    for i in 0..50u8 {
        sim.node_mut(b)
            .assoc
            .send(id, vec![i; 60_000], MessageKind::Binary)
            .unwrap();
    }
    let now = sim.now();
    sim.node_mut(a).assoc.close(now);
    let closed = |p: &Peer| p.has_event(|e| matches!(e, Event::Closed));
    sim.run_until(Limits::time(secs(60)), |s| {
        closed(s.node(a)) && closed(s.node(b))
    })
    .unwrap();
    let got = sim.node(a).messages(id);
    assert_eq!(got.len(), 50);
    assert!(
        got.iter()
            .enumerate()
            .all(|(i, m)| m.len() == 60_000 && m[0] == i as u8)
    );
    assert!(
        sim.node_mut(b)
            .assoc
            .send(id, vec![1], MessageKind::Binary)
            .is_err()
    );
}

/// B accepts at most 10 channels and 100 KiB of the peer's labels: OPENs beyond either are
/// refused by resetting the stream, which A sees as the channel closing; the association and
/// the accepted channels go on, and a freed slot can be used again.
#[test]
fn opens_beyond_the_channel_limit_or_label_budget_are_refused_by_reset() {
    let (mut sim, a, b) = pair(
        9,
        LinkConfig::ideal().with_latency(Duration::from_millis(5)),
        |c| {
            if c.role == zvon_sctp::Role::Server {
                c.max_channels = 10;
                c.max_peer_label_bytes = 100 * 1024;
            }
        },
    );
    sim.run_until(Limits::time(secs(5)), |s| {
        s.node(a).connected() && s.node(b).connected()
    })
    .unwrap();
    let mut big = ChannelOptions::new("x".repeat(60_000));
    big.protocol = "p".repeat(30_000);
    let big = sim.node_mut(a).assoc.open_channel(big).unwrap();
    sim.run_until(Limits::time(secs(5)), |s| s.node(b).incoming.contains(&big))
        .unwrap();
    // 25 000 more label bytes do not fit the budget; 12 more channels do not fit the limit.
    let mut too_big = ChannelOptions::new("y".repeat(20_000));
    too_big.protocol = "q".repeat(5_000);
    let too_big = sim.node_mut(a).assoc.open_channel(too_big).unwrap();
    let ids: Vec<ChannelId> = (0..12)
        .map(|i| {
            sim.node_mut(a)
                .assoc
                .open_channel(ChannelOptions::new(format!("c{i}")))
                .unwrap()
        })
        .collect();
    let closed = |p: &Peer, id: ChannelId| {
        p.has_event(|e| matches!(e, Event::ChannelClosed { id: i } if *i == id))
    };
    let n_closed = |p: &Peer| {
        p.events
            .iter()
            .filter(|(_, e)| matches!(e, Event::ChannelClosed { .. }))
            .count()
    };
    sim.run_until(Limits::time(secs(10)), |s| n_closed(s.node(a)) == 4)
        .unwrap();
    sim.advance(secs(2)).unwrap();
    assert_eq!(n_closed(sim.node(a)), 4, "exactly the refused ones close");
    assert!(closed(sim.node(a), too_big));
    let pb = sim.node(b);
    assert_eq!(pb.assoc.channel_count(), 10);
    assert_eq!(pb.assoc.stats().channels_refused, 4);
    assert_eq!(pb.incoming.len(), 10);
    assert!(!pb.incoming.contains(&too_big));
    assert_eq!(sim.node(a).assoc.channel_count(), 10);
    assert!(sim.node(a).assoc.is_established() && pb.assoc.is_established());
    // Accepted channels work; a closed one frees a slot for a new OPEN.
    let open: Vec<ChannelId> = ids
        .iter()
        .copied()
        .filter(|&id| !closed(sim.node(a), id))
        .collect();
    assert_eq!(open.len(), 9);
    sim.node_mut(a)
        .assoc
        .send(open[8], b"still open".to_vec(), MessageKind::Text)
        .unwrap();
    sim.node_mut(a).assoc.close_channel(open[0]).unwrap();
    sim.run_until(Limits::time(secs(10)), |s| {
        closed(s.node(b), open[0]) && s.node(b).messages(open[8]).len() == 1
    })
    .unwrap();
    let again = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("again"))
        .unwrap();
    sim.run_until(Limits::time(secs(10)), |s| {
        s.node(b).incoming.contains(&again)
    })
    .unwrap();
    // The local side has a limit too, with a typed error.
    let pb = sim.node_mut(b);
    assert_eq!(pb.assoc.channel_count(), 10);
    assert!(matches!(
        pb.assoc.open_channel(ChannelOptions::new("mine")),
        Err(zvon_sctp::Error::TooManyChannels(10))
    ));
}

/// A negotiated channel the peer created first: what it sends before this side creates the
/// channel is kept and delivered after `ChannelOpen`, in order, as browsers do. While the
/// channel does not exist, the kept messages count against the receive window: a peer that
/// keeps sending is flow-controlled (memory stays bounded) and nothing is lost.
#[test]
fn data_before_the_negotiated_channel_exists_is_delivered_when_it_is_created() {
    let (mut sim, a, b) = pair(
        10,
        LinkConfig::ideal().with_latency(Duration::from_millis(10)),
        |c| c.max_receive_buffer = 64 * 1024,
    );
    sim.run_until(Limits::time(secs(5)), |s| {
        s.node(a).connected() && s.node(b).connected()
    })
    .unwrap();
    let mut neg = ChannelOptions::new("neg");
    neg.negotiated = Some(42);
    let id = sim.node_mut(a).assoc.open_channel(neg.clone()).unwrap();
    let pa = sim.node_mut(a);
    pa.assoc
        .send(id, b"first".to_vec(), MessageKind::Text)
        .unwrap();
    pa.assoc.send(id, vec![], MessageKind::Binary).unwrap();
    pa.assoc
        .send(id, vec![2; 3000], MessageKind::Binary)
        .unwrap();
    // Far more than B's window, before B has the channel.
    for i in 0..40u8 {
        pa.assoc
            .send(id, vec![i; 10_000], MessageKind::Binary)
            .unwrap();
    }
    sim.advance(secs(2)).unwrap();
    let held = sim.node(b).assoc.receive_buffered();
    assert!(sim.node(b).messages(id).is_empty());
    assert!(held > 32 * 1024, "B keeps what arrived: {held} B");
    assert!(held <= 2 * 64 * 1024, "within the window: {held} B");
    assert_eq!(sim.node(b).assoc.channel_receive_buffered(id), held);
    assert!(
        sim.node(a).assoc.buffered_amount(id) > 200_000,
        "A is flow-controlled"
    );
    let nb = sim.node_mut(b).assoc.open_channel(neg).unwrap();
    assert_eq!(nb, id);
    sim.run_until(Limits::time(secs(20)), |s| {
        s.node(b).messages(id).len() == 43
    })
    .unwrap();
    let pb = sim.node(b);
    let order: Vec<&Event> = pb
        .events
        .iter()
        .map(|(_, e)| e)
        .filter(|e| {
            matches!(e, Event::ChannelOpen { id: i } | Event::Message { id: i, .. } if *i == id)
        })
        .collect();
    assert!(
        matches!(order[0], Event::ChannelOpen { .. }),
        "onopen first"
    );
    assert!(
        matches!(order[1], Event::Message { data, kind: MessageKind::Text, .. } if data == b"first")
    );
    assert!(
        matches!(order[2], Event::Message { data, kind: MessageKind::Binary, .. } if data.is_empty())
    );
    assert!(matches!(order[3], Event::Message { data, .. } if data == &vec![2; 3000]));
    for (i, e) in order[4..].iter().enumerate() {
        assert!(matches!(e, Event::Message { data, .. } if data == &vec![i as u8; 10_000]));
    }
    assert_eq!(pb.assoc.receive_buffered(), 0);
}

/// The peer loses its association and connects again over the same transport (RFC 9260 5.2.2
/// INIT in ESTABLISHED, 5.2.4 action A COOKIE ECHO with the tie-tags): this side closes its
/// channels, drops what was queued for them, reports `Restarted` and is up again at once, with
/// no abort and no wait; new channels work both ways.
#[test]
fn peer_restart_closes_channels_and_reestablishes() {
    let (mut sim, a, b) = connected_pair(
        11,
        LinkConfig::ideal().with_latency(Duration::from_millis(10)),
    );
    let id = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("before"))
        .unwrap();
    sim.run_until(Limits::time(secs(5)), |s| s.node(b).incoming.contains(&id))
        .unwrap();
    // Data queued and in flight on A when the peer goes away.
    for _ in 0..20 {
        sim.node_mut(a)
            .assoc
            .send(id, vec![5; 50_000], MessageKind::Binary)
            .unwrap();
    }
    sim.advance(Duration::from_millis(15)).unwrap();
    let now = sim.now();
    let mut fresh = zvon_sctp::Association::new(
        zvon_sctp::Config::new(zvon_sctp::Role::Server),
        zvon_base::Rng::from_seed_u64(77),
        now,
    );
    fresh.connect(now).unwrap();
    let pb = sim.node_mut(b);
    pb.assoc = fresh;
    pb.events.clear();
    pb.incoming.clear();
    sim.run_until(Limits::time(secs(5)), |s| {
        s.node(b).connected() && s.node(a).has_event(|e| matches!(e, Event::Restarted))
    })
    .unwrap();
    let pa = sim.node(a);
    assert!(
        !pa.has_event(|e| matches!(e, Event::Aborted { .. })),
        "no abort: {:?}",
        pa.events
    );
    assert!(pa.has_event(|e| matches!(e, Event::ChannelClosed { id: i } if *i == id)));
    // The channel closed before the restart was reported.
    let pos = |f: &dyn Fn(&Event) -> bool| pa.events.iter().position(|(_, e)| f(e));
    assert!(
        pos(&|e| matches!(e, Event::ChannelClosed { .. }))
            < pos(&|e| matches!(e, Event::Restarted))
    );
    assert!(pa.assoc.is_established());
    assert_eq!(pa.assoc.channel_count(), 0);
    assert_eq!(pa.assoc.total_buffered_amount(), 0);
    assert_eq!(pa.assoc.stats().restarts, 1);
    assert!(
        sim.node_mut(a)
            .assoc
            .send(id, vec![1], MessageKind::Binary)
            .is_err()
    );
    // New channels, both ways.
    let x = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("after"))
        .unwrap();
    let y = sim
        .node_mut(b)
        .assoc
        .open_channel(ChannelOptions::new("theirs"))
        .unwrap();
    sim.run_until(Limits::time(secs(5)), |s| {
        s.node(b).incoming.contains(&x) && s.node(a).incoming.contains(&y)
    })
    .unwrap();
    sim.node_mut(a)
        .assoc
        .send(x, b"ping".to_vec(), MessageKind::Text)
        .unwrap();
    sim.node_mut(b)
        .assoc
        .send(y, b"pong".to_vec(), MessageKind::Text)
        .unwrap();
    sim.run_until(Limits::time(secs(5)), |s| {
        s.node(b).messages(x) == [b"ping".to_vec()] && s.node(a).messages(y) == [b"pong".to_vec()]
    })
    .unwrap();
    // Nothing queued before the restart leaked into the new association (only packets
    // in flight with the old tag were refused, as RFC 9260 8.5 says).
    let messages = sim
        .node(b)
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Message { .. }))
        .count();
    assert_eq!(messages, 1);
    let errors = sim.node(a).errors + sim.node(b).errors;
    sim.advance(secs(1)).unwrap();
    assert_eq!(sim.node(a).errors + sim.node(b).errors, errors);
}
