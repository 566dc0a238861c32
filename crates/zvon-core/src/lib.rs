//! # zvon-core
//!
//! The sans-IO peer connection that ties the protocol crates together: RFC 7983 demultiplexing
//! of one bundled transport, JSEP (RFC 8829) offer/answer and renegotiation, transceivers, data
//! channels and stats, behind one `Input`/`Output` drive loop. Filled by the peer-connection
//! issue.
#![forbid(unsafe_code)]
