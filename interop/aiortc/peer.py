#!/usr/bin/env python3
"""A WebRTC peer on aiortc speaking zvon's interop line protocol on stdin/stdout.

Mirrors interop/lib/common.mjs (the Node peers' harness); see interop/README.md for the
protocol. aiortc does not trickle: its candidates are in the SDP after setLocalDescription,
so this peer never sends "candidate" lines, but it adds the ones it receives.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import threading
import time

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

NAME = "aiortc"
SIZES = [0, 1, 16384, 262144]
GRACE_S = 1.0
DEBUG = bool(os.environ.get("ZVON_PEER_DEBUG"))

# aioice leaves out 127.0.0.1 and ::1 when it lists host addresses; the tests run on
# loopback, so add 127.0.0.1 (as werift's iceAdditionalHostAddresses does).
_host_addresses = aioice.ice.get_host_addresses


def _with_loopback(use_ipv4: bool, use_ipv6: bool) -> list:
    addresses = _host_addresses(use_ipv4, use_ipv6)
    if use_ipv4 and "127.0.0.1" not in addresses:
        addresses.append("127.0.0.1")
    return addresses


aioice.ice.get_host_addresses = _with_loopback


def payload(n: int) -> bytes:
    """Byte i of an n-byte test message is (i * 7 + n) & 0xff."""
    return bytes((i * 7 + n) & 0xFF for i in range(n))


def sdp_max_message_size(sdp: str) -> float:
    """a=max-message-size of the first m=application (RFC 8841): absent = 65536, 0 = no limit."""
    in_app = False
    for line in re.split(r"\r?\n", sdp):
        if line.startswith("m="):
            if in_app:
                break
            in_app = line.startswith("m=application")
        elif in_app and line.startswith("a=max-message-size:"):
            try:
                v = int(line.split(":", 1)[1].strip())
            except ValueError:
                continue
            return float("inf") if v == 0 else v
    return 65536


def wire_max(n: float) -> int:
    return 0 if n == float("inf") else int(n)


def fmt_max(n: float) -> str:
    return "unlimited" if n == float("inf") else str(int(n))


def to_msg(data):
    """(is_text, bytes) view of a data channel message."""
    if isinstance(data, str):
        return (True, data.encode("utf8"))
    return (False, bytes(data))


def describe(m) -> str:
    text, b = m
    return f"text({json.dumps(b.decode('utf8', 'replace'))})" if text else f"binary({len(b)})"


class Peer:
    def __init__(self, role: str, timeout_s: float):
        self.role = role
        self.timeout_s = timeout_s
        self.start = time.monotonic()
        # An explicit empty list: without it aiortc queries a public STUN server.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.own = {}  # label -> {"ordered", "pending", "sent", "open"}
        self.skipped = []
        self.skip_notes = []
        self.errors = []
        self.finished = False
        self.result_sent = False
        self.last_state = None
        self.info_sent = False
        self.echoed = 0
        self.local_sdp = None
        self.remote_sdp = None
        self.remote_set = False
        self.early_candidates = []
        self.done = asyncio.get_running_loop().create_future()
        self.exit_code = 1

        @self.pc.on("connectionstatechange")
        def on_state():
            state = self.pc.connectionState
            if state == self.last_state:
                return
            self.last_state = state
            self.log(f"connection state {state}")
            self.send({"type": "state", "connection": state})
            if state == "failed":
                self.fail("connection failed")

        @self.pc.on("datachannel")
        def on_datachannel(channel):
            self.remote_channel(channel)

    # --- line I/O ---------------------------------------------------------------------------
    def log(self, text: str) -> None:
        t = time.monotonic() - self.start
        sys.stderr.write(f"[{NAME} {self.role} +{t:.3f}s] {text}\n")
        sys.stderr.flush()

    def send(self, obj) -> None:
        # Nothing follows the result line.
        if self.result_sent:
            return
        if obj.get("type") == "result":
            self.result_sent = True
        sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    # --- scenario ---------------------------------------------------------------------------
    def remote_max(self) -> float:
        return sdp_max_message_size(self.remote_sdp) if self.remote_sdp else 65536

    def local_max(self) -> float:
        return sdp_max_message_size(self.local_sdp) if self.local_sdp else 65536

    def dtls_info(self) -> dict:
        info = {}
        try:
            sctp = self.pc.sctp
            dtls = sctp.transport if sctp else None
            ssl = getattr(dtls, "_ssl", None)
            if ssl is not None:
                info["dtls"] = ssl.get_protocol_version_name().replace("DTLSv", "DTLS ")
                info["dtlsCipher"] = ssl.get_cipher_name()
            role = getattr(dtls, "_role", None)
            if role:
                info["dtlsRole"] = role
        except Exception as e:  # info is best effort: aiortc internals may change
            self.log(f"dtls info: {e!r}")
        return info

    def own_channels(self) -> None:
        self.own_channel(f"{NAME}-ordered", True)
        self.own_channel(f"{NAME}-unordered", False)

    def own_channel(self, label: str, ordered: bool) -> None:
        self.own[label] = {"ordered": ordered, "pending": [], "sent": False, "open": False}
        dc = self.pc.createDataChannel(label, ordered=ordered)

        @dc.on("open")
        def on_open():
            self.own_open(label, dc)

        @dc.on("message")
        def on_message(data):
            self.own_message(label, data)

        @dc.on("close")
        def on_close():
            ch = self.own[label]
            if not self.finished and (ch["pending"] or not ch["sent"]):
                self.error(f"{label}: closed before all echoes came back")

    def own_open(self, label: str, dc) -> None:
        ch = self.own[label]
        if ch["sent"]:
            return
        ch["open"] = True
        ch["sent"] = True
        # Every message comes back as an echo, so it must fit both directions.
        remote_max, local_max = self.remote_max(), self.local_max()
        limit = min(remote_max, local_max)
        if not self.info_sent:
            self.info_sent = True
            self.skipped = [n for n in SIZES if n > limit]
            if self.skipped:
                which = "the remote's" if remote_max <= local_max else "our own"
                self.skip_notes.append(
                    f"skipped sizes {','.join(map(str, self.skipped))} above {which} "
                    f"max-message-size {fmt_max(limit)} (remote {fmt_max(remote_max)}, "
                    f"local {fmt_max(local_max)})"
                )
            info = {
                "type": "info",
                "maxMessageSize": wire_max(remote_max),
                "localMaxMessageSize": wire_max(local_max),
                **self.dtls_info(),
            }
            if self.skipped:
                info["skipped"] = self.skipped
            self.send(info)
        self.log(f"own channel {label} open, sending")
        msgs = [payload(n) for n in SIZES if n <= limit]
        msgs.append(f"hello from {NAME}")
        for data in msgs:
            ch["pending"].append(to_msg(data))
            try:
                dc.send(data)
            except Exception as e:
                ch["pending"].pop()
                self.error(f"{label}: sending {describe(to_msg(data))} raised {e!r}")
        self.check()

    def own_message(self, label: str, data) -> None:
        ch = self.own.get(label)
        if ch is None:
            return
        m = to_msg(data)
        if DEBUG:
            self.log(f"echo on {label}: {describe(m)}")
        idx = next((i for i, p in enumerate(ch["pending"]) if p == m), None)
        if idx is None:
            pending = ", ".join(describe(p) for p in ch["pending"]) or "none"
            self.error(f"{label}: unexpected echo {describe(m)} (pending: {pending})")
            return
        if ch["ordered"] and idx != 0:
            self.error(
                f"{label}: echo {describe(m)} arrived before {describe(ch['pending'][0])} "
                "on an ordered channel"
            )
        del ch["pending"][idx]
        self.check()

    def remote_channel(self, dc) -> None:
        self.log(f"remote channel {dc.label} (ordered={dc.ordered})")

        @dc.on("message")
        def on_message(data):
            m = to_msg(data)
            if DEBUG:
                self.log(f"echoing on {dc.label}: {describe(m)}")
            if len(m[1]) > self.local_max():
                self.error(
                    f"{dc.label}: the remote sent {describe(m)}, above our advertised "
                    f"max-message-size {fmt_max(self.local_max())}"
                )
                return
            try:
                dc.send(data)
                self.echoed += 1
            except Exception as e:
                self.error(f"echo of {describe(m)} on {dc.label} raised {e!r}")

    def missing(self) -> str:
        parts = []
        if not self.own:
            parts.append("no own channels created")
        for label, ch in self.own.items():
            if not ch["open"]:
                parts.append(f"{label} never opened")
            elif ch["pending"]:
                pending = ", ".join(describe(p) for p in ch["pending"])
                parts.append(f"{label} still waiting for echoes of {pending}")
        return "; ".join(parts) if parts else "nothing missing"

    def check(self) -> None:
        if self.finished or self.errors or not self.own:
            return
        if any(not ch["sent"] or ch["pending"] for ch in self.own.values()):
            return
        self.finished = True
        sizes = ",".join(str(n) for n in SIZES if n not in self.skipped)
        detail = "; ".join(
            [
                f"all echoes matched on {', '.join(self.own)}: binary sizes {sizes} and one "
                f"text message each; echoed {self.echoed} messages for the remote",
                *self.skip_notes,
            ]
        )
        self.log(f"result ok: {detail}")
        self.send({"type": "result", "ok": True, "detail": detail})
        self.exit_code = 0
        # Keep echoing for the other side for a moment, then leave.
        asyncio.get_running_loop().call_later(GRACE_S, self.finish)

    def error(self, text: str) -> None:
        self.log(f"ERROR {text}")
        self.errors.append(text)
        self.fail("; ".join(self.errors))

    def fail(self, detail: str) -> None:
        if self.finished:
            return
        self.finished = True
        self.log(f"result FAILED: {detail}")
        self.send({"type": "result", "ok": False, "detail": detail})
        self.exit_code = 1
        self.finish()

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)

    # --- signalling -------------------------------------------------------------------------
    async def add_candidate(self, msg) -> None:
        cand = msg.get("candidate") or ""
        try:
            if not cand:
                await self.pc.addIceCandidate(None)
                return
            c = candidate_from_sdp(cand.split(":", 1)[1] if cand.startswith("candidate:") else cand)
            c.sdpMid = msg.get("sdpMid", "0")
            c.sdpMLineIndex = msg.get("sdpMLineIndex", 0)
            await self.pc.addIceCandidate(c)
        except ValueError as e:
            # e.g. a candidate after the SDP already said end-of-candidates: harmless.
            self.log(f"candidate {cand!r} not added: {e}")

    async def on_signal(self, msg) -> None:
        kind = msg.get("type")
        if kind in ("offer", "answer"):
            if kind == "offer" and self.role != "answerer":
                raise RuntimeError("offerer got an offer")
            if kind == "answer" and self.role != "offerer":
                raise RuntimeError("answerer got an answer")
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type=kind))
            self.remote_sdp = msg["sdp"]
            self.remote_set = True
            for c in self.early_candidates:
                await self.add_candidate(c)
            self.early_candidates.clear()
            if kind == "offer":
                self.own_channels()
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                self.local_sdp = self.pc.localDescription.sdp
                self.send({"type": "answer", "sdp": self.local_sdp})
        elif kind == "candidate":
            if self.remote_set:
                await self.add_candidate(msg)
            else:
                self.early_candidates.append(msg)
        else:
            self.log(f"ignoring message type {kind}")

    async def read_stdin(self) -> None:
        # A thread reads stdin: asyncio's pipe transport refuses regular files and /dev/null.
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue = asyncio.Queue()

        def reader() -> None:
            try:
                for raw in sys.stdin.buffer:
                    loop.call_soon_threadsafe(lines.put_nowait, raw)
                loop.call_soon_threadsafe(lines.put_nowait, b"")
            except RuntimeError:
                pass  # the loop is gone: we are exiting anyway

        threading.Thread(target=reader, name="stdin", daemon=True).start()
        while True:
            line = await lines.get()
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                self.log(f"ignoring a line that is not JSON: {line[:200]!r}")
                continue
            # Applied strictly in order: a candidate must not overtake its description.
            try:
                await self.on_signal(msg)
            except Exception as e:
                self.fail(f"handling {msg.get('type')}: {e!r}")
        if self.finished:
            self.finish()
        else:
            self.fail(f"stdin closed before the scenario finished; {self.missing()}")

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.finish)
        reader = asyncio.create_task(self.read_stdin())
        timer = loop.call_later(
            self.timeout_s,
            lambda: self.fail(f"timeout after {self.timeout_s:g} s; {self.missing()}"),
        )
        if self.role == "offerer":
            try:
                self.own_channels()
                await self.pc.setLocalDescription(await self.pc.createOffer())
                self.local_sdp = self.pc.localDescription.sdp
                self.send({"type": "offer", "sdp": self.local_sdp})
            except Exception as e:
                self.fail(f"creating the offer: {e!r}")
        await self.done
        timer.cancel()
        reader.cancel()
        try:
            await asyncio.wait_for(self.pc.close(), 2)
        except Exception as e:
            self.log(f"close: {e!r}")
        return self.exit_code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--role", choices=["offerer", "answerer"], required=True)
    ap.add_argument("--scenario", choices=["datachannel"], default="datachannel")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    args = ap.parse_args()
    if args.timeout <= 0:
        ap.error("--timeout must be positive")

    async def go() -> int:
        return await Peer(args.role, args.timeout).run()

    code = asyncio.run(go())
    sys.stdout.flush()
    # aiortc/aioice may leave executor threads behind; do not wait for them.
    os._exit(code)


if __name__ == "__main__":
    main()
