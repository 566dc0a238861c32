//! mDNS ICE candidates (draft-ietf-mmusic-mdns-ice-candidates): browsers hide their host
//! addresses behind `<uuid>.local` names, which the peer resolves with multicast DNS (RFC 6762).
//!
//! - [`Message`]: the DNS message codec (RFC 1035 section 4, name compression included), the
//!   subset mDNS candidates need: questions, and A/AAAA answers (other records are kept as raw
//!   data).
//! - [`MdnsResolver`]: sans-IO resolution with a TTL cache, and a responder for zvon's own
//!   names ([`MdnsResolver::register`]).

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use zvon_base::{Classify, Fault, Protocol, Reader, Rng, Transmit};

/// The mDNS IPv4 group and port.
pub const MDNS_V4: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 251)), 5353);
/// The mDNS IPv6 group and port.
pub const MDNS_V6: SocketAddr = SocketAddr::new(
    IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb)),
    5353,
);

/// Record type A.
pub const TYPE_A: u16 = 1;
/// Record type AAAA.
pub const TYPE_AAAA: u16 = 28;
/// Class IN.
pub const CLASS_IN: u16 = 1;

/// A DNS message that does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// It ended early, or a length points past its end.
    #[error("truncated DNS message")]
    Truncated,
    /// A name is malformed: a label over 63 bytes, a name over 255, a pointer loop, or a
    /// reserved label type.
    #[error("malformed DNS name")]
    BadName,
    /// More records than this codec accepts (a defence against amplification of work).
    #[error("too many DNS records")]
    TooManyRecords,
}

impl Classify for DnsError {
    fn fault(&self) -> Fault {
        Fault::Malformed
    }
    fn is_fatal(&self) -> bool {
        false
    }
}

impl From<zvon_base::ShortBuffer> for DnsError {
    fn from(_: zvon_base::ShortBuffer) -> Self {
        DnsError::Truncated
    }
}

/// A question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name, lower-cased, without the trailing dot.
    pub name: String,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS without the mDNS unicast-response bit.
    pub qclass: u16,
    /// The mDNS "QU" bit (RFC 6762 section 5.4).
    pub unicast_response: bool,
}

/// Record data this codec understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// Anything else, raw.
    Other(Vec<u8>),
}

/// A resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name, lower-cased, without the trailing dot.
    pub name: String,
    /// TYPE.
    pub rtype: u16,
    /// CLASS without the mDNS cache-flush bit.
    pub class: u16,
    /// The mDNS cache-flush bit (RFC 6762 section 10.2).
    pub cache_flush: bool,
    /// Time to live, seconds.
    pub ttl: u32,
    /// The data.
    pub data: RData,
}

/// A DNS message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// ID (0 in mDNS).
    pub id: u16,
    /// The flags word (QR bit 0x8000, AA 0x0400, ...).
    pub flags: u16,
    /// Questions.
    pub questions: Vec<Question>,
    /// Answer, authority and additional records, in that order.
    pub records: Vec<Record>,
}

/// Most records (questions included) a message may carry; a 9000-byte datagram cannot hold
/// more than a few hundred real ones.
const MAX_RECORDS: usize = 256;
/// Most compression pointers followed in one name.
const MAX_POINTERS: usize = 32;

