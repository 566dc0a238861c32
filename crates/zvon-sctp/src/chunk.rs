//! SCTP chunks (RFC 9260 3.3, RFC 3758, RFC 6525, RFC 8260, RFC 9653): borrowed views checked
//! once at parse time, and encoders that append to a `Vec<u8>` and cannot fail.
//!
//! Parsing never allocates: a [`Chunk`] borrows the packet, and lists inside a chunk (gap
//! blocks, stream lists, parameters, error causes) are iterators over checked slices.

use crate::error::Error;
use zvon_base::Reader;

/// Chunk type codes.
pub mod kind {
    /// Payload data (RFC 9260 3.3.1).
    pub const DATA: u8 = 0;
    /// Initiation.
    pub const INIT: u8 = 1;
    /// Initiation acknowledgement.
    pub const INIT_ACK: u8 = 2;
    /// Selective acknowledgement.
    pub const SACK: u8 = 3;
    /// Heartbeat request.
    pub const HEARTBEAT: u8 = 4;
    /// Heartbeat acknowledgement.
    pub const HEARTBEAT_ACK: u8 = 5;
    /// Abort.
    pub const ABORT: u8 = 6;
    /// Shutdown.
    pub const SHUTDOWN: u8 = 7;
    /// Shutdown acknowledgement.
    pub const SHUTDOWN_ACK: u8 = 8;
    /// Operation error.
    pub const ERROR: u8 = 9;
    /// State cookie echo.
    pub const COOKIE_ECHO: u8 = 10;
    /// Cookie acknowledgement.
    pub const COOKIE_ACK: u8 = 11;
    /// Shutdown complete.
    pub const SHUTDOWN_COMPLETE: u8 = 14;
    /// Interleaved data (RFC 8260).
    pub const I_DATA: u8 = 64;
    /// Stream reconfiguration (RFC 6525).
    pub const RE_CONFIG: u8 = 130;
    /// Forward cumulative TSN (RFC 3758).
    pub const FORWARD_TSN: u8 = 192;
    /// Interleaved forward TSN (RFC 8260).
    pub const I_FORWARD_TSN: u8 = 194;
}

/// INIT / INIT ACK parameter types.
pub mod param {
    /// IPv4 address (ignored: no multi-homing).
    pub const IPV4: u16 = 5;
    /// IPv6 address (ignored).
    pub const IPV6: u16 = 6;
    /// State cookie.
    pub const STATE_COOKIE: u16 = 7;
    /// Unrecognized parameter, echoed in an INIT ACK.
    pub const UNRECOGNIZED: u16 = 8;
    /// Cookie preservative (ignored).
    pub const COOKIE_PRESERVATIVE: u16 = 9;
    /// Host name address (deprecated, ignored).
    pub const HOST_NAME: u16 = 11;
    /// Supported address types (ignored).
    pub const SUPPORTED_ADDRESS_TYPES: u16 = 12;
    /// Outgoing SSN reset request (RFC 6525).
    pub const OUTGOING_RESET: u16 = 13;
    /// Incoming SSN reset request.
    pub const INCOMING_RESET: u16 = 14;
    /// SSN/TSN reset request.
    pub const SSN_TSN_RESET: u16 = 15;
    /// Re-configuration response.
    pub const RECONFIG_RESPONSE: u16 = 16;
    /// Add outgoing streams request.
    pub const ADD_OUTGOING: u16 = 17;
    /// Add incoming streams request.
    pub const ADD_INCOMING: u16 = 18;
    /// Zero checksum acceptable (RFC 9653).
    pub const ZERO_CHECKSUM: u16 = 0x8001;
    /// Supported extensions (RFC 5061).
    pub const SUPPORTED_EXTENSIONS: u16 = 0x8008;
    /// Forward-TSN supported (RFC 3758).
    pub const FORWARD_TSN_SUPPORTED: u16 = 0xc000;
}

/// Error cause codes (RFC 9260 3.3.10, RFC 6525).
pub mod cause {
    /// Invalid stream identifier.
    pub const INVALID_STREAM: u16 = 1;
    /// Missing mandatory parameter.
    pub const MISSING_PARAM: u16 = 2;
    /// Stale cookie.
    pub const STALE_COOKIE: u16 = 3;
    /// Out of resource.
    pub const OUT_OF_RESOURCE: u16 = 4;
    /// Unrecognized chunk type.
    pub const UNRECOGNIZED_CHUNK: u16 = 6;
    /// Invalid mandatory parameter.
    pub const INVALID_PARAM: u16 = 7;
    /// Unrecognized parameters.
    pub const UNRECOGNIZED_PARAMS: u16 = 8;
    /// No user data.
    pub const NO_USER_DATA: u16 = 9;
    /// Cookie received while shutting down.
    pub const COOKIE_WHILE_SHUTTING_DOWN: u16 = 10;
    /// User-initiated abort.
    pub const USER_ABORT: u16 = 12;
    /// Protocol violation.
    pub const PROTOCOL_VIOLATION: u16 = 13;
}

/// Result codes of a RE-CONFIG response (RFC 6525 4.4).
pub mod reconfig_result {
    /// Nothing to do.
    pub const SUCCESS_NOTHING: u32 = 0;
    /// Performed.
    pub const SUCCESS_PERFORMED: u32 = 1;
    /// Denied.
    pub const DENIED: u32 = 2;
    /// Wrong SSN.
    pub const ERROR_WRONG_SSN: u32 = 3;
    /// Request already in progress.
    pub const ERROR_REQUEST_IN_PROGRESS: u32 = 4;
    /// Bad sequence number.
    pub const ERROR_BAD_SEQUENCE: u32 = 5;
    /// In progress.
    pub const IN_PROGRESS: u32 = 6;
}

