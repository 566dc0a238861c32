//! zvon against OpenSSL's `s_server` and `s_client` over 127.0.0.1: DTLS 1.2 in both roles,
//! every SRTP profile OpenSSL has (AES128_CM_SHA1_32 only when zvon's config asks for it), the
//! server's preference deciding, the exported keys compared with OpenSSL's
//! `-keymatexport EXTRACTOR-dtls_srtp`, application data both ways, close_notify both ways, and
//! a wrong fingerprint refused. OpenSSL must be installed (scripts/test installs it); without
//! it these tests fail.
// A real peer: this file spawns processes, opens loopback sockets and reads the clock.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use zvon_base::Rng;
use zvon_dtls::*;

const DEADLINE: Duration = Duration::from_secs(15);

/// A temporary directory holding an OpenSSL-made P-256 certificate, removed on drop.
struct OpensslCert {
    dir: PathBuf,
    identity: DtlsIdentity,
}

impl OpensslCert {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("zvon-dtls-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "2", "-subj", "/CN=openssl-peer"])
            .arg("-keyout")
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .output()
            .expect("openssl must be installed (scripts/test installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Loading OpenSSL's PEM files is itself a test of DtlsIdentity::from_pem.
        let cert = std::fs::read_to_string(dir.join("cert.pem")).unwrap();
        let key = std::fs::read_to_string(dir.join("key.pem")).unwrap();
        let identity = DtlsIdentity::from_pem(&cert, &key).unwrap();
        Self { dir, identity }
    }
}

impl Drop for OpensslCert {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An OpenSSL process whose stdout lines arrive on a channel; killed on drop.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Peer {
    fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl must be installed (scripts/test installs it)");
        let (tx, lines) = channel();
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stdin = child.stdin.take();
        Peer {
            child,
            stdin,
            lines,
            seen: vec![],
        }
    }

    /// Takes whatever lines have arrived.
    fn pump(&mut self) {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
    }

    fn find(&self, pat: &str) -> Option<&String> {
        self.seen.iter().find(|l| l.contains(pat))
    }

    /// Waits (bounded) for a line containing `pat`.
    fn wait_for(&mut self, pat: &str) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(l) = self.find(pat) {
                return l.clone();
            }
            let left = end.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no {pat:?} from openssl; saw {:#?}",
                self.seen
            );
            if let Ok(l) = self.lines.recv_timeout(left.min(Duration::from_millis(50))) {
                self.seen.push(l);
            }
        }
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// The `Keying material:` hex OpenSSL printed.
    fn keying_material(&mut self) -> Vec<u8> {
        let l = self.wait_for("Keying material:");
        let hex = l.split("Keying material:").nth(1).unwrap().trim();
        hex::decode(hex).unwrap()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// zvon's side: a transport on a loopback socket, driven with the real clock.
struct Zvon {
    t: DtlsTransport,
    sock: UdpSocket,
    peer: Option<SocketAddr>,
    buf: Vec<u8>,
    events: Vec<DtlsEvent>,
    data: Vec<Vec<u8>>,
}

impl Zvon {
    fn new(role: DtlsRole, versions: VersionPolicy, remote: Fingerprint, seed: u64) -> Self {
        Self::with_profiles(role, versions, &SrtpProfile::DEFAULT, remote, seed)
    }

    fn with_profiles(
        role: DtlsRole,
        versions: VersionPolicy,
        srtp_profiles: &[SrtpProfile],
        remote: Fingerprint,
        seed: u64,
    ) -> Self {
        let mut rng = Rng::from_seed_u64(seed);
        let id = DtlsIdentity::generate(&mut rng).unwrap();
        let mut cfg = DtlsConfig::default();
        cfg.versions = versions;
        cfg.srtp_profiles = srtp_profiles.to_vec();
        cfg.initial_rto = Duration::from_millis(200);
        let mut t = DtlsTransport::new(&cfg, &id, role, &mut rng, Instant::now()).unwrap();
        t.set_remote_fingerprints([remote]).unwrap();
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(5)))
            .unwrap();
        Zvon {
            buf: vec![0; t.max_datagram_len()],
            t,
            sock,
            peer: None,
            events: vec![],
            data: vec![],
        }
    }

