#!/usr/bin/env node
// A WebRTC peer on @roamhq/wrtc (Google's libwebrtc in Node) speaking zvon's interop line
// protocol on stdin/stdout; see interop/README.md.

import { createRequire } from "node:module";
import { DEBUG, Harness, SIZES, parseArgs, payload, toMsg } from "../lib/common.mjs";

const require = createRequire(import.meta.url);
const { RTCPeerConnection } = require("@roamhq/wrtc");

const NAME = "wrtc";
const opts = parseArgs(process.argv.slice(2), NAME);

// Gathers host candidates (loopback included) on its own; no STUN/TURN.
const pc = new RTCPeerConnection({ iceServers: [] });
let remoteSet = false;
const earlyCandidates = [];
// Outgoing candidates wait until our description has been sent, so the test never sees a
// candidate before the offer/answer it belongs to.
let localSent = false;
const outCandidates = [];
let lastMid = { sdpMid: "0", sdpMLineIndex: 0 };

const h = new Harness({
  name: NAME,
  opts,
  onSignal,
  close: async () => pc.close(),
});

function sendCandidate(c) {
  if (localSent) h.send(c);
  else outCandidates.push(c);
}

function flushLocal() {
  localSent = true;
  for (const c of outCandidates.splice(0)) h.send(c);
}

// node-webrtc dispatches its synthetic end-of-candidates (null) event when it handles the
// first icegatheringstatechange, reading the state at dispatch time: for an answerer that is
// often before the queued candidate events. So the end marker waits until every candidate
// of the (then complete) local description has been sent.
let endPending = false;
let endSent = false;
const sentCandidates = new Set();
// The SDP form of a candidate lacks the "ufrag" extension the event form has.
const candKey = (c) => c.split(/\s+/).slice(0, 8).join(" ");
function maybeEnd() {
  if (!endPending || endSent || pc.iceGatheringState !== "complete" || !pc.localDescription) return;
  const inSdp = pc.localDescription.sdp
    .split(/\r?\n/)
    .filter((l) => l.startsWith("a=candidate:"))
    .map((l) => candKey(l.slice(2)));
  if (!inSdp.every((c) => sentCandidates.has(c))) return;
  endSent = true;
  sendCandidate({ type: "candidate", candidate: "", ...lastMid });
}
pc.onicecandidate = (ev) => {
  if (ev.candidate && ev.candidate.candidate) {
    lastMid = { sdpMid: ev.candidate.sdpMid ?? "0", sdpMLineIndex: ev.candidate.sdpMLineIndex ?? 0 };
    sentCandidates.add(candKey(ev.candidate.candidate));
    sendCandidate({ type: "candidate", candidate: ev.candidate.candidate, ...lastMid });
  } else if (!ev.candidate) {
    endPending = true;
  }
  maybeEnd();
};
pc.onconnectionstatechange = () => h.connectionState(pc.connectionState);
pc.ondatachannel = (ev) => remoteChannel(ev.channel);

async function dtlsInfo() {
  const info = {};
  try {
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === "transport") {
        // FEFC is DTLS 1.3, FEFD DTLS 1.2 (the record-layer version in hex).
        const v = { FEFC: "DTLS 1.3", FEFD: "DTLS 1.2" }[String(s.tlsVersion).toUpperCase()];
        info.dtls = v ?? String(s.tlsVersion);
        if (s.dtlsCipher) info.dtlsCipher = s.dtlsCipher;
        if (s.srtpCipher) info.srtpCipher = s.srtpCipher;
        if (s.dtlsRole) info.dtlsRole = s.dtlsRole;
      }
    });
  } catch (e) {
    h.log(`getStats: ${e}`);
  }
  if (pc.sctp && pc.sctp.maxMessageSize !== undefined) info.sctpMaxMessageSize = pc.sctp.maxMessageSize;
  return info;
}

function ownChannel(label, ordered) {
  h.ownChannel(label, ordered);
  const dc = pc.createDataChannel(label, { ordered });
  dc.binaryType = "arraybuffer";
  dc.onopen = () => h.ownOpen(label, (data) => dc.send(data), dtlsInfo);
  dc.onmessage = (ev) => h.ownMessage(label, ev.data);
  dc.onclose = () => h.ownClosed(label);
}

