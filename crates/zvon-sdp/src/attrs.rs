//! The ordered attribute list of a session or media section, with typed getters.

use std::ops::{Deref, DerefMut};

use crate::attribute::{
    Attribute, Direction, Extmap, Fingerprint, Fmtp, Group, Msid, MsidSemantic, Rid, RtcpFb,
    Rtpmap, Setup, Simulcast, Ssrc, SsrcGroup,
};
use crate::candidate::Candidate;

/// The `a=` lines of a session or media section, in order.
///
/// It dereferences to `Vec<Attribute>` (push, insert, retain, iterate), and adds getters for
/// the WebRTC attributes. Getters of single-valued attributes return the first occurrence.
///
/// ```
/// use zvon_sdp::{Attribute, Attributes, Direction, Setup};
/// let mut a = Attributes::default();
/// a.push(Attribute::Mid("0".into()));
/// a.set(Attribute::Setup(Setup::Actpass));
/// a.set(Attribute::Setup(Setup::Active)); // replaces the first, keeps its place
/// a.set(Attribute::Direction(Direction::RecvOnly));
/// assert_eq!(a.mid(), Some("0"));
/// assert_eq!(a.setup(), Some(Setup::Active));
/// assert_eq!(a.direction(), Some(Direction::RecvOnly));
/// assert_eq!(a.len(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Attributes(pub Vec<Attribute>);

