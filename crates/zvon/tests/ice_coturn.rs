//! zvon's ICE agent and TURN client against a real coturn on 127.0.0.1: relay candidates over
//! UDP and over TCP to the server, data that flows only through the relay, and a clear error
//! for a wrong password.
// A real TURN server process, real sockets and the wall clock: this is an integration test.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::net::SocketAddr;
use std::process::{Child, Command as Proc, Stdio};
use std::time::{Duration, Instant};

use zvon::ice::{
    Command, DriverEvent, GatherOptions, IceDriver, IceServer, local_addresses, os_rng,
};
use zvon_ice::turn::TurnError;
use zvon_ice::{CandidateKind, IceAgent, IceConfig, IceConnectionState, IceEvent, IceRole};

const USER: &str = "test";
const PASS: &str = "test123";

/// A coturn process for one test, killed on drop.
struct Coturn {
    child: Child,
    port: u16,
}

impl Coturn {
    fn start(port: u16, relay_ports: (u16, u16)) -> Self {
        let child = Proc::new("turnserver")
            .args([
                "-n",
                "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1",
                &format!("--listening-port={port}"),
                &format!("--min-port={}", relay_ports.0),
                &format!("--max-port={}", relay_ports.1),
                "--realm=test.local",
                &format!("--user={USER}:{PASS}"),
                "--lt-cred-mech",
                "--fingerprint",
                "--no-tls",
                "--no-dtls",
                "--no-cli",
                "--allow-loopback-peers",
                &format!("--pidfile=/tmp/zvon-coturn-{port}.pid"),
                "--log-file=stdout",
                "--simple-log",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("turnserver must be installed (scripts/test installs the coturn package)");
        // Ready once its TCP listener accepts.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "coturn did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }

    fn url(&self, transport: &str) -> String {
        format!("turn:127.0.0.1:{}?transport={transport}", self.port)
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn options(url: &str, pass: &str) -> GatherOptions {
    GatherOptions {
        loopback_only: true,
        ipv6: false,
        ice_servers: vec![IceServer::new([url]).with_credentials(USER, pass)],
        ..GatherOptions::default()
    }
}

async fn relay_only_exchange(url: &str) {
    let cfg = IceConfig {
        relay_only: true,
        ..IceConfig::default()
    };
    let started = Instant::now();
    let mut a = IceDriver::start(
        IceAgent::new(cfg.clone(), IceRole::Controlling, os_rng()),
        options(url, PASS),
    )
    .await
    .unwrap();
    let mut b = IceDriver::start(
        IceAgent::new(cfg, IceRole::Controlled, os_rng()),
        options(url, PASS),
    )
    .await
    .unwrap();
    let (ca, cb) = (a.local_credentials().clone(), b.local_credentials().clone());
    a.command(Command::RemoteCredentials(cb.ufrag, cb.pwd));
    b.command(Command::RemoteCredentials(ca.ufrag, ca.pwd));

    let (mut got_a, mut got_b) = (None::<SocketAddr>, None::<SocketAddr>);
    let (mut sel_a, mut sel_b) = (None, None);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let deadline = tokio::time::sleep(Duration::from_secs(15));
    tokio::pin!(deadline);
    while got_a.is_none() || got_b.is_none() || sel_a.is_none() || sel_b.is_none() {
        tokio::select! {
            ev = a.next_event() => match ev.expect("a ended") {
                DriverEvent::Ice(IceEvent::LocalCandidate(c)) => {
                    assert_eq!(c.kind, CandidateKind::Relayed, "relay-only announces relayed candidates only");
                    b.command(Command::RemoteCandidate(c));
                }
                DriverEvent::Ice(IceEvent::SelectedPairChanged { local, remote }) => sel_a = Some((local, remote)),
                DriverEvent::Ice(IceEvent::TurnFailed(e)) => panic!("a: {e}"),
                DriverEvent::Data(d, peer) if d == b"\x17from b" => got_a = Some(peer),
                _ => {}
            },
            ev = b.next_event() => match ev.expect("b ended") {
                DriverEvent::Ice(IceEvent::LocalCandidate(c)) => {
                    assert_eq!(c.kind, CandidateKind::Relayed);
                    a.command(Command::RemoteCandidate(c));
                }
                DriverEvent::Ice(IceEvent::SelectedPairChanged { local, remote }) => sel_b = Some((local, remote)),
                DriverEvent::Ice(IceEvent::TurnFailed(e)) => panic!("b: {e}"),
                DriverEvent::Data(d, peer) if d == b"\x17from a" => got_b = Some(peer),
                _ => {}
            },
            _ = tick.tick() => {
                // Application data, repeated until it arrives (the driver drops it before a pair
                // is selected).
                a.command(Command::Send(b"\x17from a".to_vec()));
                b.command(Command::Send(b"\x17from b".to_vec()));
            }
            _ = &mut deadline => panic!("no relayed exchange within 15 s (a: {sel_a:?}, b: {sel_b:?})"),
        }
    }
    let (la, ra) = sel_a.unwrap();
    let (lb, rb) = sel_b.unwrap();
    assert_eq!(
        (la.kind, ra.kind),
        (CandidateKind::Relayed, CandidateKind::Relayed)
    );
    assert_eq!(
        (lb.kind, rb.kind),
        (CandidateKind::Relayed, CandidateKind::Relayed)
    );
    // Each side heard the other from the other's relayed address, i.e. through coturn.
    assert_eq!(got_a, Some(lb.addr));
    assert_eq!(got_b, Some(la.addr));
    println!("{url}: relayed exchange after {:?}", started.elapsed());
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_over_udp() {
    let turn = Coturn::start(34781, (49160, 49179));
    relay_only_exchange(&turn.url("udp")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_over_tcp_to_the_server() {
    let turn = Coturn::start(34782, (49180, 49199));
    relay_only_exchange(&turn.url("tcp")).await;
}

async fn wrong_password(url: &str) {
    let cfg = IceConfig {
        relay_only: true,
        ..IceConfig::default()
    };
    let started = Instant::now();
    let mut a = IceDriver::start(
        IceAgent::new(cfg, IceRole::Controlling, os_rng()),
        options(url, "not-the-password"),
    )
    .await
    .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match a.next_event().await.expect("driver ended") {
                DriverEvent::Ice(IceEvent::TurnFailed(e)) => return e,
                DriverEvent::Ice(IceEvent::ConnectionStateChanged(IceConnectionState::Failed)) => {
                    panic!("failed first")
                }
                _ => {}
            }
        }
    })
    .await
    .expect("a wrong TURN password must fail fast, not hang");
    assert!(matches!(err, TurnError::Unauthorized { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("401") && text.contains("password"), "{text}");
    println!("{url}: {text} (after {:?})", started.elapsed());
    a.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_a_clear_error_udp() {
    let turn = Coturn::start(34783, (49200, 49209));
    wrong_password(&turn.url("udp")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_a_clear_error_tcp() {
    let turn = Coturn::start(34784, (49210, 49219));
    wrong_password(&turn.url("tcp")).await;
}

#[test]
fn loopback_is_opt_in() {
    let lo = local_addresses(&GatherOptions {
        loopback_only: true,
        ..GatherOptions::default()
    })
    .unwrap();
    assert!(lo.contains(&"127.0.0.1".parse().unwrap()));
    assert!(lo.iter().all(|ip| ip.is_loopback()));
    let default = local_addresses(&GatherOptions::default()).unwrap();
    assert!(default.iter().all(|ip| !ip.is_loopback()));
    let with = local_addresses(&GatherOptions {
        include_loopback: true,
        ..GatherOptions::default()
    })
    .unwrap();
    assert!(with.len() > default.len());
}

/// TLS to the TURN server (`turns:`): coturn with a certificate from a test CA that the
/// client trusts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_over_tls_to_the_server() {
    use tokio_rustls::rustls;
    let dir = std::env::temp_dir().join(format!("zvon-coturn-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf_params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();

    let port = 34785;
    let child = Proc::new("turnserver")
        .args([
            "-n",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            &format!("--listening-port={}", port + 10),
            &format!("--tls-listening-port={port}"),
            &format!("--cert={}", cert.display()),
            &format!("--pkey={}", key.display()),
            "--min-port=49220",
            "--max-port=49239",
            "--realm=test.local",
            &format!("--user={USER}:{PASS}"),
            "--lt-cred-mech",
            "--fingerprint",
            "--no-dtls",
            "--no-cli",
            "--allow-loopback-peers",
            &format!("--pidfile=/tmp/zvon-coturn-{port}.pid"),
            "--log-file=stdout",
            "--simple-log",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("turnserver must be installed");
    let turn = Coturn { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "coturn (TLS) did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let url = format!("turns:127.0.0.1:{}", turn.port);
    let cfg = IceConfig {
        relay_only: true,
        ..IceConfig::default()
    };
    let mut opts = options(&url, PASS);
    opts.turn_tls = Some(std::sync::Arc::new(tls));
    let mut a = IceDriver::start(IceAgent::new(cfg, IceRole::Controlling, os_rng()), opts)
        .await
        .unwrap();
    let relayed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match a.next_event().await.expect("driver ended") {
                DriverEvent::Ice(IceEvent::LocalCandidate(c)) => return c,
                DriverEvent::Ice(IceEvent::TurnFailed(e)) => panic!("{e}"),
                _ => {}
            }
        }
    })
    .await
    .expect("a relayed candidate over TLS within 10 s");
    assert_eq!(relayed.kind, CandidateKind::Relayed);
    assert!(
        (49220..=49239).contains(&relayed.addr.port()),
        "{relayed:?}"
    );
    a.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