/// DATA / I-DATA flag bits.
pub mod flag {
    /// Last fragment.
    pub const END: u8 = 0x01;
    /// First fragment.
    pub const BEGIN: u8 = 0x02;
    /// Unordered.
    pub const UNORDERED: u8 = 0x04;
    /// SACK immediately (RFC 7053).
    pub const IMMEDIATE: u8 = 0x08;
    /// T bit of ABORT / SHUTDOWN COMPLETE: the tag is the sender's own, reflected.
    pub const T: u8 = 0x01;
}

/// Size of a DATA chunk header.
pub const DATA_HEADER: usize = 16;
/// Size of an I-DATA chunk header.
pub const IDATA_HEADER: usize = 20;

/// A DATA or I-DATA chunk, unified: for DATA, `mid` is the 16-bit SSN and `fsn` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data<'a> {
    /// Transmission sequence number.
    pub tsn: u32,
    /// Stream identifier.
    pub stream: u16,
    /// Message identifier (I-DATA) or stream sequence number (DATA).
    pub mid: u32,
    /// Payload protocol identifier (for I-DATA, only in the first fragment; 0 otherwise).
    pub ppid: u32,
    /// Fragment sequence number (I-DATA; 0 for DATA and for a first fragment).
    pub fsn: u32,
    /// Flag bits (see [`flag`]).
    pub flags: u8,
    /// `true` for I-DATA.
    pub interleaved: bool,
    /// User data, never empty once [`Chunk::parse`] accepted it.
    pub payload: &'a [u8],
}

impl Data<'_> {
    /// First fragment of a message.
    pub fn begin(&self) -> bool {
        self.flags & flag::BEGIN != 0
    }
    /// Last fragment of a message.
    pub fn end(&self) -> bool {
        self.flags & flag::END != 0
    }
    /// Unordered delivery.
    pub fn unordered(&self) -> bool {
        self.flags & flag::UNORDERED != 0
    }
    /// The sender asks for an immediate SACK (RFC 7053).
    pub fn immediate(&self) -> bool {
        self.flags & flag::IMMEDIATE != 0
    }
}

/// The fixed part of INIT and INIT ACK, and their parameters unparsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Init<'a> {
    /// Initiate tag: the verification tag the sender wants to see.
    pub initiate_tag: u32,
    /// Advertised receiver window credit.
    pub a_rwnd: u32,
    /// Number of outbound streams.
    pub outbound_streams: u16,
    /// Maximum inbound streams.
    pub inbound_streams: u16,
    /// Initial TSN.
    pub initial_tsn: u32,
    /// The TLV parameters, padded.
    pub params: &'a [u8],
}

/// A SACK chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sack<'a> {
    /// Cumulative TSN ack.
    pub cum_tsn: u32,
    /// Advertised receiver window credit.
    pub a_rwnd: u32,
    gaps: &'a [u8],
    dups: &'a [u8],
}

impl<'a> Sack<'a> {
    /// Gap ack blocks as (start, end) offsets from the cumulative TSN, inclusive.
    pub fn gap_blocks(&self) -> impl ExactSizeIterator<Item = (u16, u16)> + 'a {
        self.gaps.chunks_exact(4).map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                u16::from_be_bytes([c[2], c[3]]),
            )
        })
    }
    /// Duplicate TSNs reported.
    pub fn duplicates(&self) -> impl ExactSizeIterator<Item = u32> + 'a {
        self.dups
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// FORWARD-TSN or I-FORWARD-TSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardTsn<'a> {
    /// New cumulative TSN.
    pub new_cum_tsn: u32,
    /// `true` for I-FORWARD-TSN.
    pub interleaved: bool,
    entries: &'a [u8],
}

/// One skipped stream in a forward TSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedStream {
    /// Stream identifier.
    pub stream: u16,
    /// Unordered (I-FORWARD-TSN only).
    pub unordered: bool,
    /// SSN (FORWARD-TSN) or MID (I-FORWARD-TSN) skipped up to, inclusive.
    pub mid: u32,
}

impl<'a> ForwardTsn<'a> {
    /// The streams whose sequence numbers skip forward.
    pub fn streams(&self) -> impl Iterator<Item = SkippedStream> + 'a {
        let step = if self.interleaved { 8 } else { 4 };
        let il = self.interleaved;
        self.entries.chunks_exact(step).map(move |c| {
            let stream = u16::from_be_bytes([c[0], c[1]]);
            if il {
                SkippedStream {
                    stream,
                    unordered: c[3] & 1 != 0,
                    mid: u32::from_be_bytes([c[4], c[5], c[6], c[7]]),
                }
            } else {
                SkippedStream {
                    stream,
                    unordered: false,
                    mid: u16::from_be_bytes([c[2], c[3]]) as u32,
                }
            }
        })
    }
}

