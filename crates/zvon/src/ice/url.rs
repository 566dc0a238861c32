//! ICE server URLs (RFC 7064 `stun:`/`stuns:`, RFC 7065 `turn:`/`turns:`) and the W3C
//! `RTCIceServer` they come in.

use std::fmt;

/// One entry of the W3C `iceServers` list.
///
/// ```
/// use zvon::ice::{IceServer, Scheme};
/// let s = IceServer::new(["turn:turn.example.org?transport=tcp", "stun:[2001:db8::1]:3479"])
///     .with_credentials("user", "secret");
/// let urls = s.parse_urls().unwrap();
/// assert_eq!(urls[0].scheme, Scheme::Turn);
/// assert_eq!(urls[0].port, 3478);
/// assert_eq!(urls[1].host, "2001:db8::1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IceServer {
    /// The server's URLs.
    pub urls: Vec<String>,
    /// User name for TURN long-term credentials.
    pub username: Option<String>,
    /// Password for TURN long-term credentials.
    pub credential: Option<String>,
}

impl IceServer {
    /// A server with these URLs and no credentials.
    pub fn new<S: Into<String>>(urls: impl IntoIterator<Item = S>) -> Self {
        Self {
            urls: urls.into_iter().map(Into::into).collect(),
            username: None,
            credential: None,
        }
    }

    /// Sets the TURN credentials.
    pub fn with_credentials(mut self, username: &str, credential: &str) -> Self {
        self.username = Some(username.to_owned());
        self.credential = Some(credential.to_owned());
        self
    }

    /// Parses every URL; a TURN URL without credentials is an error, as in the W3C API.
    pub fn parse_urls(&self) -> Result<Vec<IceUrl>, UrlError> {
        let mut out = Vec::with_capacity(self.urls.len());
        for u in &self.urls {
            let url = IceUrl::parse(u)?;
            if url.scheme.is_turn() && (self.username.is_none() || self.credential.is_none()) {
                return Err(UrlError::MissingCredentials(u.clone()));
            }
            out.push(url);
        }
        Ok(out)
    }
}

/// The URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `stun:` (UDP).
    Stun,
    /// `stuns:` (TLS).
    Stuns,
    /// `turn:` (UDP, or TCP with `?transport=tcp`).
    Turn,
    /// `turns:` (TLS over TCP).
    Turns,
}

impl Scheme {
    /// `true` for `turn:` and `turns:`.
    pub fn is_turn(self) -> bool {
        matches!(self, Scheme::Turn | Scheme::Turns)
    }

    /// `true` for the TLS schemes.
    pub fn is_secure(self) -> bool {
        matches!(self, Scheme::Stuns | Scheme::Turns)
    }
}

/// The transport to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP (TLS on top of it for the secure schemes).
    Tcp,
}

/// A parsed ICE server URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceUrl {
    /// The scheme.
    pub scheme: Scheme,
    /// Host name or IP literal (without the brackets of an IPv6 literal).
    pub host: String,
    /// Port (3478 by default, 5349 for the TLS schemes).
    pub port: u16,
    /// Transport (UDP by default, TCP for the TLS schemes).
    pub transport: Transport,
}

/// A URL that breaks RFC 7064/7065.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not one of the four.
    #[error("unknown ICE server URL scheme in {0:?}")]
    Scheme(String),
    /// The host part is empty or malformed.
    #[error("bad host in ICE server URL {0:?}")]
    Host(String),
    /// The port is not a number in 1..=65535.
    #[error("bad port in ICE server URL {0:?}")]
    Port(String),
    /// The query is not `transport=udp` or `transport=tcp`, or it is on a STUN URL.
    #[error("bad transport in ICE server URL {0:?}")]
    Transport(String),
    /// A TURN URL without username and credential.
    #[error("TURN server URL {0:?} needs a username and credential")]
    MissingCredentials(String),
}

