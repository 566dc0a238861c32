//! A server-role DTLS transport fed arbitrary datagrams, interleaved with a genuine zvon
//! client's flights (intact, with one byte changed, or cut short) so that the fuzzer reaches the
//! states after the ClientHello too. It must never panic, never hang, and never release data or
//! a connection to a peer whose fingerprint does not match.
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use zvon_base::Rng;
use zvon_dtls::{
    DtlsConfig, DtlsEvent, DtlsIdentity, DtlsRole, DtlsTransport, Fingerprint, HashAlgorithm,
    VersionPolicy,
};

#[derive(Debug, Arbitrary)]
enum Op {
    /// Arbitrary bytes to the server.
    Raw(Vec<u8>),
    /// Arbitrary bytes behind a DTLS-looking first byte (20..=63).
    RawDtls(u8, Vec<u8>),
    /// The genuine client's next datagram, intact.
    Client,
    /// The genuine client's next datagram with one byte replaced.
    ClientFlipped { at: u16, value: u8 },
    /// The genuine client's next datagram cut to `len` bytes.
    ClientCut { len: u16 },
    /// The server's output goes to the client (else it is dropped).
    ServerToClient,
    /// Time passes; both sides' timers run.
    Wait { ms: u16 },
    /// Application data from either side.
    Send { from_client: bool, data: Vec<u8> },
    /// The server learns the client's fingerprint, or a wrong one.
    Fingerprint { right: bool },
    Close { client: bool },
}

#[derive(Debug, Arbitrary)]
struct Input {
    server_versions: u8,
    client_versions: u8,
    ops: Vec<Op>,
}

fn identities() -> &'static (DtlsIdentity, DtlsIdentity) {
    static IDS: OnceLock<(DtlsIdentity, DtlsIdentity)> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut rng = Rng::from_seed_u64(1);
        (DtlsIdentity::generate(&mut rng).unwrap(), DtlsIdentity::generate(&mut rng).unwrap())
    })
}

fn policy(b: u8) -> VersionPolicy {
    match b % 3 {
        0 => VersionPolicy::Auto,
        1 => VersionPolicy::Dtls12,
        _ => VersionPolicy::Dtls13,
    }
}

fuzz_target!(|input: Input| {
    let (cid, sid) = identities();
    #[allow(clippy::disallowed_methods)]
    let mut now = Instant::now();
    let mut rng = Rng::from_seed_u64(2);
    let mut cfg = DtlsConfig::default();
    cfg.versions = policy(input.server_versions);
    let mut server = DtlsTransport::new(&cfg, sid, DtlsRole::Server, &mut rng, now).unwrap();
    cfg.versions = policy(input.client_versions);
    let mut client = DtlsTransport::new(&cfg, cid, DtlsRole::Client, &mut rng, now).unwrap();
    let _ = client.set_remote_fingerprints([sid.fingerprint()]);
    let mut fingerprint_right = None;
    let mut buf = vec![0u8; server.max_datagram_len().max(client.max_datagram_len())];
    let mut client_out: Vec<Vec<u8>> = Vec::new();

    for op in input.ops.into_iter().take(64) {
        while let Some(n) = client.poll_transmit(now, &mut buf) {
            client_out.push(buf[..n].to_vec());
        }
        match op {
            Op::Raw(d) => {
                let _ = server.handle_datagram(now, &d);
            }
            Op::RawDtls(first, mut d) => {
                d.insert(0, 20 + first % 44);
                let _ = server.handle_datagram(now, &d);
            }
            Op::Client => {
                if !client_out.is_empty() {
                    let d = client_out.remove(0);
                    let _ = server.handle_datagram(now, &d);
                }
            }
            Op::ClientFlipped { at, value } => {
                if !client_out.is_empty() {
                    let mut d = client_out.remove(0);
                    let i = at as usize % d.len();
                    d[i] = value;
                    let _ = server.handle_datagram(now, &d);
                }
            }
            Op::ClientCut { len } => {
                if !client_out.is_empty() {
                    let d = client_out.remove(0);
                    let n = len as usize % (d.len() + 1);
                    let _ = server.handle_datagram(now, &d[..n]);
                }
            }
            Op::ServerToClient => {
                while let Some(n) = server.poll_transmit(now, &mut buf) {
                    let _ = client.handle_datagram(now, &buf[..n]);
                }
            }
            Op::Wait { ms } => {
                now += Duration::from_millis(ms as u64);
                for t in [&mut server, &mut client] {
                    if t.poll_timeout().is_some_and(|d| d <= now) {
                        t.handle_timeout(now);
                    }
                }
            }
            Op::Send { from_client, data } => {
                let t = if from_client { &mut client } else { &mut server };
                let _ = t.send_application_data(&data);
            }
            Op::Fingerprint { right } => {
                let fp = if right {
                    cid.fingerprint()
                } else {
                    Fingerprint::of_certificate(HashAlgorithm::Sha256, b"someone else")
                };
                if server.set_remote_fingerprints([fp]).is_ok() {
                    fingerprint_right = Some(right);
                }
            }
            Op::Close { client: c } => {
                if c { client.close() } else { server.close() }
            }
        }
        let mut n = 0;
        while server.poll_transmit(now, &mut buf).is_some() {
            n += 1;
            assert!(n < 100_000, "poll_transmit never ends");
        }
        while let Some(e) = server.poll_event() {
            if let DtlsEvent::Connected(c) = e {
                // The only certificate that can pass is the genuine client's, with its own
                // fingerprint given.
                assert_eq!(fingerprint_right, Some(true), "connected without a right fingerprint");
                assert!(c.peer.fingerprint() == cid.fingerprint());
            }
        }
        if fingerprint_right != Some(true) {
            assert!(server.poll_application_data().is_none(), "data before verification");
        }
        while server.poll_application_data().is_some() {}
        while client.poll_event().is_some() {}
        while client.poll_application_data().is_some() {}
    }
});