/// One chunk, borrowed from a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Chunk<'a> {
    /// DATA or I-DATA.
    Data(Data<'a>),
    /// INIT.
    Init(Init<'a>),
    /// INIT ACK.
    InitAck(Init<'a>),
    /// SACK.
    Sack(Sack<'a>),
    /// HEARTBEAT with its (opaque) heartbeat-info parameter, TLV header included.
    Heartbeat(&'a [u8]),
    /// HEARTBEAT ACK echoing the info.
    HeartbeatAck(&'a [u8]),
    /// ABORT with its error causes.
    Abort {
        /// T bit: the verification tag is the peer's reflected.
        t: bool,
        /// Error causes, TLV.
        causes: &'a [u8],
    },
    /// SHUTDOWN.
    Shutdown {
        /// Cumulative TSN ack.
        cum_tsn: u32,
    },
    /// SHUTDOWN ACK.
    ShutdownAck,
    /// SHUTDOWN COMPLETE.
    ShutdownComplete {
        /// T bit.
        t: bool,
    },
    /// ERROR with its causes.
    Error(&'a [u8]),
    /// COOKIE ECHO.
    CookieEcho(&'a [u8]),
    /// COOKIE ACK.
    CookieAck,
    /// FORWARD-TSN or I-FORWARD-TSN.
    ForwardTsn(ForwardTsn<'a>),
    /// RE-CONFIG with its parameters.
    ReConfig(&'a [u8]),
    /// A chunk type this implementation does not know.
    Unknown {
        /// Chunk type.
        kind: u8,
        /// The whole chunk, header included (for an "unrecognized chunk" error cause).
        raw: &'a [u8],
    },
}

fn be32(s: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([s[at], s[at + 1], s[at + 2], s[at + 3]])
}
fn be16(s: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([s[at], s[at + 1]])
}

impl<'a> Chunk<'a> {
    /// Parses one chunk from its type, flags and value (the bytes after the 4-byte header, up
    /// to the chunk's length, padding excluded). `raw` is the whole chunk.
    pub fn parse(kind: u8, flags: u8, value: &'a [u8], raw: &'a [u8]) -> Result<Self, Error> {
        let need = |n: usize| {
            if value.len() < n {
                Err(Error::Malformed("chunk too short"))
            } else {
                Ok(())
            }
        };
        Ok(match kind {
            kind::DATA => {
                need(12)?;
                // ok: length checked just above
                let payload = &value[12..];
                if payload.is_empty() {
                    return Err(Error::ProtocolViolation("DATA chunk without user data"));
                }
                Chunk::Data(Data {
                    tsn: be32(value, 0),
                    stream: be16(value, 4),
                    mid: be16(value, 6) as u32,
                    ppid: be32(value, 8),
                    fsn: 0,
                    flags,
                    interleaved: false,
                    payload,
                })
            }
            kind::I_DATA => {
                need(16)?;
                let payload = &value[16..];
                if payload.is_empty() {
                    return Err(Error::ProtocolViolation("I-DATA chunk without user data"));
                }
                let begin = flags & flag::BEGIN != 0;
                let x = be32(value, 12);
                Chunk::Data(Data {
                    tsn: be32(value, 0),
                    stream: be16(value, 4),
                    mid: be32(value, 8),
                    ppid: if begin { x } else { 0 },
                    fsn: if begin { 0 } else { x },
                    flags,
                    interleaved: true,
                    payload,
                })
            }
            kind::INIT | kind::INIT_ACK => {
                need(16)?;
                let init = Init {
                    initiate_tag: be32(value, 0),
                    a_rwnd: be32(value, 4),
                    outbound_streams: be16(value, 8),
                    inbound_streams: be16(value, 10),
                    initial_tsn: be32(value, 12),
                    params: &value[16..],
                };
                if kind == kind::INIT {
                    Chunk::Init(init)
                } else {
                    Chunk::InitAck(init)
                }
            }
            kind::SACK => {
                need(12)?;
                let ngaps = be16(value, 8) as usize;
                let ndups = be16(value, 10) as usize;
                let gaps_end = 12 + ngaps * 4;
                let dups_end = gaps_end + ndups * 4;
                if value.len() < dups_end {
                    return Err(Error::Malformed("SACK shorter than its block counts"));
                }
                Chunk::Sack(Sack {
                    cum_tsn: be32(value, 0),
                    a_rwnd: be32(value, 4),
                    gaps: &value[12..gaps_end],
                    dups: &value[gaps_end..dups_end],
                })
            }
            kind::HEARTBEAT => Chunk::Heartbeat(value),
            kind::HEARTBEAT_ACK => Chunk::HeartbeatAck(value),
            kind::ABORT => Chunk::Abort {
                t: flags & flag::T != 0,
                causes: value,
            },
            kind::SHUTDOWN => {
                need(4)?;
                Chunk::Shutdown {
                    cum_tsn: be32(value, 0),
                }
            }
            kind::SHUTDOWN_ACK => Chunk::ShutdownAck,
            kind::SHUTDOWN_COMPLETE => Chunk::ShutdownComplete {
                t: flags & flag::T != 0,
            },
            kind::ERROR => Chunk::Error(value),
            kind::COOKIE_ECHO => Chunk::CookieEcho(value),
            kind::COOKIE_ACK => Chunk::CookieAck,
            kind::FORWARD_TSN | kind::I_FORWARD_TSN => {
                need(4)?;
                let interleaved = kind == kind::I_FORWARD_TSN;
                let step = if interleaved { 8 } else { 4 };
                let entries = &value[4..];
                if !entries.len().is_multiple_of(step) {
                    return Err(Error::Malformed("forward TSN stream list length"));
                }
                Chunk::ForwardTsn(ForwardTsn {
                    new_cum_tsn: be32(value, 0),
                    interleaved,
                    entries,
                })
            }
            kind::RE_CONFIG => Chunk::ReConfig(value),
            _ => Chunk::Unknown { kind, raw },
        })
    }
}

/// Iterates over TLV items (parameters or error causes): `(type, value, whole item)`. Stops
/// with an error at the first item whose length lies.
#[derive(Debug, Clone)]
pub struct Tlvs<'a> {
    rest: &'a [u8],
}

impl<'a> Tlvs<'a> {
    /// Iterates over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { rest: buf }
    }
}

impl<'a> Iterator for Tlvs<'a> {
    type Item = Result<(u16, &'a [u8], &'a [u8]), Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        if self.rest.len() < 4 {
            self.rest = &[];
            return Some(Err(Error::Malformed("truncated parameter")));
        }
        let typ = be16(self.rest, 0);
        let len = be16(self.rest, 2) as usize;
        if len < 4 || len > self.rest.len() {
            self.rest = &[];
            return Some(Err(Error::Malformed("parameter length")));
        }
        let item = &self.rest[..len];
        let padded = (len + 3) & !3;
        self.rest = self.rest.get(padded..).unwrap_or(&[]);
        Some(Ok((typ, &item[4..], item)))
    }
}

/// What an INIT or INIT ACK offers, parsed from its parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitParams<'a> {
    /// The state cookie (INIT ACK).
    pub cookie: Option<&'a [u8]>,
    /// Forward-TSN-supported, or FORWARD-TSN listed in supported extensions.
    pub forward_tsn: bool,
    /// I-DATA listed in supported extensions.
    pub i_data: bool,
    /// RE-CONFIG listed in supported extensions.
    pub reconfig: bool,
    /// Zero checksum acceptable, with its error detection method identifier.
    pub zero_checksum: Option<u32>,
    /// Parameters to report as unrecognized (their action bits ask for a report).
    pub unrecognized: Vec<&'a [u8]>,
}

/// Parses INIT / INIT ACK parameters. Unknown parameters are handled by their two high bits
/// (RFC 9260 3.2.1): stop or skip, report or not.
pub fn parse_init_params(params: &[u8]) -> Result<InitParams<'_>, Error> {
    let mut out = InitParams::default();
    for item in Tlvs::new(params) {
        let (typ, value, raw) = item?;
        match typ {
            param::STATE_COOKIE => out.cookie = Some(value),
            param::FORWARD_TSN_SUPPORTED => out.forward_tsn = true,
            param::SUPPORTED_EXTENSIONS => {
                for &c in value {
                    match c {
                        kind::FORWARD_TSN => out.forward_tsn = true,
                        kind::I_DATA => out.i_data = true,
                        kind::RE_CONFIG => out.reconfig = true,
                        _ => {}
                    }
                }
            }
            param::ZERO_CHECKSUM => {
                if value.len() >= 4 {
                    out.zero_checksum = Some(be32(value, 0));
                }
            }
            param::IPV4
            | param::IPV6
            | param::COOKIE_PRESERVATIVE
            | param::HOST_NAME
            | param::SUPPORTED_ADDRESS_TYPES => {}
            _ => {
                let report = typ & 0x4000 != 0;
                let skip = typ & 0x8000 != 0;
                if report && out.unrecognized.len() < 16 {
                    out.unrecognized.push(raw);
                }
                if !skip {
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// A RE-CONFIG parameter (RFC 6525 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReconfigParam<'a> {
    /// Outgoing SSN reset request: the sender resets its outgoing streams.
    OutgoingReset {
        /// Request sequence number.
        req_seq: u32,
        /// The request this one answers (of ours), if any.
        resp_seq: u32,
        /// The sender's last assigned TSN.
        last_tsn: u32,
        /// Streams, 2 bytes each; empty means all.
        streams: StreamList<'a>,
    },
    /// Incoming SSN reset request: the sender asks us to reset our outgoing streams.
    IncomingReset {
        /// Request sequence number.
        req_seq: u32,
        /// Streams.
        streams: StreamList<'a>,
    },
    /// Response.
    Response {
        /// The request answered.
        resp_seq: u32,
        /// Result code (see [`reconfig_result`]).
        result: u32,
    },
    /// SSN/TSN reset, add streams: requests this implementation denies.
    Other {
        /// Parameter type.
        typ: u16,
        /// Request sequence number.
        req_seq: u32,
    },
}

/// A list of 16-bit stream identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamList<'a>(&'a [u8]);

impl<'a> StreamList<'a> {
    /// The stream ids.
    pub fn iter(&self) -> impl Iterator<Item = u16> + 'a {
        self.0
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
    }
    /// `true` when the list is empty (meaning: all streams).
    pub fn is_empty(&self) -> bool {
        self.0.len() < 2
    }
}

/// Parses the parameters of a RE-CONFIG chunk.
pub fn reconfig_params(value: &[u8]) -> impl Iterator<Item = Result<ReconfigParam<'_>, Error>> {
    Tlvs::new(value).map(|item| {
        let (typ, v, _) = item?;
        let mut r = Reader::new(v);
        Ok(match typ {
            param::OUTGOING_RESET => ReconfigParam::OutgoingReset {
                req_seq: r.u32()?,
                resp_seq: r.u32()?,
                last_tsn: r.u32()?,
                streams: StreamList(r.take_rest()),
            },
            param::INCOMING_RESET => ReconfigParam::IncomingReset {
                req_seq: r.u32()?,
                streams: StreamList(r.take_rest()),
            },
            param::RECONFIG_RESPONSE => ReconfigParam::Response {
                resp_seq: r.u32()?,
                result: r.u32()?,
            },
            _ => ReconfigParam::Other {
                typ,
                req_seq: r.u32()?,
            },
        })
    })
}

// ---- encoding ----------------------------------------------------------------------------

/// Starts a chunk: writes its header with a placeholder length and returns where it starts.
pub fn begin_chunk(buf: &mut Vec<u8>, kind: u8, flags: u8) -> usize {
    let at = buf.len();
    buf.extend_from_slice(&[kind, flags, 0, 0]);
    at
}

/// Ends a chunk started at `at`: fills in the length and pads to 4 bytes.
pub fn end_chunk(buf: &mut Vec<u8>, at: usize) {
    let len = buf.len() - at;
    buf[at + 2..at + 4].copy_from_slice(&(len as u16).to_be_bytes());
    pad4(buf);
}

fn pad4(buf: &mut Vec<u8>) {
    let pad = (4 - buf.len() % 4) % 4;
    buf.extend_from_slice(&[0u8; 3][..pad]);
}

/// Writes a TLV parameter or error cause.
pub fn put_tlv(buf: &mut Vec<u8>, typ: u16, value: &[u8]) {
    buf.extend_from_slice(&typ.to_be_bytes());
    buf.extend_from_slice(&((value.len() + 4) as u16).to_be_bytes());
    buf.extend_from_slice(value);
    pad4(buf);
}

/// Padded size of a chunk whose value is `value_len` bytes.
pub fn padded_chunk_len(value_len: usize) -> usize {
    (4 + value_len + 3) & !3
}

/// Writes a DATA or I-DATA chunk whose payload is `payload`.
pub fn put_data(buf: &mut Vec<u8>, d: &Data<'_>) {
    let at = begin_chunk(
        buf,
        if d.interleaved {
            kind::I_DATA
        } else {
            kind::DATA
        },
        d.flags,
    );
    buf.extend_from_slice(&d.tsn.to_be_bytes());
    buf.extend_from_slice(&d.stream.to_be_bytes());
    if d.interleaved {
        buf.extend_from_slice(&[0, 0]);
        buf.extend_from_slice(&d.mid.to_be_bytes());
        let x = if d.flags & flag::BEGIN != 0 {
            d.ppid
        } else {
            d.fsn
        };
        buf.extend_from_slice(&x.to_be_bytes());
    } else {
        buf.extend_from_slice(&(d.mid as u16).to_be_bytes());
        buf.extend_from_slice(&d.ppid.to_be_bytes());
    }
    buf.extend_from_slice(d.payload);
    end_chunk(buf, at);
}

/// What to put in an INIT or INIT ACK.
#[derive(Debug, Clone, Default)]
pub struct InitRepr<'a> {
    /// Initiate tag.
    pub initiate_tag: u32,
    /// Receiver window.
    pub a_rwnd: u32,
    /// Outbound streams.
    pub outbound_streams: u16,
    /// Inbound streams.
    pub inbound_streams: u16,
    /// Initial TSN.
    pub initial_tsn: u32,
    /// State cookie (INIT ACK only).
    pub cookie: Option<&'a [u8]>,
    /// Offer FORWARD-TSN (RFC 3758).
    pub forward_tsn: bool,
    /// Offer I-DATA (RFC 8260).
    pub i_data: bool,
    /// Offer RE-CONFIG (RFC 6525).
    pub reconfig: bool,
    /// Zero checksum acceptable with this EDMID (RFC 9653).
    pub zero_checksum: Option<u32>,
    /// Unrecognized parameters to echo (INIT ACK only).
    pub unrecognized: &'a [&'a [u8]],
}

impl InitRepr<'_> {
    /// Writes an INIT (`ack == false`) or INIT ACK chunk.
    pub fn encode(&self, ack: bool, buf: &mut Vec<u8>) {
        let at = begin_chunk(buf, if ack { kind::INIT_ACK } else { kind::INIT }, 0);
        buf.extend_from_slice(&self.initiate_tag.to_be_bytes());
        buf.extend_from_slice(&self.a_rwnd.to_be_bytes());
        buf.extend_from_slice(&self.outbound_streams.to_be_bytes());
        buf.extend_from_slice(&self.inbound_streams.to_be_bytes());
        buf.extend_from_slice(&self.initial_tsn.to_be_bytes());
        if let Some(c) = self.cookie {
            put_tlv(buf, param::STATE_COOKIE, c);
        }
        let mut ext = [0u8; 3];
        let mut n = 0;
        for (on, k) in [
            (self.forward_tsn, kind::FORWARD_TSN),
            (self.i_data, kind::I_DATA),
            (self.reconfig, kind::RE_CONFIG),
        ] {
            if on {
                ext[n] = k;
                n += 1;
            }
        }
        if n > 0 {
            put_tlv(buf, param::SUPPORTED_EXTENSIONS, &ext[..n]);
        }
        if self.forward_tsn {
            put_tlv(buf, param::FORWARD_TSN_SUPPORTED, &[]);
        }
        if let Some(edmid) = self.zero_checksum {
            put_tlv(buf, param::ZERO_CHECKSUM, &edmid.to_be_bytes());
        }
        for u in self.unrecognized {
            put_tlv(buf, param::UNRECOGNIZED, u);
        }
        end_chunk(buf, at);
    }
}

/// A SACK to write. Gap blocks are offsets from `cum_tsn`.
#[derive(Debug, Clone, Copy)]
pub struct SackRepr<'a> {
    /// Cumulative TSN ack.
    pub cum_tsn: u32,
    /// Receiver window.
    pub a_rwnd: u32,
    /// Gap blocks (start, end), inclusive offsets from `cum_tsn`.
    pub gaps: &'a [(u16, u16)],
    /// Duplicate TSNs.
    pub dups: &'a [u32],
}

impl SackRepr<'_> {
    /// Encoded size.
    pub fn len(&self) -> usize {
        16 + 4 * self.gaps.len() + 4 * self.dups.len()
    }
    /// Never empty; here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// Writes the SACK chunk.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        let at = begin_chunk(buf, kind::SACK, 0);
        buf.extend_from_slice(&self.cum_tsn.to_be_bytes());
        buf.extend_from_slice(&self.a_rwnd.to_be_bytes());
        buf.extend_from_slice(&(self.gaps.len() as u16).to_be_bytes());
        buf.extend_from_slice(&(self.dups.len() as u16).to_be_bytes());
        for &(s, e) in self.gaps {
            buf.extend_from_slice(&s.to_be_bytes());
            buf.extend_from_slice(&e.to_be_bytes());
        }
        for d in self.dups {
            buf.extend_from_slice(&d.to_be_bytes());
        }
        end_chunk(buf, at);
    }
}

