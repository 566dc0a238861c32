// The Chromium peer's page side: the RTCPeerConnection and the `datachannel` scenario run here,
// in headless Chromium. chromium/peer.mjs (Node) loads this module into the page, relays the
// protocol lines between its stdin/stdout and `zvonIn`/`zvonOut`, and closes the browser when
// the page calls `zvonExit`. The scenario logic is lib/scenario.mjs, the same file the Node
// peers use; see interop/README.md.

import { Scenario } from "../lib/scenario.mjs";

/** DTLS record-layer versions as getStats() reports them (RTCTransportStats.tlsVersion). */
const DTLS_VERSIONS = { FEFC: "DTLS 1.3", FEFD: "DTLS 1.2" };

/**
 * Starts the peer. `cfg`: name, role, timeoutS, timeoutMs (what is left of the timeout once
 * the browser is up), graceMs, debug, start (Date.now() at program start), dtls12 (the run
 * must end in DTLS 1.2). The host functions `zvonOut(line)`, `zvonLog(text)` and
 * `zvonExit(code)` are exposed by peer.mjs before this runs.
 */
export function start(cfg) {
  const NAME = cfg.name;
  const role = cfg.role;
  // No STUN/TURN: host candidates only (loopback too, see the launch flags in peer.mjs).
  const pc = new RTCPeerConnection({ iceServers: [] });

  const h = new Scenario({
    name: NAME,
    opts: { role, timeoutS: cfg.timeoutS },
    onSignal,
    close: async () => pc.close(),
    graceMs: cfg.graceMs,
    debug: cfg.debug,
    start: cfg.start,
    io: {
      write: (line) => window.zvonOut(line),
      log: (text) => window.zvonLog(text),
      terminate: (code) => window.zvonExit(code),
    },
  });
  window.zvonIn = (line) => h.handleLine(line);
  window.zvonEof = () => h.inputClosed();
  window.addEventListener("error", (ev) => h.fail(`page error: ${ev.message}`));
  window.addEventListener("unhandledrejection", (ev) => h.fail(`unhandled rejection in the page: ${ev.reason && ev.reason.stack ? ev.reason.stack : ev.reason}`));

  let remoteSet = false;
  const earlyCandidates = [];
  // Outgoing candidates wait until our description has been sent, so the test never sees a
  // candidate before the offer/answer it belongs to.
  let localSent = false;
  const outCandidates = [];
  let lastMid = { sdpMid: "0", sdpMLineIndex: 0 };
  let endSent = false;

  function sendCandidate(c) {
    if (localSent) h.send(c);
    else outCandidates.push(c);
  }

  function flushLocal() {
    localSent = true;
    for (const c of outCandidates.splice(0)) h.send(c);
  }

  pc.onicecandidate = (ev) => {
    const c = ev.candidate;
    if (c && c.candidate) {
      lastMid = { sdpMid: c.sdpMid ?? "0", sdpMLineIndex: c.sdpMLineIndex ?? 0 };
      h.log(`local candidate ${c.protocol} ${c.address} ${c.port} ${c.type}`);
      sendCandidate({ type: "candidate", candidate: c.candidate, ...lastMid });
    } else if (!endSent) {
      // Chromium signals the end with a null candidate (an empty one would mean the same).
      endSent = true;
      sendCandidate({ type: "candidate", candidate: "", ...lastMid });
    }
  };
  pc.onconnectionstatechange = () => h.connectionState(pc.connectionState);
  pc.ondatachannel = (ev) => remoteChannel(ev.channel);

  async function dtlsInfo() {
    const info = {};
    const stats = await pc.getStats();
    let pairId = null;
    stats.forEach((s) => {
      if (s.type !== "transport") return;
      // FEFC is DTLS 1.3, FEFD DTLS 1.2 (the record-layer version in hex).
      info.dtls = DTLS_VERSIONS[String(s.tlsVersion).toUpperCase()] ?? String(s.tlsVersion);
      if (s.dtlsCipher) info.dtlsCipher = s.dtlsCipher;
      if (s.srtpCipher) info.srtpCipher = s.srtpCipher;
      if (s.dtlsRole) info.dtlsRole = s.dtlsRole;
      if (s.tlsGroup) info.tlsGroup = s.tlsGroup;
      pairId = s.selectedCandidatePairId;
    });
    // Which addresses carry the traffic: shows whether the loopback candidates were used.
    const pair = pairId && stats.get(pairId);
    if (pair) {
      const l = stats.get(pair.localCandidateId);
      const r = stats.get(pair.remoteCandidateId);
      if (l && r) info.candidatePair = `${l.address}:${l.port} ${l.candidateType} -> ${r.address}:${r.port} ${r.candidateType}`;
    }
    if (pc.sctp) info.sctpMaxMessageSize = pc.sctp.maxMessageSize;
    if (cfg.dtls12) {
      info.dtls12Requested = true;
      if (info.dtls !== "DTLS 1.2") {
        // After the info line, so the test sees what was negotiated before the verdict.
        setTimeout(() => h.error(`--dtls12 was given but ${info.dtls} was negotiated: this Chromium offers DTLS 1.3 whatever the flags (see interop/README.md); restrict the other side to DTLS 1.2`), 0);
      }
    }
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

  function remoteChannel(dc) {
    dc.binaryType = "arraybuffer";
    h.log(`remote channel ${dc.label} (ordered=${dc.ordered})`);
    dc.onmessage = (ev) => h.remoteMessage(dc.label, ev.data, (d) => dc.send(d));
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
      // Candidates the peer cannot use are logged and ignored (README), e.g. an end marker
      // after a=end-of-candidates.
      h.log(`candidate not accepted (${msg.candidate || "end-of-candidates"}): ${e}`);
    }
  }

  async function onSignal(msg) {
    switch (msg.type) {
      case "offer":
      case "answer": {
        if (msg.type === "offer" && role !== "answerer") throw new Error("offerer got an offer");
        if (msg.type === "answer" && role !== "offerer") throw new Error("answerer got an answer");
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

  h.armTimeout(Math.max(cfg.timeoutMs, 0));
  if (role === "offerer") {
    // Like the incoming lines, the offer goes through the signalling chain.
    h.signalChain = h.signalChain
      .then(async () => {
        ownChannels();
        const offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
        h.localSdp = pc.localDescription.sdp;
        h.send({ type: "offer", sdp: h.localSdp });
        flushLocal();
      })
      .catch((e) => h.fail(`creating the offer: ${e && e.stack ? e.stack : e}`));
  }
}