    fn port(&self) -> u16 {
        self.sock.local_addr().unwrap().port()
    }

    /// One turn of the drive loop.
    fn turn(&mut self) {
        let now = Instant::now();
        if let Some(peer) = self.peer {
            while let Some(n) = self.t.poll_transmit(now, &mut self.buf) {
                self.sock.send_to(&self.buf[..n], peer).unwrap();
            }
        }
        let mut rbuf = [0u8; 65536];
        if let Ok((n, from)) = self.sock.recv_from(&mut rbuf) {
            self.peer.get_or_insert(from);
            let _ = self.t.handle_datagram(Instant::now(), &rbuf[..n]);
        }
        if self.t.poll_timeout().is_some_and(|t| t <= Instant::now()) {
            self.t.handle_timeout(Instant::now());
        }
        while let Some(e) = self.t.poll_event() {
            self.events.push(e);
        }
        while let Some(d) = self.t.poll_application_data() {
            self.data.push(d.to_vec());
        }
    }

    /// Turns until `done`, with openssl's output pumped; bounded.
    fn until(&mut self, peer: &mut Peer, what: &str, done: impl Fn(&Zvon, &Peer) -> bool) {
        let end = Instant::now() + DEADLINE;
        while !done(self, peer) {
            assert!(
                Instant::now() < end,
                "zvon: no {what}; events {:?}; openssl said {:#?}",
                self.events,
                peer.seen
            );
            self.turn();
            peer.pump();
        }
    }

    fn connected(&self) -> Option<&Connected> {
        self.events.iter().find_map(|e| match e {
            DtlsEvent::Connected(c) => Some(&**c),
            _ => None,
        })
    }

    fn failed(&self) -> Option<&DtlsError> {
        self.events.iter().find_map(|e| match e {
            DtlsEvent::Failed(e) => Some(e),
            _ => None,
        })
    }

