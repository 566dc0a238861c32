//! The DTLS role from SDP `a=setup` (RFC 8842, which points at RFC 4145 for the values).

use std::fmt;
use std::str::FromStr;

/// Which side of the DTLS handshake this endpoint plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtlsRole {
    /// Sends the ClientHello (`a=setup:active`).
    Client,
    /// Waits for the ClientHello (`a=setup:passive`).
    Server,
}

/// An SDP `a=setup` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// `active`: this endpoint is the DTLS client.
    Active,
    /// `passive`: this endpoint is the DTLS server.
    Passive,
    /// `actpass`: either; only an offer may say it.
    ActPass,
    /// `holdconn`: no connection now. RFC 8842 has no use for it in DTLS; refused.
    HoldConn,
}

/// Why a pair of `a=setup` values gives no DTLS role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The text is none of the four values.
    #[error("unknown a=setup value")]
    Unknown,
    /// An answer said `actpass`.
    #[error("an answer must say a=setup:active or passive, not actpass")]
    AnswerActPass,
    /// Both sides claimed the same role.
    #[error("both endpoints say a=setup:{0}")]
    SameRole(Setup),
    /// `holdconn` was used.
    #[error("a=setup:holdconn is not usable for a DTLS association")]
    HoldConn,
}

impl zvon_base::Classify for SetupError {
    fn fault(&self) -> zvon_base::Fault {
        zvon_base::Fault::PeerMisbehaved
    }
    fn is_fatal(&self) -> bool {
        // Without a role there is no DTLS association: the description must be rejected.
        true
    }
}

impl Setup {
    /// The SDP token.
    pub fn as_str(self) -> &'static str {
        match self {
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::ActPass => "actpass",
            Setup::HoldConn => "holdconn",
        }
    }

    /// The value an answerer puts in its answer to an offer with `offer`.
    ///
    /// ```
    /// use zvon_dtls::Setup;
    /// // JSEP (RFC 8829 5.3.1): answer an actpass offer with active, i.e. be the DTLS client.
    /// assert_eq!(Setup::answer_to(Setup::ActPass), Ok(Setup::Active));
    /// assert_eq!(Setup::answer_to(Setup::Active), Ok(Setup::Passive));
    /// ```
    pub fn answer_to(offer: Setup) -> Result<Setup, SetupError> {
        match offer {
            //# RFC 8842 5.3: "If the answerer receives an offer that contains an SDP 'setup'
            //# attribute with an 'actpass' attribute value, the answerer MUST insert an SDP
            //# 'setup' attribute with either an 'active' or 'passive' attribute value";
            //# RFC 8829 5.3.1 makes it "active".
            Setup::ActPass => Ok(Setup::Active),
            Setup::Active => Ok(Setup::Passive),
            Setup::Passive => Ok(Setup::Active),
            Setup::HoldConn => Err(SetupError::HoldConn),
        }
    }

    /// This endpoint's DTLS role once both descriptions are known: `local` is the value this
    /// endpoint sent, `remote` the value it received (in either order of offer and answer).
    ///
    /// ```
    /// use zvon_dtls::{DtlsRole, Setup};
    /// // The offerer said actpass and the answer said active: the offerer is the server.
    /// assert_eq!(Setup::role(Setup::ActPass, Setup::Active), Ok(DtlsRole::Server));
    /// // The answerer's view of the same exchange.
    /// assert_eq!(Setup::role(Setup::Active, Setup::ActPass), Ok(DtlsRole::Client));
    /// ```
    pub fn role(local: Setup, remote: Setup) -> Result<DtlsRole, SetupError> {
        use Setup::*;
        match (local, remote) {
            (HoldConn, _) | (_, HoldConn) => Err(SetupError::HoldConn),
            (ActPass, ActPass) => Err(SetupError::AnswerActPass),
            (Active, Active) => Err(SetupError::SameRole(Active)),
            (Passive, Passive) => Err(SetupError::SameRole(Passive)),
            (Active, Passive | ActPass) | (ActPass, Passive) => Ok(DtlsRole::Client),
            (Passive, Active | ActPass) | (ActPass, Active) => Ok(DtlsRole::Server),
        }
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Setup {
    type Err = SetupError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Setup::Active,
            Setup::Passive,
            Setup::ActPass,
            Setup::HoldConn,
        ]
        .into_iter()
        .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
        .ok_or(SetupError::Unknown)
    }
}

impl DtlsRole {
    /// The `a=setup` value that announces this role in an answer.
    pub fn setup(self) -> Setup {
        match self {
            DtlsRole::Client => Setup::Active,
            DtlsRole::Server => Setup::Passive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Setup::*;

    const ALL: [Setup; 4] = [Active, Passive, ActPass, HoldConn];

    #[test]
    fn parse_and_print() {
        for s in ALL {
            assert_eq!(s.as_str().parse::<Setup>(), Ok(s));
            assert_eq!(s.to_string().to_uppercase().parse::<Setup>(), Ok(s));
        }
        assert_eq!("both".parse::<Setup>(), Err(SetupError::Unknown));
    }

    #[test]
    fn offer_answer_gives_opposite_roles() {
        // Whatever the offer, the answer derived from it gives the two ends opposite roles.
        for offer in [Active, Passive, ActPass] {
            let answer = Setup::answer_to(offer).unwrap();
            let offerer = Setup::role(offer, answer).unwrap();
            let answerer = Setup::role(answer, offer).unwrap();
            assert_ne!(offerer, answerer, "offer {offer}");
            assert_eq!(answerer.setup(), answer);
        }
        assert_eq!(Setup::answer_to(HoldConn), Err(SetupError::HoldConn));
    }

    #[test]
    fn role_table() {
        for l in ALL {
            for r in ALL {
                let got = Setup::role(l, r);
                match (l, r) {
                    (Active, Passive) | (Active, ActPass) | (ActPass, Passive) => {
                        assert_eq!(got, Ok(DtlsRole::Client))
                    }
                    (Passive, Active) | (Passive, ActPass) | (ActPass, Active) => {
                        assert_eq!(got, Ok(DtlsRole::Server))
                    }
                    _ => assert!(got.is_err(), "{l} {r}"),
                }
            }
        }
    }
}