impl Deref for Attributes {
    type Target = Vec<Attribute>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Attributes {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl From<Vec<Attribute>> for Attributes {
    fn from(v: Vec<Attribute>) -> Self {
        Self(v)
    }
}

impl FromIterator<Attribute> for Attributes {
    fn from_iter<I: IntoIterator<Item = Attribute>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = &'a Attribute;
    type IntoIter = std::slice::Iter<'a, Attribute>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Generates a getter for every attribute of one variant.
macro_rules! all_of {
    ($(#[$doc:meta])* $fn:ident, $variant:ident, $ty:ty) => {
        $(#[$doc])*
        pub fn $fn(&self) -> impl Iterator<Item = &$ty> {
            self.0.iter().filter_map(|a| match a {
                Attribute::$variant(v) => Some(v),
                _ => None,
            })
        }
    };
}

impl Attributes {
    /// An empty list.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Replaces the first attribute of the same kind as `attr` (same variant; for
    /// [`Attribute::Direction`] any direction; for unknown attributes the same name) in place,
    /// or appends `attr` when there is none. For single-valued attributes: setup, mid,
    /// ice-ufrag, direction, ...
    pub fn set(&mut self, attr: Attribute) {
        let same = |a: &Attribute| match (a, &attr) {
            (Attribute::Unknown { name: x, .. }, Attribute::Unknown { name: y, .. }) => x == y,
            _ => std::mem::discriminant(a) == std::mem::discriminant(&attr),
        };
        match self.0.iter_mut().find(|a| same(a)) {
            Some(slot) => *slot = attr,
            None => self.0.push(attr),
        }
    }

    /// `true` if an attribute equal to `attr` is present (useful for flags:
    /// `has(&Attribute::RtcpMux)`).
    pub fn has(&self, attr: &Attribute) -> bool {
        self.0.contains(attr)
    }

    /// The values of unknown attributes named `name` (`None` for `a=name` without value).
    pub fn unknown<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Option<&'a str>> + 'a {
        self.0.iter().filter_map(move |a| match a {
            Attribute::Unknown { name: n, value } if n == name => Some(value.as_deref()),
            _ => None,
        })
    }

    /// `a=mid`.
    pub fn mid(&self) -> Option<&str> {
        self.0.iter().find_map(|a| match a {
            Attribute::Mid(m) => Some(m.as_str()),
            _ => None,
        })
    }

    /// `a=ice-ufrag`.
    pub fn ice_ufrag(&self) -> Option<&str> {
        self.0.iter().find_map(|a| match a {
            Attribute::IceUfrag(u) => Some(u.as_str()),
            _ => None,
        })
    }

    /// `a=ice-pwd`.
    pub fn ice_pwd(&self) -> Option<&str> {
        self.0.iter().find_map(|a| match a {
            Attribute::IcePwd(p) => Some(p.as_str()),
            _ => None,
        })
    }

    /// Every `a=ice-options` token (`trickle`, `renomination`, ...).
    pub fn ice_options(&self) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter_map(|a| match a {
                Attribute::IceOptions(o) => Some(o.iter().map(String::as_str)),
                _ => None,
            })
            .flatten()
    }

    /// `a=setup`.
    pub fn setup(&self) -> Option<Setup> {
        self.0.iter().find_map(|a| match a {
            Attribute::Setup(s) => Some(*s),
            _ => None,
        })
    }

    /// The direction attribute (`a=sendrecv` ...), if any; the protocol default when there is
    /// none is sendrecv (see [`SessionDescription::direction_of`](crate::SessionDescription::direction_of)).
    pub fn direction(&self) -> Option<Direction> {
        self.0.iter().find_map(|a| match a {
            Attribute::Direction(d) => Some(*d),
            _ => None,
        })
    }

    /// `a=simulcast`.
    pub fn simulcast(&self) -> Option<&Simulcast> {
        self.0.iter().find_map(|a| match a {
            Attribute::Simulcast(s) => Some(s),
            _ => None,
        })
    }

    /// `a=msid-semantic`.
    pub fn msid_semantic(&self) -> Option<&MsidSemantic> {
        self.0.iter().find_map(|a| match a {
            Attribute::MsidSemantic(s) => Some(s),
            _ => None,
        })
    }

    /// `a=sctp-port`.
    pub fn sctp_port(&self) -> Option<u16> {
        self.0.iter().find_map(|a| match a {
            Attribute::SctpPort(p) => Some(*p),
            _ => None,
        })
    }

    /// `a=max-message-size`.
    pub fn max_message_size(&self) -> Option<u64> {
        self.0.iter().find_map(|a| match a {
            Attribute::MaxMessageSize(s) => Some(*s),
            _ => None,
        })
    }

    /// `a=ptime`.
    pub fn ptime(&self) -> Option<u32> {
        self.0.iter().find_map(|a| match a {
            Attribute::Ptime(t) => Some(*t),
            _ => None,
        })
    }

    /// `a=maxptime`.
    pub fn max_ptime(&self) -> Option<u32> {
        self.0.iter().find_map(|a| match a {
            Attribute::MaxPtime(t) => Some(*t),
            _ => None,
        })
    }

    /// `a=ice-lite`.
    pub fn ice_lite(&self) -> bool {
        self.has(&Attribute::IceLite)
    }

    /// `a=end-of-candidates`.
    pub fn end_of_candidates(&self) -> bool {
        self.has(&Attribute::EndOfCandidates)
    }

    /// `a=rtcp-mux`.
    pub fn rtcp_mux(&self) -> bool {
        self.has(&Attribute::RtcpMux)
    }

    /// `a=rtcp-mux-only`.
    pub fn rtcp_mux_only(&self) -> bool {
        self.has(&Attribute::RtcpMuxOnly)
    }

    /// `a=rtcp-rsize`.
    pub fn rtcp_rsize(&self) -> bool {
        self.has(&Attribute::RtcpRsize)
    }

    /// `a=extmap-allow-mixed`.
    pub fn extmap_allow_mixed(&self) -> bool {
        self.has(&Attribute::ExtmapAllowMixed)
    }

    /// `a=bundle-only`.
    pub fn bundle_only(&self) -> bool {
        self.has(&Attribute::BundleOnly)
    }

    /// The first BUNDLE group.
    pub fn bundle_group(&self) -> Option<&Group> {
        self.groups().find(|g| g.is_bundle())
    }

    /// The `a=rtpmap` of payload type `pt`.
    pub fn rtpmap(&self, pt: u8) -> Option<&Rtpmap> {
        self.rtpmaps().find(|r| r.pt == pt)
    }

    /// The `a=fmtp` of payload type `pt`.
    pub fn fmtp(&self, pt: u8) -> Option<&Fmtp> {
        self.fmtps().find(|f| f.pt == pt)
    }

    /// The `a=rtcp-fb` lines that apply to payload type `pt`, including `*` ones.
    pub fn rtcp_fbs_for(&self, pt: u8) -> impl Iterator<Item = &RtcpFb> {
        self.rtcp_fbs()
            .filter(move |fb| fb.pt.is_none_or(|p| p == pt))
    }

    /// The SSRCs in `a=ssrc` lines, each once, in order of first appearance.
    pub fn ssrc_ids(&self) -> Vec<u32> {
        // A set, not `Vec::contains`: a hostile section may carry thousands of SSRCs.
        let mut seen = std::collections::BTreeSet::new();
        self.ssrcs()
            .map(|s| s.ssrc)
            .filter(|ssrc| seen.insert(*ssrc))
            .collect()
    }

    /// The value of `a=ssrc:<ssrc> <attribute>:<value>` (e.g. the `cname` of an SSRC).
    pub fn ssrc_attribute(&self, ssrc: u32, attribute: &str) -> Option<&str> {
        self.ssrcs()
            .find(|s| s.ssrc == ssrc && s.attribute == attribute)
            .and_then(|s| s.value.as_deref())
    }

    all_of!(
        /// Every `a=group`.
        groups, Group, Group
    );
    all_of!(
        /// Every `a=candidate`.
        candidates, Candidate, Candidate
    );
    all_of!(
        /// Every `a=fingerprint`.
        fingerprints, Fingerprint, Fingerprint
    );
    all_of!(
        /// Every `a=rtpmap`.
        rtpmaps, Rtpmap, Rtpmap
    );
    all_of!(
        /// Every `a=fmtp`.
        fmtps, Fmtp, Fmtp
    );
    all_of!(
        /// Every `a=rtcp-fb`.
        rtcp_fbs, RtcpFb, RtcpFb
    );
    all_of!(
        /// Every `a=extmap`.
        extmaps, Extmap, Extmap
    );
    all_of!(
        /// Every `a=ssrc`.
        ssrcs, Ssrc, Ssrc
    );
    all_of!(
        /// Every `a=ssrc-group`.
        ssrc_groups, SsrcGroup, SsrcGroup
    );
    all_of!(
        /// Every `a=msid`.
        msids, Msid, Msid
    );
    all_of!(
        /// Every `a=rid`.
        rids, Rid, Rid
    );
}
