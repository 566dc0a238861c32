/// Who caused an error. Modeled on the way rustls splits its errors: the answer decides whether
/// the application can do anything about it, and what gets logged at which level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// Bytes from the network do not parse (truncated, lengths that lie, bad checksum).
    Malformed,
    /// Well-formed input that breaks the protocol (bad integrity, wrong state, replay).
    PeerMisbehaved,
    /// The local application called the API wrongly (wrong state, value out of range).
    ApiMisuse,
    /// A resource limit or local condition (buffer full, timeout).
    Local,
}

/// Implemented by every error type in the protocol crates.
///
/// ```
/// use zvon_base::{Classify, Fault};
/// #[derive(Debug)]
/// struct TooShort;
/// impl Classify for TooShort {
///     fn fault(&self) -> Fault { Fault::Malformed }
///     fn is_fatal(&self) -> bool { false }
/// }
/// assert!(!TooShort.is_fatal());
/// ```
pub trait Classify {
    /// Who is at fault.
    fn fault(&self) -> Fault;
    /// `true` when the error ends the connection or association; `false` when only the packet
    /// (or the call) that caused it is dropped.
    fn is_fatal(&self) -> bool;
}
