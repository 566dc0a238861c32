use zvon_base::{Classify, Fault};

/// A session description (or one line of it) that could not be parsed.
///
/// `line` is the 1-based line number in the input, or 0 when the error concerns the input as a
/// whole (too large, a required line missing). Standalone parsers of one value
/// ([`Candidate`](crate::Candidate), [`Attribute`](crate::Attribute)) report line 1.
///
/// ```
/// let err = zvon_sdp::SessionDescription::parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=mid\r\n")
///     .unwrap_err();
/// assert_eq!(err.line, 5);
/// assert!(matches!(err.kind, zvon_sdp::ErrorKind::InvalidAttribute { name: "mid", .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SDP line {line}: {kind}")]
pub struct ParseError {
    /// 1-based line number; 0 for the whole input.
    pub line: usize,
    /// What was wrong.
    pub kind: ErrorKind,
}

impl ParseError {
    pub(crate) fn new(line: usize, kind: ErrorKind) -> Self {
        Self { line, kind }
    }
}

/// What was wrong with the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is larger than [`ParseLimits::max_bytes`](crate::ParseLimits::max_bytes).
    #[error("input of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Input size in bytes.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The input has more lines than [`ParseLimits::max_lines`](crate::ParseLimits::max_lines).
    #[error("more than {limit} lines")]
    TooManyLines {
        /// The limit in force.
        limit: usize,
    },
    /// The bytes are not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
    /// A line is not `<letter>=<value>`.
    #[error("not a <type>=<value> line")]
    MalformedLine,
    /// The first line is not `v=0`.
    #[error("the description must start with v=0")]
    BadVersion,
    /// A type letter SDP does not define.
    #[error("unknown line type {0:?}")]
    UnknownLineType(char),
    /// A line type that may not appear where it does (`o=` inside a media section, `r=` before
    /// any `t=`, ...).
    #[error("line type {0:?} is not allowed here")]
    Misplaced(char),
    /// A line type that may appear only once appeared again.
    #[error("line type {0:?} repeated")]
    Duplicate(char),
    /// A required line is absent.
    #[error("required line {0:?} missing")]
    Missing(char),
    /// A field of an `o=`, `c=`, `b=`, `t=` or `m=` line does not parse.
    #[error("invalid {0}")]
    InvalidField(&'static str),
    /// A known attribute whose value does not parse.
    #[error("invalid a={name}: {reason}")]
    InvalidAttribute {
        /// The attribute name.
        name: &'static str,
        /// What is wrong with its value.
        reason: &'static str,
    },
}

impl Classify for ParseError {
    fn fault(&self) -> Fault {
        match self.kind {
            // A limit is a local policy, not proof that the input is wrong.
            ErrorKind::TooLarge { .. } | ErrorKind::TooManyLines { .. } => Fault::Local,
            _ => Fault::Malformed,
        }
    }

    /// A description that does not parse fails the `setRemoteDescription` (or the
    /// `addIceCandidate`) that carried it; the session goes on with the descriptions it had.
    fn is_fatal(&self) -> bool {
        false
    }
}

/// An attribute-value error before its line number is known.
pub(crate) type AttrResult<T> = Result<T, ErrorKind>;

pub(crate) fn bad_attr(name: &'static str, reason: &'static str) -> ErrorKind {
    ErrorKind::InvalidAttribute { name, reason }
}
