#!/usr/bin/env node
// A WebRTC peer on werift (pure TypeScript) speaking zvon's interop line protocol on
// stdin/stdout; see interop/README.md.

import { createRequire } from "node:module";
import { Harness, parseArgs } from "../lib/common.mjs";

const require = createRequire(import.meta.url);
const { RTCPeerConnection } = require("werift");

const NAME = "werift";
const opts = parseArgs(process.argv.slice(2), NAME);

// werift gathers no loopback candidates unless told to. It advertises a=max-message-size:65536
// unless ZVON_WERIFT_MAX_MESSAGE_SIZE says otherwise (0 = no limit), which lets a test push
// 256 KiB messages through werift too.
const config = { iceAdditionalHostAddresses: ["127.0.0.1"] };
if (process.env.ZVON_WERIFT_MAX_MESSAGE_SIZE) config.maxMessageSize = Number(process.env.ZVON_WERIFT_MAX_MESSAGE_SIZE);
const pc = new RTCPeerConnection(config);
let remoteSet = false;
const earlyCandidates = [];
let localSent = false;
const outCandidates = [];
let lastMid = { sdpMid: "0", sdpMLineIndex: 0 };

const h = new Harness({
  name: NAME,
  opts,
  onSignal,
  close: async () => {
    await pc.close();
  },
});

function sendCandidate(c) {
  if (localSent) h.send(c);
  else outCandidates.push(c);
}

function flushLocal() {
  localSent = true;
  for (const c of outCandidates.splice(0)) h.send(c);
}

let endSent = false;
pc.onIceCandidate.subscribe((c) => {
  if (c && c.candidate) {
    lastMid = { sdpMid: c.sdpMid ?? "0", sdpMLineIndex: c.sdpMLineIndex ?? 0 };
    sendCandidate({ type: "candidate", candidate: c.candidate, ...lastMid });
  } else if (!endSent) {
    endSent = true;
    sendCandidate({ type: "candidate", candidate: "", ...lastMid });
  }
});
pc.connectionStateChange.subscribe((state) => h.connectionState(state));
pc.onDataChannel.subscribe((dc) => remoteChannel(dc));

// werift 0.24 sends an empty message as a zero-fragment SCTP message: nothing goes on the wire
// but the ordered stream's SSN still advances, so the receiver stalls on the missing SSN (and
// an empty text message would even be PPID 51, not 56). RFC 8831 section 6.6 says to send
// PPID 56/57 with one 0x00 byte; we queue exactly that through werift's own data channel
// queue, so ordering with the other messages is kept. ZVON_WERIFT_RAW_EMPTY=1 shows the bug.
const PPID_STRING_EMPTY = 56;
const PPID_BINARY_EMPTY = 57;
let emptyPatched = false;
function patchEmptySend() {
  const sctp = pc.sctpTransport;
  if (emptyPatched || !sctp || process.env.ZVON_WERIFT_RAW_EMPTY) return;
  if (typeof sctp.datachannelSend !== "function" || !Array.isArray(sctp.dataChannelQueue)) {
    h.log("werift internals changed: cannot patch empty-message sending");
    return;
  }
  emptyPatched = true;
  const orig = sctp.datachannelSend;
  sctp.datachannelSend = (channel, data) => {
    if (data.length !== 0) return orig(channel, data);
    const ppid = typeof data === "string" ? PPID_STRING_EMPTY : PPID_BINARY_EMPTY;
    const one = Buffer.from([0]);
    // dataChannelFlush subtracts the queued length again.
    channel.addBufferedAmount(one.length);
    sctp.dataChannelQueue.push([channel, ppid, one]);
    sctp.dataChannelFlush();
    return 0;
  };
}

async function dtlsInfo() {
  const info = {};
  try {
    const report = await pc.getStats();
    for (const s of report.values()) {
      if (s.type === "transport") {
        if (s.tlsVersion) info.dtls = s.tlsVersion;
        if (s.dtlsCipher) info.dtlsCipher = s.dtlsCipher;
        if (s.dtlsRole) info.dtlsRole = s.dtlsRole;
      }
    }
  } catch (e) {
    h.log(`getStats: ${e}`);
  }
  const sctp = pc.sctpTransport;
  if (sctp) {
    info.sctpMaxMessageSize = sctp.maxMessageSize;
    info.sctpRemoteMaxMessageSize = sctp.remoteMaxMessageSize;
  }
  info.emptyMessageWorkaround = emptyPatched;
  return info;
}

function ownChannel(label, ordered) {
  h.ownChannel(label, ordered);
  const dc = pc.createDataChannel(label, { ordered });
  patchEmptySend();
  dc.stateChanged.subscribe((state) => {
    if (state === "open") h.ownOpen(label, (data) => dc.send(data), dtlsInfo);
    else if (state === "closed") h.ownClosed(label);
  });
  dc.onMessage.subscribe((data) => h.ownMessage(label, data));
}

function remoteChannel(dc) {
  patchEmptySend();
  h.log(`remote channel ${dc.label} (ordered=${dc.ordered})`);
  dc.onMessage.subscribe((data) => h.remoteMessage(dc.label, data, (d) => dc.send(d)));
}

function ownChannels() {
  ownChannel(`${NAME}-ordered`, true);
  ownChannel(`${NAME}-unordered`, false);
}

async function addCandidate(msg) {
  if (!msg.candidate) {
    // werift takes a null/empty candidate as end-of-candidates.
    await pc.addIceCandidate(null);
    return;
  }
  await pc.addIceCandidate({ candidate: msg.candidate, sdpMid: msg.sdpMid ?? "0", sdpMLineIndex: msg.sdpMLineIndex ?? 0 });
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