impl Message {
    /// `true` for a response (QR bit).
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    /// Parses a DNS message.
    ///
    /// ```
    /// use zvon_ice::mdns::{Message, TYPE_A};
    /// let mut buf = Vec::new();
    /// Message::query("abc.local", &[TYPE_A]).encode(&mut buf);
    /// let m = Message::parse(&buf).unwrap();
    /// assert_eq!(m.questions[0].name, "abc.local");
    /// ```
    pub fn parse(buf: &[u8]) -> Result<Self, DnsError> {
        let mut r = Reader::new(buf);
        let id = r.u16()?;
        let flags = r.u16()?;
        let qd = r.u16()? as usize;
        let an = r.u16()? as usize;
        let ns = r.u16()? as usize;
        let ar = r.u16()? as usize;
        if qd + an + ns + ar > MAX_RECORDS {
            return Err(DnsError::TooManyRecords);
        }
        let mut questions = Vec::with_capacity(qd);
        for _ in 0..qd {
            let name = read_name(buf, &mut r)?;
            let qtype = r.u16()?;
            let qclass = r.u16()?;
            questions.push(Question {
                name,
                qtype,
                qclass: qclass & 0x7fff,
                unicast_response: qclass & 0x8000 != 0,
            });
        }
        let mut records = Vec::with_capacity(an + ns + ar);
        for _ in 0..an + ns + ar {
            let name = read_name(buf, &mut r)?;
            let rtype = r.u16()?;
            let class = r.u16()?;
            let ttl = r.u32()?;
            let len = r.u16()? as usize;
            let rdata = r.take(len)?;
            let data = match (rtype, rdata.len()) {
                (TYPE_A, 4) => RData::A(Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3])), // ok: len 4
                (TYPE_AAAA, 16) => {
                    let mut o = [0u8; 16];
                    o.copy_from_slice(rdata);
                    RData::Aaaa(Ipv6Addr::from(o))
                }
                _ => RData::Other(rdata.to_vec()),
            };
            records.push(Record {
                name,
                rtype,
                class: class & 0x7fff,
                cache_flush: class & 0x8000 != 0,
                ttl,
                data,
            });
        }
        Ok(Self {
            id,
            flags,
            questions,
            records,
        })
    }

    /// Appends the encoded message to `buf` (names uncompressed; each label is cut to 63 bytes
    /// and empty labels are skipped, so encoding cannot fail).
    pub fn encode(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.id.to_be_bytes());
        buf.extend_from_slice(&self.flags.to_be_bytes());
        buf.extend_from_slice(&(self.questions.len() as u16).to_be_bytes());
        buf.extend_from_slice(&(self.records.len() as u16).to_be_bytes());
        buf.extend_from_slice(&[0, 0, 0, 0]);
        for q in &self.questions {
            write_name(buf, &q.name);
            buf.extend_from_slice(&q.qtype.to_be_bytes());
            let class = q.qclass | if q.unicast_response { 0x8000 } else { 0 };
            buf.extend_from_slice(&class.to_be_bytes());
        }
        for rr in &self.records {
            write_name(buf, &rr.name);
            buf.extend_from_slice(&rr.rtype.to_be_bytes());
            let class = rr.class | if rr.cache_flush { 0x8000 } else { 0 };
            buf.extend_from_slice(&class.to_be_bytes());
            buf.extend_from_slice(&rr.ttl.to_be_bytes());
            let data: &[u8] = match &rr.data {
                RData::A(a) => &a.octets(),
                RData::Aaaa(a) => &a.octets(),
                RData::Other(d) => &d[..d.len().min(u16::MAX as usize)],
            };
            buf.extend_from_slice(&(data.len() as u16).to_be_bytes());
            buf.extend_from_slice(data);
        }
    }

    /// An mDNS query (ID 0, multicast response wanted) for `name` with these types.
    pub fn query(name: &str, types: &[u16]) -> Self {
        Self {
            id: 0,
            flags: 0,
            questions: types
                .iter()
                .map(|t| Question {
                    name: name.to_ascii_lowercase(),
                    qtype: *t,
                    qclass: CLASS_IN,
                    unicast_response: false,
                })
                .collect(),
            records: Vec::new(),
        }
    }

    /// An authoritative mDNS response announcing `name` at `addr`.
    pub fn answer(name: &str, addr: IpAddr, ttl: u32) -> Self {
        let (rtype, data) = match addr {
            IpAddr::V4(a) => (TYPE_A, RData::A(a)),
            IpAddr::V6(a) => (TYPE_AAAA, RData::Aaaa(a)),
        };
        Self {
            id: 0,
            flags: 0x8400,
            questions: Vec::new(),
            records: vec![Record {
                name: name.to_ascii_lowercase(),
                rtype,
                class: CLASS_IN,
                cache_flush: true,
                ttl,
                data,
            }],
        }
    }
}

fn read_name<'a>(msg: &'a [u8], r: &mut Reader<'a>) -> Result<String, DnsError> {
    let mut name = String::new();
    let mut cur = r.clone();
    let mut jumped = false;
    let mut pointers = 0;
    loop {
        let len = cur.u8()?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    break;
                }
                let label = cur.take(len as usize)?;
                if !name.is_empty() {
                    name.push('.');
                }
                for &c in label {
                    // Keep names printable ASCII; anything else cannot be a `.local` uuid.
                    name.push(if c.is_ascii_graphic() {
                        c.to_ascii_lowercase() as char
                    } else {
                        '?'
                    });
                }
                if name.len() > 255 {
                    return Err(DnsError::BadName);
                }
            }
            0xc0 => {
                let low = cur.u8()?;
                let target = (((len & 0x3f) as usize) << 8) | low as usize;
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return Err(DnsError::BadName);
                }
                if !jumped {
                    *r = cur.clone();
                    jumped = true;
                }
                let mut next = Reader::new(msg);
                next.skip(target)?;
                cur = next;
            }
            _ => return Err(DnsError::BadName),
        }
    }
    if !jumped {
        *r = cur;
    }
    Ok(name)
}