    fn closed(&self) -> Option<CloseReason> {
        self.events.iter().find_map(|e| match e {
            DtlsEvent::Closed(r) => Some(*r),
            _ => None,
        })
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const PROFILES: [SrtpProfile; 4] = [
    SrtpProfile::Aes128CmHmacSha1_80,
    SrtpProfile::Aes128CmHmacSha1_32,
    SrtpProfile::AeadAes128Gcm,
    SrtpProfile::AeadAes256Gcm,
];

/// zvon's expected outcome, with its default profiles, for OpenSSL offering/accepting only
/// `p`: AES128_CM_SHA1_32 is not in the default list (as in browsers), so that one ends with
/// no SRTP profile.
fn expect_profile(p: SrtpProfile) -> Option<SrtpProfile> {
    (p != SrtpProfile::Aes128CmHmacSha1_32).then_some(p)
}

/// Every profile, AES128_CM_SHA1_32 included, in zvon's preference order.
fn all_profiles() -> Vec<SrtpProfile> {
    let mut v = SrtpProfile::DEFAULT.to_vec();
    v.push(SrtpProfile::Aes128CmHmacSha1_32);
    v
}

fn s_server(cert: &OpensslCert, port: u16, profiles: &str, keylen: usize) -> Peer {
    let mut cmd = Command::new("stdbuf");
    cmd.args([
        "-o0", "openssl", "s_server", "-dtls1_2", "-naccept", "1", "-verify", "1",
    ])
    .arg("-accept")
    .arg(format!("127.0.0.1:{port}"))
    .arg("-cert")
    .arg(cert.dir.join("cert.pem"))
    .arg("-key")
    .arg(cert.dir.join("key.pem"))
    .args(["-use_srtp", profiles])
    .args(["-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen"])
    .arg(keylen.to_string());
    let mut p = Peer::spawn(cmd);
    p.wait_for("ACCEPT");
    p
}

fn s_client(cert: &OpensslCert, port: u16, profiles: &str, keylen: usize) -> Peer {
    // s_client block-buffers its report when stdout is a pipe; stdbuf (coreutils) unbuffers it.
    let mut cmd = Command::new("stdbuf");
    cmd.args(["-o0", "openssl", "s_client", "-dtls1_2"])
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(cert.dir.join("cert.pem"))
        .arg("-key")
        .arg(cert.dir.join("key.pem"))
        .args(["-use_srtp", profiles])
        .args(["-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen"])
        .arg(keylen.to_string());
    Peer::spawn(cmd)
}

/// Checks zvon's keys against OpenSSL's export for the negotiated profile.
fn check_keys(z: &mut Zvon, ossl: &mut Peer, offered: SrtpProfile) {
    check_keys_for(z, ossl, &offered.to_string(), expect_profile(offered));
}

/// Checks that `expected` was negotiated and that zvon's keys equal OpenSSL's export.
fn check_keys_for(z: &mut Zvon, ossl: &mut Peer, offered: &str, expected: Option<SrtpProfile>) {
    // Keep zvon turning: OpenSSL finishes only once zvon's last flight reaches it.
    z.until(ossl, "openssl's key export", |_, o| {
        o.find("Keying material:").is_some()
    });
    let c = z.connected().unwrap();
    assert_eq!(c.version, DtlsVersion::Dtls12);
    assert_eq!(c.srtp_profile, expected, "openssl offered {offered}");
    match expected {
        Some(p) => {
            let km = z.t.srtp_keying_material(&c.peer).unwrap();
            assert_eq!(km.profile(), p);
            assert_eq!(km.profile_id(), p.id());
            let theirs = ossl.keying_material();
            assert_eq!(theirs.len(), p.keying_material_len());
            assert_eq!(
                km.as_bytes(),
                &theirs[..],
                "{p}: zvon and OpenSSL export the same keys"
            );
            assert!(
                ossl.find(&format!(
                    "SRTP Extension negotiated, profile={}",
                    p.openssl_name()
                ))
                .is_some()
                    || ossl.seen.iter().any(|l| l.contains(p.openssl_name())),
                "openssl reports {p}: {:#?}",
                ossl.seen
            );
        }
        None => {
            assert_eq!(
                z.t.srtp_keying_material(&c.peer).unwrap_err(),
                DtlsError::NoSrtpProfile
            );
        }
    }
}

#[test]
fn zvon_client_against_openssl_server_every_profile() {
    let cert = OpensslCert::new("srv");
    for (i, offered) in PROFILES.into_iter().enumerate() {
        for versions in [VersionPolicy::Auto, VersionPolicy::Dtls12] {
            let port = free_udp_port();
            let mut ossl = s_server(
                &cert,
                port,
                offered.openssl_name(),
                offered.keying_material_len(),
            );
            let mut z = Zvon::new(
                DtlsRole::Client,
                versions,
                cert.identity.fingerprint(),
                i as u64,
            );
            z.peer = Some(format!("127.0.0.1:{port}").parse().unwrap());
            z.until(&mut ossl, "Connected", |z, _| {
                z.connected().is_some() || z.failed().is_some()
            });
            assert!(
                z.failed().is_none(),
                "{offered} {versions:?}: {:?}",
                z.failed()
            );
            assert_eq!(
                z.connected().unwrap().peer.fingerprint(),
                cert.identity.fingerprint()
            );
            check_keys(&mut z, &mut ossl, offered);

            // Data both ways: s_server prints what it receives and sends what it reads.
            z.t.send_application_data(b"hello from zvon\n").unwrap();
            z.until(&mut ossl, "openssl to print our data", |_, o| {
                o.find("hello from zvon").is_some()
            });
            ossl.say("hello from openssl\n");
            z.until(&mut ossl, "data from openssl", |z, _| {
                z.data.iter().any(|d| d.starts_with(b"hello from openssl"))
            });

            // Our close_notify ends OpenSSL's connection, and with -naccept 1 the process.
            z.t.close();
            z.until(&mut ossl, "openssl to see close_notify", |_, o| {
                o.find("CONNECTION CLOSED").is_some() || o.find("shutting down").is_some()
            });
            assert_eq!(z.closed(), Some(CloseReason::Local));
        }
    }
}

#[test]
fn openssl_client_against_zvon_server_every_profile() {
    let cert = OpensslCert::new("cli");
    for (i, offered) in PROFILES.into_iter().enumerate() {
        let mut z = Zvon::new(
            DtlsRole::Server,
            VersionPolicy::Auto,
            cert.identity.fingerprint(),
            10 + i as u64,
        );
        let mut ossl = s_client(
            &cert,
            z.port(),
            offered.openssl_name(),
            offered.keying_material_len(),
        );
        z.until(&mut ossl, "Connected", |z, _| {
            z.connected().is_some() || z.failed().is_some()
        });
        assert!(z.failed().is_none(), "{offered}: {:?}", z.failed());
        // OpenSSL presented its certificate as the client, and it matched.
        assert_eq!(
            z.connected().unwrap().peer.fingerprint(),
            cert.identity.fingerprint()
        );
        check_keys(&mut z, &mut ossl, offered);

        z.t.send_application_data(b"hello from zvon\n").unwrap();
        z.until(&mut ossl, "openssl to print our data", |_, o| {
            o.find("hello from zvon").is_some()
        });
        ossl.say("hello from openssl\n");
        z.until(&mut ossl, "data from openssl", |z, _| {
            z.data.iter().any(|d| d.starts_with(b"hello from openssl"))
        });

        // s_client's "Q" command sends close_notify and exits.
        ossl.say("Q\n");
        z.until(&mut ossl, "close_notify from openssl", |z, _| {
            z.closed().is_some()
        });
        assert_eq!(z.closed(), Some(CloseReason::Peer));
        assert!(z.failed().is_none());
    }
}

#[test]
fn wrong_fingerprint_refuses_openssl_in_either_role() {
    let cert = OpensslCert::new("bad");
    let bogus = Fingerprint::of_certificate(HashAlgorithm::Sha256, b"not openssl's certificate");
    let profile = SrtpProfile::AeadAes128Gcm;

    // zvon as client refuses s_server's certificate.
    let port = free_udp_port();
    let mut ossl = s_server(
        &cert,
        port,
        profile.openssl_name(),
        profile.keying_material_len(),
    );
    let mut z = Zvon::new(DtlsRole::Client, VersionPolicy::Auto, bogus, 20);
    z.peer = Some(format!("127.0.0.1:{port}").parse().unwrap());
    z.until(&mut ossl, "failure", |z, _| {
        z.failed().is_some() || z.connected().is_some()
    });
    assert!(z.connected().is_none());
    let e = z.failed().unwrap();
    assert!(
        matches!(e, DtlsError::FingerprintMismatch(m) if m.got == cert.identity.fingerprint()),
        "{e}"
    );
    assert!(e.to_string().contains("does not match a=fingerprint"));
    assert!(z.data.is_empty());

    // zvon as server refuses s_client's certificate.
    let mut z = Zvon::new(DtlsRole::Server, VersionPolicy::Auto, bogus, 21);
    let mut ossl = s_client(
        &cert,
        z.port(),
        profile.openssl_name(),
        profile.keying_material_len(),
    );
    z.until(&mut ossl, "failure", |z, _| {
        z.failed().is_some() || z.connected().is_some()
    });
    assert!(z.connected().is_none());
    assert!(matches!(
        z.failed().unwrap(),
        DtlsError::FingerprintMismatch(_)
    ));
    // And it never answers again: nothing more leaves the failed transport.
    let mut buf = vec![0; 2048];
    assert!(z.t.poll_transmit(Instant::now(), &mut buf).is_none());
}

#[test]
fn aes_cm_32_with_openssl_when_asked_in_both_roles() {
    let cert = OpensslCert::new("cm32");
    let p = SrtpProfile::Aes128CmHmacSha1_32;

    // zvon as client, offering every profile, to an s_server that accepts only AES-CM-32.
    for (i, versions) in [VersionPolicy::Auto, VersionPolicy::Dtls12]
        .into_iter()
        .enumerate()
    {
        let port = free_udp_port();
        let mut ossl = s_server(&cert, port, p.openssl_name(), p.keying_material_len());
        let mut z = Zvon::with_profiles(
            DtlsRole::Client,
            versions,
            &all_profiles(),
            cert.identity.fingerprint(),
            30 + i as u64,
        );
        z.peer = Some(format!("127.0.0.1:{port}").parse().unwrap());
        z.until(&mut ossl, "Connected", |z, _| {
            z.connected().is_some() || z.failed().is_some()
        });
        assert!(z.failed().is_none(), "{versions:?}: {:?}", z.failed());
        check_keys_for(&mut z, &mut ossl, p.openssl_name(), Some(p));
        z.t.send_application_data(b"hello from zvon\n").unwrap();
        z.until(&mut ossl, "openssl to print our data", |_, o| {
            o.find("hello from zvon").is_some()
        });
    }

    // zvon as server, accepting every profile, from an s_client that offers only AES-CM-32.
    let mut z = Zvon::with_profiles(
        DtlsRole::Server,
        VersionPolicy::Auto,
        &all_profiles(),
        cert.identity.fingerprint(),
        32,
    );
    let mut ossl = s_client(&cert, z.port(), p.openssl_name(), p.keying_material_len());
    z.until(&mut ossl, "Connected", |z, _| {
        z.connected().is_some() || z.failed().is_some()
    });
    assert!(z.failed().is_none(), "{:?}", z.failed());
    check_keys_for(&mut z, &mut ossl, p.openssl_name(), Some(p));
    ossl.say("hello from openssl\n");
    z.until(&mut ossl, "data from openssl", |z, _| {
        z.data.iter().any(|d| d.starts_with(b"hello from openssl"))
    });
}

#[test]
fn zvon_server_picks_by_its_own_preference_from_openssl_offer() {
    let cert = OpensslCert::new("pref");
    // OpenSSL lists AES-128-GCM last; zvon's preference puts it first, and it wins.
    let offer = "SRTP_AES128_CM_SHA1_32:SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM";
    let want = SrtpProfile::AeadAes128Gcm;
    let mut z = Zvon::with_profiles(
        DtlsRole::Server,
        VersionPolicy::Auto,
        &all_profiles(),
        cert.identity.fingerprint(),
        33,
    );
    let mut ossl = s_client(&cert, z.port(), offer, want.keying_material_len());
    z.until(&mut ossl, "Connected", |z, _| {
        z.connected().is_some() || z.failed().is_some()
    });
    assert!(z.failed().is_none(), "{:?}", z.failed());
    check_keys_for(&mut z, &mut ossl, offer, Some(want));

    // With AES-CM-32 preferred over AES-CM-80 and no GCM, the same kind of offer gives 32.
    let offer = "SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32";
    let want = SrtpProfile::Aes128CmHmacSha1_32;
    let mut z = Zvon::with_profiles(
        DtlsRole::Server,
        VersionPolicy::Auto,
        &[want, SrtpProfile::Aes128CmHmacSha1_80],
        cert.identity.fingerprint(),
        34,
    );
    let mut ossl = s_client(&cert, z.port(), offer, want.keying_material_len());
    z.until(&mut ossl, "Connected", |z, _| {
        z.connected().is_some() || z.failed().is_some()
    });
    assert!(z.failed().is_none(), "{:?}", z.failed());
    check_keys_for(&mut z, &mut ossl, offer, Some(want));
}