/// Writes a chunk with no value (COOKIE ACK, SHUTDOWN ACK, SHUTDOWN COMPLETE).
pub fn put_empty(buf: &mut Vec<u8>, kind: u8, flags: u8) {
    buf.extend_from_slice(&[kind, flags, 0, 4]);
}

/// Writes a chunk whose value is one opaque byte string (COOKIE ECHO, HEARTBEAT (ACK),
/// ABORT/ERROR causes).
pub fn put_opaque(buf: &mut Vec<u8>, kind: u8, flags: u8, value: &[u8]) {
    let at = begin_chunk(buf, kind, flags);
    buf.extend_from_slice(value);
    end_chunk(buf, at);
}

/// Writes a SHUTDOWN.
pub fn put_shutdown(buf: &mut Vec<u8>, cum_tsn: u32) {
    let at = begin_chunk(buf, kind::SHUTDOWN, 0);
    buf.extend_from_slice(&cum_tsn.to_be_bytes());
    end_chunk(buf, at);
}

/// Writes a FORWARD-TSN (`interleaved == false`, entries are (stream, ssn)) or an
/// I-FORWARD-TSN.
pub fn put_forward_tsn(
    buf: &mut Vec<u8>,
    new_cum_tsn: u32,
    interleaved: bool,
    streams: &[SkippedStream],
) {
    let at = begin_chunk(
        buf,
        if interleaved {
            kind::I_FORWARD_TSN
        } else {
            kind::FORWARD_TSN
        },
        0,
    );
    buf.extend_from_slice(&new_cum_tsn.to_be_bytes());
    for s in streams {
        buf.extend_from_slice(&s.stream.to_be_bytes());
        if interleaved {
            buf.extend_from_slice(&(s.unordered as u16).to_be_bytes());
            buf.extend_from_slice(&s.mid.to_be_bytes());
        } else {
            buf.extend_from_slice(&(s.mid as u16).to_be_bytes());
        }
    }
    end_chunk(buf, at);
}