fn write_name(buf: &mut Vec<u8>, name: &str) {
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let b = &label.as_bytes()[..label.len().min(63)];
        buf.push(b.len() as u8);
        buf.extend_from_slice(b);
    }
    buf.push(0);
}

/// What the resolver reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MdnsEvent {
    /// `name` resolved to `addr` (first answer; later ones for the same name are cached too).
    Resolved {
        /// The `.local` name.
        name: String,
        /// Its address.
        addr: IpAddr,
    },
    /// Nobody answered for `name`.
    Failed {
        /// The `.local` name.
        name: String,
    },
}

#[derive(Debug)]
struct Pending {
    name: String,
    sent: u32,
    next: Instant,
    due: bool,
}

#[derive(Debug)]
struct Cached {
    name: String,
    addr: IpAddr,
    expires: Instant,
}

/// Queries per name before giving up, one second apart then doubling (RFC 6762 section 5.2
/// asks for at least one second between the first two queries).
const MDNS_TRIES: u32 = 3;
/// TTL zvon announces its own names with (RFC 6762 section 10 recommends 120 s for host
/// records).
pub const OWN_TTL: u32 = 120;

/// Resolves `.local` names and answers for zvon's own. Datagrams go to and come from the mDNS
/// groups ([`MDNS_V4`], [`MDNS_V6`]); the caller owns the multicast socket(s), and a transmit's
/// `source` is the unspecified address of its family, port 5353.
///
/// ```
/// use std::time::Instant;
/// use zvon_base::Rng;
/// use zvon_ice::mdns::MdnsResolver;
/// let now = Instant::now();
/// let mut m = MdnsResolver::new(Rng::from_seed_u64(1));
/// m.resolve(now, "6f9c2a9e-0c1f-4d56-b3f5-5c1b2a7e9d10.local");
/// let mut buf = Vec::new();
/// assert!(m.poll_transmit(now, &mut buf).is_some()); // the IPv4 query
/// ```
#[derive(Debug)]
pub struct MdnsResolver {
    rng: Rng,
    pending: Vec<Pending>,
    cache: Vec<Cached>,
    own: Vec<(String, IpAddr)>,
    /// Own names to announce (answers to queries), as indices into `own`.
    answers: VecDeque<usize>,
    /// A query is sent once per family: the second family of the current one.
    v6_next: Option<String>,
    events: VecDeque<MdnsEvent>,
}

impl MdnsResolver {
    /// An empty resolver.
    pub fn new(rng: Rng) -> Self {
        Self {
            rng,
            pending: Vec::new(),
            cache: Vec::new(),
            own: Vec::new(),
            answers: VecDeque::new(),
            v6_next: None,
            events: VecDeque::new(),
        }
    }

    /// `true` for a name this resolver handles (`*.local`).
    pub fn is_mdns_name(name: &str) -> bool {
        let n = name.trim_end_matches('.');
        n.len() > 6 && n[n.len() - 6..].eq_ignore_ascii_case(".local")
    }

