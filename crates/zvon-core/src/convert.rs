//! Conversions between the SDP model and the protocol crates' types.

use std::net::SocketAddr;

use zvon_ice::{Candidate, CandidateKind, Foundation};
use zvon_sdp::{CandidateAddress, CandidateType, HashFunction, Transport};

/// A remote candidate as the ICE agent wants it, or why it cannot be one.
pub(crate) enum RemoteCandidate {
    /// An IP candidate.
    Ip(Candidate),
    /// A `<uuid>.local` host candidate to resolve first.
    Mdns {
        name: String,
        port: u16,
        kind: CandidateKind,
        priority: u32,
        foundation: Foundation,
    },
    /// TCP, RTCP component, unknown type: nothing zvon pairs with (dropped, not an error).
    Unusable,
}

pub(crate) fn kind_from_sdp(t: &CandidateType) -> Option<CandidateKind> {
    Some(match t {
        CandidateType::Host => CandidateKind::Host,
        CandidateType::Srflx => CandidateKind::ServerReflexive,
        CandidateType::Prflx => CandidateKind::PeerReflexive,
        CandidateType::Relay => CandidateKind::Relayed,
        CandidateType::Other(_) => return None,
    })
}

pub(crate) fn remote_candidate(c: &zvon_sdp::Candidate) -> Result<RemoteCandidate, String> {
    // rtcp-mux is mandatory here: component 2 candidates of old peers are of no use.
    if c.transport != Transport::Udp || c.component != 1 {
        return Ok(RemoteCandidate::Unusable);
    }
    let Some(kind) = kind_from_sdp(&c.kind) else {
        return Ok(RemoteCandidate::Unusable);
    };
    let foundation =
        Foundation::new(&c.foundation).ok_or_else(|| format!("foundation {:?}", c.foundation))?;
    match &c.address {
        CandidateAddress::Ip(ip) => Ok(RemoteCandidate::Ip(Candidate::remote(
            kind,
            SocketAddr::new(*ip, c.port),
            c.priority,
            foundation,
        ))),
        CandidateAddress::Fqdn(name) if zvon_ice::mdns::MdnsResolver::is_mdns_name(name) => {
            Ok(RemoteCandidate::Mdns {
                name: name.clone(),
                port: c.port,
                kind,
                priority: c.priority,
                foundation,
            })
        }
        // Other host names would need DNS, which JSEP forbids in candidates (RFC 8839 5.1).
        CandidateAddress::Fqdn(_) => Ok(RemoteCandidate::Unusable),
    }
}

pub(crate) fn local_candidate(c: &Candidate) -> zvon_sdp::Candidate {
    zvon_sdp::Candidate {
        foundation: c.foundation.as_str().to_owned(),
        component: c.component,
        transport: Transport::Udp,
        priority: c.priority,
        address: CandidateAddress::Ip(c.addr.ip()),
        port: c.addr.port(),
        kind: match c.kind {
            CandidateKind::Host => CandidateType::Host,
            CandidateKind::ServerReflexive => CandidateType::Srflx,
            CandidateKind::PeerReflexive => CandidateType::Prflx,
            CandidateKind::Relayed => CandidateType::Relay,
        },
        related_address: c.related.map(|r| CandidateAddress::Ip(r.ip())),
        related_port: c.related.map(|r| r.port()),
        tcp_type: None,
        extensions: vec![("generation".into(), "0".into())],
    }
}

pub(crate) fn dtls_fingerprint(f: &zvon_sdp::Fingerprint) -> Option<zvon_dtls::Fingerprint> {
    let mut s = String::with_capacity(8 + f.bytes.len() * 3);
    s.push_str(f.hash.as_str());
    s.push(' ');
    for (i, b) in f.bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02X}"));
    }
    zvon_dtls::Fingerprint::from_sdp(&s).ok()
}

pub(crate) fn sdp_fingerprint(f: &zvon_dtls::Fingerprint) -> zvon_sdp::Fingerprint {
    let text = f.to_sdp();
    let (name, hex) = text.split_once(' ').unwrap_or(("sha-256", ""));
    let hash = match name {
        "sha-1" => HashFunction::Sha1,
        "sha-224" => HashFunction::Sha224,
        "sha-256" => HashFunction::Sha256,
        "sha-384" => HashFunction::Sha384,
        "sha-512" => HashFunction::Sha512,
        other => HashFunction::Other(other.to_owned()),
    };
    let bytes = hex
        .split(':')
        .filter_map(|p| u8::from_str_radix(p, 16).ok())
        .collect();
    zvon_sdp::Fingerprint { hash, bytes }
}

pub(crate) fn sdp_setup(s: zvon_dtls::Setup) -> zvon_sdp::Setup {
    match s {
        zvon_dtls::Setup::Active => zvon_sdp::Setup::Active,
        zvon_dtls::Setup::Passive => zvon_sdp::Setup::Passive,
        zvon_dtls::Setup::ActPass => zvon_sdp::Setup::Actpass,
        zvon_dtls::Setup::HoldConn => zvon_sdp::Setup::Holdconn,
    }
}

pub(crate) fn dtls_setup(s: zvon_sdp::Setup) -> zvon_dtls::Setup {
    match s {
        zvon_sdp::Setup::Active => zvon_dtls::Setup::Active,
        zvon_sdp::Setup::Passive => zvon_dtls::Setup::Passive,
        zvon_sdp::Setup::Actpass => zvon_dtls::Setup::ActPass,
        zvon_sdp::Setup::Holdconn => zvon_dtls::Setup::HoldConn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_convert_both_ways() {
        let mut rng = zvon_base::Rng::from_seed_u64(1);
        let id = zvon_dtls::DtlsIdentity::generate(&mut rng).unwrap();
        let fp = id.fingerprint();
        let sdp = sdp_fingerprint(&fp);
        assert_eq!(sdp.hash, HashFunction::Sha256);
        assert_eq!(sdp.bytes.len(), 32);
        assert_eq!(dtls_fingerprint(&sdp), Some(fp));
    }

    #[test]
    fn candidates_convert() {
        let c: zvon_sdp::Candidate = "candidate:1 1 udp 2122194687 192.0.2.2 50000 typ host"
            .parse()
            .unwrap();
        let RemoteCandidate::Ip(ice) = remote_candidate(&c).unwrap() else {
            panic!("ip candidate")
        };
        assert_eq!(ice.addr, "192.0.2.2:50000".parse().unwrap());
        let back = local_candidate(&ice);
        assert_eq!(back.address, c.address);
        assert_eq!(back.priority, c.priority);
        let m: zvon_sdp::Candidate =
            "candidate:1 1 udp 2122194687 1f0e2d3c-4b5a-4698-8776-a5b4c3d2e1f0.local 5 typ host"
                .parse()
                .unwrap();
        assert!(matches!(
            remote_candidate(&m),
            Ok(RemoteCandidate::Mdns { .. })
        ));
        let tcp: zvon_sdp::Candidate =
            "candidate:1 1 tcp 2122194687 192.0.2.2 9 typ host tcptype active"
                .parse()
                .unwrap();
        assert!(matches!(
            remote_candidate(&tcp),
            Ok(RemoteCandidate::Unusable)
        ));
    }
}