impl IceUrl {
    /// Parses one URL.
    ///
    /// ```
    /// use zvon::ice::{IceUrl, Scheme, Transport};
    /// let u = IceUrl::parse("turns:relay.example.org").unwrap();
    /// assert_eq!((u.scheme, u.port, u.transport), (Scheme::Turns, 5349, Transport::Tcp));
    /// assert!(IceUrl::parse("stun:example.org?transport=udp").is_err()); // RFC 7064: no query
    /// ```
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let err_scheme = || UrlError::Scheme(url.to_owned());
        let (scheme, rest) = url.split_once(':').ok_or_else(err_scheme)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "stun" => Scheme::Stun,
            "stuns" => Scheme::Stuns,
            "turn" => Scheme::Turn,
            "turns" => Scheme::Turns,
            _ => return Err(err_scheme()),
        };
        let (hostport, query) = match rest.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (rest, None),
        };
        let mut transport = if scheme.is_secure() {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        if let Some(q) = query {
            //# stunURI = scheme ":" host [ ":" port ] (RFC 7064: no query)
            if !scheme.is_turn() {
                return Err(UrlError::Transport(url.to_owned()));
            }
            transport = match q.to_ascii_lowercase().as_str() {
                "transport=udp" if scheme == Scheme::Turn => Transport::Udp,
                "transport=tcp" => Transport::Tcp,
                _ => return Err(UrlError::Transport(url.to_owned())),
            };
        }
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| UrlError::Host(url.to_owned()))?;
            if h.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(UrlError::Host(url.to_owned()));
            }
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| UrlError::Port(url.to_owned()))?,
                ),
            };
            (h, port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty()
            || host.starts_with('/')
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
        {
            return Err(UrlError::Host(url.to_owned()));
        }
        let port = match port {
            None => {
                if scheme.is_secure() {
                    5349
                } else {
                    3478
                }
            }
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p != 0 => p,
                _ => return Err(UrlError::Port(url.to_owned())),
            },
        };
        Ok(Self {
            scheme,
            host: host.to_owned(),
            port,
            transport,
        })
    }
}

impl fmt::Display for IceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Stun => "stun",
            Scheme::Stuns => "stuns",
            Scheme::Turn => "turn",
            Scheme::Turns => "turns",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}:[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{scheme}:{}:{}", self.host, self.port)?;
        }
        if self.scheme == Scheme::Turn && self.transport == Transport::Tcp {
            f.write_str("?transport=tcp")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7064_7065_forms() {
        let ok = [
            (
                "stun:example.org",
                Scheme::Stun,
                "example.org",
                3478,
                Transport::Udp,
            ),
            (
                "stun:192.0.2.1:3479",
                Scheme::Stun,
                "192.0.2.1",
                3479,
                Transport::Udp,
            ),
            (
                "stuns:example.org",
                Scheme::Stuns,
                "example.org",
                5349,
                Transport::Tcp,
            ),
            (
                "turn:[2001:db8::1]",
                Scheme::Turn,
                "2001:db8::1",
                3478,
                Transport::Udp,
            ),
            (
                "turn:[2001:db8::1]:9999?transport=tcp",
                Scheme::Turn,
                "2001:db8::1",
                9999,
                Transport::Tcp,
            ),
            (
                "turn:127.0.0.1?transport=udp",
                Scheme::Turn,
                "127.0.0.1",
                3478,
                Transport::Udp,
            ),
            (
                "TURNS:relay.example.org:443?transport=tcp",
                Scheme::Turns,
                "relay.example.org",
                443,
                Transport::Tcp,
            ),
        ];
        for (s, scheme, host, port, transport) in ok {
            let u = IceUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(
                (u.scheme, u.host.as_str(), u.port, u.transport),
                (scheme, host, port, transport),
                "{s}"
            );
            // Display round-trips.
            assert_eq!(IceUrl::parse(&u.to_string()).unwrap(), u);
        }
        for bad in [
            "http://example.org",
            "stun:",
            "stun:example.org:0",
            "stun:example.org:70000",
            "stun:example.org?transport=udp",
            "turns:example.org?transport=udp",
            "turn:example.org?transport=sctp",
            "turn:[2001:db8::1",
            "turn:[zz]:3478",
            "stun://example.org",
            "stun:exa mple.org",
        ] {
            assert!(IceUrl::parse(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn turn_needs_credentials() {
        let s = IceServer::new(["turn:example.org"]);
        assert!(matches!(
            s.parse_urls(),
            Err(UrlError::MissingCredentials(_))
        ));
        assert!(s.with_credentials("u", "p").parse_urls().is_ok());
        assert!(IceServer::new(["stun:example.org"]).parse_urls().is_ok());
    }
}
