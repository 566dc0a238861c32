//! Serial-number arithmetic (RFC 1982) for the 32-bit TSN and the 16/32-bit stream sequence
//! numbers. Internally every sequence number is unwrapped to a `u64` that only grows, so that
//! comparisons and offsets in the queues are plain integer arithmetic.

/// Unwraps a 32-bit wire value to the 64-bit value nearest to `reference`.
///
/// ```
/// use zvon_sctp::tsn::unwrap32;
/// assert_eq!(unwrap32(0xffff_fff0, 5), 0x1_0000_0005);
/// assert_eq!(unwrap32(0x1_0000_0005, 0xffff_fff0), 0xffff_fff0);
/// ```
pub fn unwrap32(reference: u64, wire: u32) -> u64 {
    let r = reference as u32;
    let diff = wire.wrapping_sub(r) as i32 as i64;
    let v = reference as i64 + diff;
    // Values below zero cannot exist: they were never sent.
    if v < 0 { wire as u64 } else { v as u64 }
}

/// Unwraps a 16-bit wire value to the 64-bit value nearest to `reference`.
pub fn unwrap16(reference: u64, wire: u16) -> u64 {
    let r = reference as u16;
    let diff = wire.wrapping_sub(r) as i16 as i64;
    let v = reference as i64 + diff;
    if v < 0 { wire as u64 } else { v as u64 }
}

/// `a < b` in serial-number arithmetic on 32 bits.
pub fn lt32(a: u32, b: u32) -> bool {
    a != b && (b.wrapping_sub(a) as i32) > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn unwrap_is_inverse_near_reference(base in 0u64..(1u64 << 40), delta in -(1i64 << 30)..(1i64 << 30)) {
            let v = base as i64 + delta;
            prop_assume!(v >= 0);
            let v = v as u64;
            prop_assert_eq!(unwrap32(base, v as u32), v);
        }

        #[test]
        fn unwrap16_near(base in 0u64..(1u64 << 40), delta in -(1i64 << 14)..(1i64 << 14)) {
            let v = base as i64 + delta;
            prop_assume!(v >= 0);
            let v = v as u64;
            prop_assert_eq!(unwrap16(base, v as u16), v);
        }
    }

    #[test]
    fn serial_compare() {
        assert!(lt32(1, 2));
        assert!(lt32(0xffff_ffff, 0));
        assert!(!lt32(5, 5));
        assert!(!lt32(2, 1));
    }
}
