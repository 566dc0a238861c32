//! One UDP port shared by many ICE-lite agents (a server hosting thousands of peers): the
//! first STUN check names its agent by the ufrag in USERNAME, later datagrams by their source.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::SocketAddr;

use zvon_stun::{Class, Message, Method};

/// Routes datagrams arriving on a shared port to agent keys.
///
/// ```
/// use zvon_ice::mux::SharedPortMux;
/// let mut mux = SharedPortMux::new();
/// mux.register("srvUfrag1", 7u32);
/// // A datagram from an unknown source that is not a check for a registered ufrag: no route.
/// assert_eq!(mux.route("192.0.2.9:4000".parse().unwrap(), b"\x17not stun"), None);
/// ```
#[derive(Debug)]
pub struct SharedPortMux<K> {
    by_ufrag: HashMap<String, K>,
    by_addr: HashMap<SocketAddr, K>,
}

impl<K: Copy + Eq + Hash> Default for SharedPortMux<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Copy + Eq + Hash> SharedPortMux<K> {
    /// An empty mux.
    pub fn new() -> Self {
        Self {
            by_ufrag: HashMap::new(),
            by_addr: HashMap::new(),
        }
    }

    /// Routes checks for `local_ufrag` (the agent's own ufrag, which must be unique on the
    /// port) to `key`. An ICE restart registers the new ufrag too.
    pub fn register(&mut self, local_ufrag: &str, key: K) {
        self.by_ufrag.insert(local_ufrag.to_owned(), key);
    }

    /// Forgets everything about `key` (its agent closed).
    pub fn unregister(&mut self, key: K) {
        self.by_ufrag.retain(|_, k| *k != key);
        self.by_addr.retain(|_, k| *k != key);
    }

    /// Number of remote addresses learned.
    pub fn known_addresses(&self) -> usize {
        self.by_addr.len()
    }

    /// The agent a datagram from `source` belongs to. A Binding request names it by the
    /// ufrag before the colon of its USERNAME and teaches the mux its source address, so that
    /// the DTLS, SRTP and consent traffic that follows finds the same agent. Integrity is the
    /// agent's job: a forged check can only misroute datagrams from the forger's own address.
    pub fn route(&mut self, source: SocketAddr, data: &[u8]) -> Option<K> {
        if zvon_stun::is_stun(data)
            && let Ok(msg) = Message::parse(data)
            && msg.method() == Method::BINDING
            && msg.class() == Class::Request
            && let Some(user) = msg.username()
        {
            let ufrag = user.split(':').next().unwrap_or("");
            if let Some(k) = self.by_ufrag.get(ufrag).copied() {
                self.by_addr.insert(source, k);
                return Some(k);
            }
        }
        self.by_addr.get(&source).copied()
    }
}
