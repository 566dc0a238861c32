#!/usr/bin/env python3
"""Packets/s and ratios from the last `cargo bench --bench srtp` run (in bench/).

Usage: python3 benches/srtp_summary.py [$CARGO_TARGET_DIR/criterion]
Reads criterion's median estimates (thread CPU time per packet) and prints, per operation,
profile and size, each implementation's Mpps and zvon's speed relative to the others.
"""
import json
import os
import sys

target = os.environ.get("CARGO_TARGET_DIR", "target")
root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(target, "criterion")
IMPLS = ["zvon", "libsrtp", "rtc-srtp", "primitives"]
PROFILES = ["SRTP_AEAD_AES_128_GCM", "SRTP_AEAD_AES_256_GCM",
            "SRTP_AES128_CM_HMAC_SHA1_80", "SRTP_AES128_CM_HMAC_SHA1_32"]

print(f"{'op':9} {'profile':22} {'bytes':>5} " + " ".join(f"{i:>10}" for i in IMPLS)
      + "   zvon/libsrtp zvon/rtc-srtp zvon/primitives   (Mpps; ratios > 1: zvon faster)")
for op in ["protect", "unprotect"]:
    for prof in PROFILES:
        for size in ["160", "1200"]:
            ns = {}
            for impl in IMPLS:
                p = os.path.join(root, f"{op}_{prof}_{size}", impl, "new", "estimates.json")
                if os.path.exists(p):
                    with open(p) as f:
                        ns[impl] = json.load(f)["median"]["point_estimate"]
            if "zvon" not in ns:
                continue
            mpps = " ".join(f"{1e3 / ns[i]:10.2f}" if i in ns else f"{'-':>10}" for i in IMPLS)
            ratios = " ".join(f"{ns[i] / ns['zvon']:13.2f}" if i in ns else f"{'-':>13}"
                              for i in IMPLS[1:])
            print(f"{op:9} {prof[5:]:22} {size:>5} {mpps}  {ratios}")