/// Writes an error cause.
pub fn put_cause(buf: &mut Vec<u8>, code: u16, info: &[u8]) {
    put_tlv(buf, code, info);
}

/// Writes an outgoing SSN reset request parameter.
pub fn put_outgoing_reset(
    buf: &mut Vec<u8>,
    req_seq: u32,
    resp_seq: u32,
    last_tsn: u32,
    streams: &[u16],
) {
    let mut v = Vec::with_capacity(12 + 2 * streams.len());
    v.extend_from_slice(&req_seq.to_be_bytes());
    v.extend_from_slice(&resp_seq.to_be_bytes());
    v.extend_from_slice(&last_tsn.to_be_bytes());
    for s in streams {
        v.extend_from_slice(&s.to_be_bytes());
    }
    put_tlv(buf, param::OUTGOING_RESET, &v);
}

/// Writes a re-configuration response parameter.
pub fn put_reconfig_response(buf: &mut Vec<u8>, resp_seq: u32, result: u32) {
    let mut v = [0u8; 8];
    v[..4].copy_from_slice(&resp_seq.to_be_bytes());
    v[4..].copy_from_slice(&result.to_be_bytes());
    put_tlv(buf, param::RECONFIG_RESPONSE, &v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{Packet, PacketWriter};
    use proptest::prelude::*;

    fn one(buf: &[u8]) -> Chunk<'_> {
        let p = Packet::parse(buf, true).unwrap();
        let mut it = p.chunks();
        let c = it.next().unwrap().unwrap();
        assert!(it.next().is_none());
        c
    }

    fn packet(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut buf = Vec::new();
        let w = PacketWriter::begin(&mut buf, 5000, 5000, 0x1234_5678);
        f(&mut buf);
        w.finish(&mut buf, false);
        buf
    }

    #[test]
    fn data_round_trip_both_kinds() {
        for interleaved in [false, true] {
            for flags in [
                flag::BEGIN | flag::END,
                flag::BEGIN,
                0,
                flag::END | flag::UNORDERED,
            ] {
                let d = Data {
                    tsn: 0xdead_beef,
                    stream: 7,
                    mid: if interleaved { 0x1_0001 } else { 9 },
                    ppid: if flags & flag::BEGIN != 0 || !interleaved {
                        53
                    } else {
                        0
                    },
                    fsn: if interleaved && flags & flag::BEGIN == 0 {
                        3
                    } else {
                        0
                    },
                    flags,
                    interleaved,
                    payload: b"hello",
                };
                let buf = packet(|b| put_data(b, &d));
                assert_eq!(buf.len() % 4, 0);
                assert_eq!(one(&buf), Chunk::Data(d));
            }
        }
    }

    #[test]
    fn init_round_trip() {
        let unrec: [&[u8]; 1] = [&[0x80, 0x99, 0, 5, 1, 0, 0, 0]];
        let r = InitRepr {
            initiate_tag: 1,
            a_rwnd: 2,
            outbound_streams: 3,
            inbound_streams: 4,
            initial_tsn: 5,
            cookie: Some(b"cookie!"),
            forward_tsn: true,
            i_data: true,
            reconfig: true,
            zero_checksum: Some(1),
            unrecognized: &unrec,
        };
        for ack in [false, true] {
            let buf = packet(|b| r.encode(ack, b));
            let c = one(&buf);
            let i = match (ack, c) {
                (false, Chunk::Init(i)) | (true, Chunk::InitAck(i)) => i,
                _ => panic!("{c:?}"),
            };
            assert_eq!(
                (
                    i.initiate_tag,
                    i.a_rwnd,
                    i.outbound_streams,
                    i.inbound_streams,
                    i.initial_tsn
                ),
                (1, 2, 3, 4, 5)
            );
            let p = parse_init_params(i.params).unwrap();
            assert_eq!(p.cookie, Some(&b"cookie!"[..]));
            assert!(p.forward_tsn && p.i_data && p.reconfig);
            assert_eq!(p.zero_checksum, Some(1));
        }
    }

    #[test]
    fn unknown_param_actions() {
        let mut params = Vec::new();
        put_tlv(&mut params, 0x4001, b"x"); // stop, report
        put_tlv(&mut params, param::FORWARD_TSN_SUPPORTED, &[]);
        let p = parse_init_params(&params).unwrap();
        assert_eq!(p.unrecognized.len(), 1);
        assert!(!p.forward_tsn, "processing stops at a 01 parameter");
        let mut params = Vec::new();
        put_tlv(&mut params, 0x8001 | 0x0100, b"x"); // skip, no report
        put_tlv(&mut params, param::FORWARD_TSN_SUPPORTED, &[]);
        let p = parse_init_params(&params).unwrap();
        assert!(p.unrecognized.is_empty() && p.forward_tsn);
    }

    #[test]
    fn sack_round_trip() {
        let gaps = [(2u16, 3u16), (5, 9)];
        let dups = [7u32, 8];
        let r = SackRepr {
            cum_tsn: 100,
            a_rwnd: 65536,
            gaps: &gaps,
            dups: &dups,
        };
        let buf = packet(|b| r.encode(b));
        assert_eq!(buf.len(), 12 + r.len());
        let Chunk::Sack(s) = one(&buf) else { panic!() };
        assert_eq!((s.cum_tsn, s.a_rwnd), (100, 65536));
        assert_eq!(s.gap_blocks().collect::<Vec<_>>(), gaps);
        assert_eq!(s.duplicates().collect::<Vec<_>>(), dups);
    }

    #[test]
    fn sack_with_lying_counts_is_malformed() {
        let mut buf = packet(|b| {
            SackRepr {
                cum_tsn: 1,
                a_rwnd: 1,
                gaps: &[(1, 1)],
                dups: &[],
            }
            .encode(b)
        });
        // Claim 200 gap blocks.
        buf[12 + 4 + 8..12 + 4 + 10].copy_from_slice(&200u16.to_be_bytes());
        let p = Packet::parse_unchecked(&buf).unwrap();
        assert!(p.chunks().next().unwrap().is_err());
    }

    #[test]
    fn small_chunks_round_trip() {
        let cases: Vec<(Vec<u8>, Chunk<'static>)> = vec![
            (
                packet(|b| put_empty(b, kind::COOKIE_ACK, 0)),
                Chunk::CookieAck,
            ),
            (
                packet(|b| put_empty(b, kind::SHUTDOWN_ACK, 0)),
                Chunk::ShutdownAck,
            ),
            (
                packet(|b| put_empty(b, kind::SHUTDOWN_COMPLETE, flag::T)),
                Chunk::ShutdownComplete { t: true },
            ),
            (
                packet(|b| put_shutdown(b, 77)),
                Chunk::Shutdown { cum_tsn: 77 },
            ),
            (
                packet(|b| put_opaque(b, kind::COOKIE_ECHO, 0, b"abcde")),
                Chunk::CookieEcho(b"abcde"),
            ),
            (
                packet(|b| put_opaque(b, kind::HEARTBEAT, 0, b"\0\x01\0\x06hi")),
                Chunk::Heartbeat(b"\0\x01\0\x06hi"),
            ),
            (
                packet(|b| put_opaque(b, kind::HEARTBEAT_ACK, 0, b"\0\x01\0\x06hi")),
                Chunk::HeartbeatAck(b"\0\x01\0\x06hi"),
            ),
        ];
        for (buf, want) in &cases {
            assert_eq!(&one(buf), want);
        }
        let mut causes = Vec::new();
        put_cause(&mut causes, cause::USER_ABORT, b"bye");
        let buf = packet(|b| put_opaque(b, kind::ABORT, 0, &causes));
        let Chunk::Abort {
            t: false,
            causes: c,
        } = one(&buf)
        else {
            panic!()
        };
        let v: Vec<_> = Tlvs::new(c).map(|r| r.unwrap()).collect();
        assert_eq!(v[0].0, cause::USER_ABORT);
        assert_eq!(v[0].1, b"bye");
        let buf = packet(|b| put_opaque(b, kind::ERROR, 0, &causes));
        assert!(matches!(one(&buf), Chunk::Error(_)));
        let buf = packet(|b| put_opaque(b, 0x3f, 0, b"zz"));
        assert!(matches!(one(&buf), Chunk::Unknown { kind: 0x3f, .. }));
    }

    #[test]
    fn forward_tsn_round_trip() {
        for il in [false, true] {
            let s = [
                SkippedStream {
                    stream: 1,
                    unordered: false,
                    mid: 5,
                },
                SkippedStream {
                    stream: 9,
                    unordered: il,
                    mid: if il { 70000 } else { 7 },
                },
            ];
            let buf = packet(|b| put_forward_tsn(b, 1000, il, &s));
            let Chunk::ForwardTsn(f) = one(&buf) else {
                panic!()
            };
            assert_eq!(f.new_cum_tsn, 1000);
            assert_eq!(f.interleaved, il);
            assert_eq!(f.streams().collect::<Vec<_>>(), s);
        }
    }

    #[test]
    fn reconfig_round_trip() {
        let mut v = Vec::new();
        put_outgoing_reset(&mut v, 10, 20, 30, &[1, 3, 5]);
        put_reconfig_response(&mut v, 11, reconfig_result::IN_PROGRESS);
        let buf = packet(|b| put_opaque(b, kind::RE_CONFIG, 0, &v));
        let Chunk::ReConfig(value) = one(&buf) else {
            panic!()
        };
        let ps: Vec<_> = reconfig_params(value).map(|p| p.unwrap()).collect();
        let ReconfigParam::OutgoingReset {
            req_seq: 10,
            resp_seq: 20,
            last_tsn: 30,
            streams,
        } = ps[0]
        else {
            panic!("{:?}", ps[0])
        };
        assert_eq!(streams.iter().collect::<Vec<_>>(), [1, 3, 5]);
        assert_eq!(
            ps[1],
            ReconfigParam::Response {
                resp_seq: 11,
                result: reconfig_result::IN_PROGRESS
            }
        );
    }

    #[test]
    fn hostile_lengths() {
        // Every chunk type with every short value length: an error or a chunk, never a panic.
        for k in 0..=255u8 {
            for len in 0..24 {
                let v = vec![0xffu8; len];
                let _ = Chunk::parse(k, 0xff, &v, &v);
            }
        }
        // DATA without user data is a protocol violation (RFC 9260 6.2).
        assert!(matches!(
            Chunk::parse(kind::DATA, 3, &[0; 12], &[]),
            Err(Error::ProtocolViolation(_))
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_chunk_bytes_never_panic(k in any::<u8>(), f in any::<u8>(),
                                             v in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(c) = Chunk::parse(k, f, &v, &v) {
                match c {
                    Chunk::Sack(s) => { let _ = s.gap_blocks().count() + s.duplicates().count(); }
                    Chunk::ForwardTsn(t) => { let _ = t.streams().count(); }
                    Chunk::ReConfig(r) => { let _ = reconfig_params(r).count(); }
                    Chunk::Init(i) | Chunk::InitAck(i) => { let _ = parse_init_params(i.params); }
                    Chunk::Abort { causes, .. } | Chunk::Error(causes) => { let _ = Tlvs::new(causes).count(); }
                    _ => {}
                }
            }
        }

        #[test]
        fn data_round_trips(tsn in any::<u32>(), stream in any::<u16>(), mid in any::<u32>(),
                            ppid in any::<u32>(), fsn in any::<u32>(), flags in 0u8..16,
                            il in any::<bool>(), payload in proptest::collection::vec(any::<u8>(), 1..64)) {
            let begin = flags & flag::BEGIN != 0;
            let d = Data {
                tsn, stream,
                mid: if il { mid } else { mid & 0xffff },
                ppid: if il && !begin { 0 } else { ppid },
                fsn: if il && !begin { fsn } else { 0 },
                flags, interleaved: il, payload: &payload,
            };
            let buf = packet(|b| put_data(b, &d));
            prop_assert_eq!(one(&buf), Chunk::Data(d));
        }

        #[test]
        fn sack_round_trips(cum in any::<u32>(), rwnd in any::<u32>(),
                            gaps in proptest::collection::vec((any::<u16>(), any::<u16>()), 0..20),
                            dups in proptest::collection::vec(any::<u32>(), 0..20)) {
            let r = SackRepr { cum_tsn: cum, a_rwnd: rwnd, gaps: &gaps, dups: &dups };
            let buf = packet(|b| r.encode(b));
            let Chunk::Sack(s) = one(&buf) else { panic!() };
            prop_assert_eq!(s.cum_tsn, cum);
            prop_assert_eq!(s.gap_blocks().collect::<Vec<_>>(), gaps);
            prop_assert_eq!(s.duplicates().collect::<Vec<_>>(), dups);
        }
    }
}