    /// Starts resolving `name`; a cached answer is reported at once.
    pub fn resolve(&mut self, now: Instant, name: &str) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(c) = self
            .cache
            .iter()
            .find(|c| c.name == name && c.expires > now)
        {
            self.events
                .push_back(MdnsEvent::Resolved { name, addr: c.addr });
            return;
        }
        if self.pending.iter().any(|p| p.name == name) {
            return;
        }
        self.pending.push(Pending {
            name,
            sent: 0,
            next: now,
            due: true,
        });
    }

    /// A cached address for `name`, if its TTL has not run out.
    pub fn lookup(&self, now: Instant, name: &str) -> Option<IpAddr> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.cache
            .iter()
            .find(|c| c.name == name && c.expires > now)
            .map(|c| c.addr)
    }

    /// Makes a fresh `<uuid>.local` name for one of zvon's host addresses and answers queries
    /// for it; the candidate is then announced with the name instead of the address.
    pub fn register(&mut self, addr: IpAddr) -> String {
        if let Some((n, _)) = self.own.iter().find(|(_, a)| *a == addr) {
            return n.clone();
        }
        let mut b = [0u8; 16];
        self.rng.fill(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40; // version 4
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let name = format!(
            "{}-{}-{}-{}-{}.local",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        self.own.push((name.clone(), addr));
        self.answers.push_back(self.own.len() - 1); // announce once
        name
    }

    /// Processes a datagram received on the mDNS port.
    pub fn handle_datagram(&mut self, now: Instant, data: &[u8]) -> Result<(), DnsError> {
        let msg = Message::parse(data)?;
        if msg.is_response() {
            for rr in msg.records {
                let addr = match rr.data {
                    RData::A(a) => IpAddr::V4(a),
                    RData::Aaaa(a) => IpAddr::V6(a),
                    RData::Other(_) => continue,
                };
                if self.own.iter().any(|(n, _)| *n == rr.name) {
                    continue;
                }
                let wanted = self.pending.iter().position(|p| p.name == rr.name);
                let cached = self.cache.iter().position(|c| c.name == rr.name);
                if wanted.is_none() && cached.is_none() {
                    continue; // nobody asked: do not let strangers fill the cache
                }
                let expires = now + Duration::from_secs(rr.ttl.min(24 * 3600) as u64);
                match cached {
                    Some(i) => {
                        self.cache[i].addr = addr;
                        self.cache[i].expires = expires;
                    }
                    None => self.cache.push(Cached {
                        name: rr.name.clone(),
                        addr,
                        expires,
                    }),
                }
                if let Some(i) = wanted {
                    self.pending.swap_remove(i);
                    self.events.push_back(MdnsEvent::Resolved {
                        name: rr.name,
                        addr,
                    });
                }
            }
            self.cache.retain(|c| c.expires > now);
        } else {
            for q in msg.questions {
                if let Some(i) = self.own.iter().position(|(n, a)| {
                    *n == q.name
                        && ((q.qtype == TYPE_A && a.is_ipv4())
                            || (q.qtype == TYPE_AAAA && a.is_ipv6())
                            || q.qtype == 255)
                }) && !self.answers.contains(&i)
                {
                    self.answers.push_back(i);
                }
            }
        }
        Ok(())
    }

    /// The next query or answer, written into `buf`.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let unspec = |v4: bool| {
            if v4 {
                SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 5353)
            } else {
                SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 5353)
            }
        };
        if let Some(i) = self.answers.pop_front() {
            let (name, addr) = &self.own[i];
            buf.clear();
            Message::answer(name, *addr, OWN_TTL).encode(buf);
            let group = if addr.is_ipv4() { MDNS_V4 } else { MDNS_V6 };
            return Some(Transmit {
                proto: Protocol::Udp,
                source: unspec(addr.is_ipv4()),
                destination: group,
                len: buf.len(),
            });
        }
        if let Some(name) = self.v6_next.take() {
            buf.clear();
            Message::query(&name, &[TYPE_A, TYPE_AAAA]).encode(buf);
            return Some(Transmit {
                proto: Protocol::Udp,
                source: unspec(false),
                destination: MDNS_V6,
                len: buf.len(),
            });
        }
        let p = self.pending.iter_mut().find(|p| p.due)?;
        p.due = false;
        p.sent += 1;
        // Each query waits 1 s, then 2 s, then 4 s for an answer.
        p.next = now + Duration::from_secs(1 << (p.sent - 1).min(4));
        buf.clear();
        Message::query(&p.name, &[TYPE_A, TYPE_AAAA]).encode(buf);
        self.v6_next = Some(p.name.clone());
        Some(Transmit {
            proto: Protocol::Udp,
            source: unspec(true),
            destination: MDNS_V4,
            len: buf.len(),
        })
    }

    /// When [`MdnsResolver::handle_timeout`] should run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.iter().filter(|p| !p.due).map(|p| p.next).min()
    }

    /// Retries queries and gives up on names nobody answers.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.pending.len() {
            let p = &mut self.pending[i];
            if !p.due && p.next <= now {
                if p.sent >= MDNS_TRIES {
                    let p = self.pending.swap_remove(i);
                    self.events.push_back(MdnsEvent::Failed { name: p.name });
                    continue;
                }
                p.due = true;
            }
            i += 1;
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<MdnsEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An arbitrary origin for virtual time; the clock is never read again.
    #[allow(clippy::disallowed_methods)]
    fn origin() -> Instant {
        Instant::now()
    }
    use proptest::prelude::*;
    use zvon_base::Rng;

    #[test]
    fn query_answer_round_trip_and_resolution() {
        let now = origin();
        let mut a = MdnsResolver::new(Rng::from_seed_u64(1));
        let mut b = MdnsResolver::new(Rng::from_seed_u64(2));
        let name = b.register("192.0.2.7".parse().unwrap());
        assert!(MdnsResolver::is_mdns_name(&name));
        assert_eq!(name.len(), 36 + 6);
        let mut buf = Vec::new();
        // b's unsolicited announcement: a did not ask, so it is not cached.
        let t = b.poll_transmit(now, &mut buf).unwrap();
        assert_eq!(t.destination, MDNS_V4);
        a.handle_datagram(now, &buf).unwrap();
        assert_eq!(a.lookup(now, &name), None);

        a.resolve(now, &name.to_uppercase());
        let t = a.poll_transmit(now, &mut buf).unwrap();
        assert_eq!(t.destination, MDNS_V4);
        b.handle_datagram(now, &buf).unwrap();
        let t6 = a.poll_transmit(now, &mut buf).unwrap();
        assert_eq!(t6.destination, MDNS_V6);
        assert!(a.poll_transmit(now, &mut buf).is_none());
        b.poll_transmit(now, &mut buf).unwrap();
        a.handle_datagram(now, &buf).unwrap();
        assert_eq!(
            a.poll_event(),
            Some(MdnsEvent::Resolved {
                name: name.clone(),
                addr: "192.0.2.7".parse().unwrap()
            })
        );
        // Cached for the TTL, gone after it.
        assert!(a.lookup(now + Duration::from_secs(119), &name).is_some());
        assert!(a.lookup(now + Duration::from_secs(121), &name).is_none());
        a.resolve(now + Duration::from_secs(1), &name);
        assert!(matches!(a.poll_event(), Some(MdnsEvent::Resolved { .. })));
    }

    #[test]
    fn unanswered_query_fails_after_retries() {
        let t0 = origin();
        let mut a = MdnsResolver::new(Rng::from_seed_u64(1));
        a.resolve(t0, "nobody.local");
        let mut buf = Vec::new();
        let mut now = t0;
        let mut queries = 0;
        for _ in 0..20 {
            while let Some(t) = a.poll_transmit(now, &mut buf) {
                if t.destination == MDNS_V4 {
                    queries += 1;
                }
            }
            if let Some(ev) = a.poll_event() {
                assert_eq!(
                    ev,
                    MdnsEvent::Failed {
                        name: "nobody.local".into()
                    }
                );
                assert_eq!(queries, 3);
                assert!(now - t0 >= Duration::from_secs(3));
                return;
            }
            let Some(next) = a.poll_timeout() else { break };
            now = next.max(now);
            a.handle_timeout(now);
        }
        panic!("never failed");
    }

    #[test]
    fn compression_pointers_and_loops() {
        // Header: 1 answer; name "ab.local" at 12, then an answer whose name points to 12.
        let mut m = vec![0, 0, 0x84, 0, 0, 0, 0, 2, 0, 0, 0, 0];
        m.extend_from_slice(&[2, b'a', b'b', 5, b'l', b'o', b'c', b'a', b'l', 0]);
        m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 192, 0, 2, 1]);
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0x80, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 2]);
        let msg = Message::parse(&m).unwrap();
        assert_eq!(msg.records.len(), 2);
        assert_eq!(msg.records[1].name, "ab.local");
        assert!(msg.records[1].cache_flush);
        assert_eq!(msg.records[1].data, RData::A("192.0.2.2".parse().unwrap()));
        // A pointer to itself loops: rejected, not hung.
        let mut bad = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        bad.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(Message::parse(&bad), Err(DnsError::BadName));
        assert_eq!(Message::parse(&[0, 0, 0]), Err(DnsError::Truncated));
    }

    fn name() -> impl Strategy<Value = String> {
        proptest::collection::vec("[a-z0-9-]{1,20}", 1..4).prop_map(|l| l.join("."))
    }

    proptest! {
        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Message::parse(&data);
        }

        #[test]
        fn encode_parse_round_trip(n in name(), ip in any::<[u8; 4]>(), ip6 in any::<[u8; 16]>(), ttl in any::<u32>(),
                                   qtypes in proptest::collection::vec(any::<u16>(), 0..3)) {
            let mut m = Message::answer(&n, IpAddr::from(ip), ttl);
            m.records.extend(Message::answer(&n, IpAddr::from(ip6), ttl).records);
            m.questions = Message::query(&n, &qtypes).questions;
            let mut buf = Vec::new();
            m.encode(&mut buf);
            prop_assert_eq!(Message::parse(&buf).unwrap(), m);
        }
    }
}