// node-webrtc's ondatachannel race (interop/README.md, "wrtc", has the evidence). A channel the
// remote opened gets a native observer that queues its events until the JS RTCDataChannel is
// built; the constructor then registers the real observer *before* moving the queued events
// over, so messages that libwebrtc delivers in between (while the JS thread wakes up) are
// dispatched ahead of the queued ones. The queued events begin with the channel's "open", and
// a remote channel's messages always follow its "open" otherwise: so the messages dispatched
// before "open" are exactly the ones moved ahead. They came from libwebrtc after the queued
// messages and before everything later. Which of the messages after "open" were the queued
// ones JS cannot see, so the position comes from the scenario: the early messages go where
// the first of them stands in the sequence the remote sends on that channel. Only the early
// messages are moved, only when the race happened; on an unordered channel they are echoed at
// once.
function remotePosition(label, data) {
  const name = label.replace(/-(un)?ordered$/, "");
  const max = Math.min(h.remoteMax(), h.localMax());
  const seq = SIZES.filter((n) => n <= max).map((n) => payload(n));
  seq.push(`hello from ${name}`);
  const m = toMsg(data);
  return seq.findIndex((d) => {
    const e = toMsg(d);
    return e.text === m.text && Buffer.from(e.bytes).equals(Buffer.from(m.bytes));
  });
}

function remoteChannel(dc) {
  dc.binaryType = "arraybuffer";
  const label = dc.label;
  h.log(`remote channel ${label} (ordered=${dc.ordered})`);
  const echo = (data) => h.remoteMessage(label, data, (d) => dc.send(d));
  let opened = false;
  const early = [];
  // Echo the early messages once this many messages after "open" have been echoed.
  let releaseAfter = -1;
  let afterOpen = 0;
  const release = () => {
    releaseAfter = -1;
    for (const d of early.splice(0)) echo(d);
  };
  dc.onopen = () => {
    opened = true;
    if (!early.length) return;
    const at = dc.ordered ? remotePosition(label, early[0]) : 0;
    const what = early.map((d) => (typeof d === "string" ? "text" : `binary(${d.byteLength})`)).join(", ");
    h.log(
      `node-webrtc dispatched ${early.length} message(s) on ${label} before its open event (${what}): ` +
        (at > 0 ? `echoing them after the next ${at}, their place in the remote's sequence` : "echoing them now") +
        " (node-webrtc's ondatachannel race, see interop/README.md)",
    );
    if (at > 0) releaseAfter = at;
    else release();
  };
  dc.onmessage = (ev) => {
    if (!opened) {
      if (DEBUG) h.log(`holding a message on ${label} dispatched before its open event`);
      early.push(ev.data);
      return;
    }
    echo(ev.data);
    if (releaseAfter > 0 && ++afterOpen === releaseAfter) release();
  };
}

function ownChannels() {
  ownChannel(`${NAME}-ordered`, true);
  ownChannel(`${NAME}-unordered`, false);
}

async function addCandidate(msg) {
  const init = { candidate: msg.candidate, sdpMid: msg.sdpMid ?? "0", sdpMLineIndex: msg.sdpMLineIndex ?? 0 };
  try {
    await pc.addIceCandidate(init);
  } catch (e) {
    // libwebrtc refuses an empty end-of-candidates marker in some versions: harmless.
    if (msg.candidate) throw e;
    h.log(`end-of-candidates not accepted: ${e}`);
  }
}

async function onSignal(msg) {
  switch (msg.type) {
    case "offer":
    case "answer": {
      if (msg.type === "offer" && opts.role !== "answerer") throw new Error("offerer got an offer");
      if (msg.type === "answer" && opts.role !== "offerer") throw new Error("answerer got an answer");
      await pc.setRemoteDescription({ type: msg.type, sdp: msg.sdp });
      h.remoteSdp = msg.sdp;
      remoteSet = true;
      for (const c of earlyCandidates.splice(0)) await addCandidate(c);
      if (msg.type === "offer") {
        ownChannels();
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        h.localSdp = pc.localDescription.sdp;
        h.send({ type: "answer", sdp: h.localSdp });
        flushLocal();
      }
      break;
    }
    case "candidate":
      if (remoteSet) await addCandidate(msg);
      else earlyCandidates.push(msg);
      break;
    default:
      h.log(`ignoring message type ${msg.type}`);
  }
}

h.run();
if (opts.role === "offerer") {
  ownChannels();
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  h.localSdp = pc.localDescription.sdp;
  h.send({ type: "offer", sdp: h.localSdp });
  flushLocal();
}
