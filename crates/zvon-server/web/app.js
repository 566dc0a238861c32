// The zvon web page: joins a room of `zvon serve` over WebSocket (docs/signaling.md) and keeps
// one RTCPeerConnection per other peer (a mesh). Chat runs on a data channel the newcomer
// opens; a call (microphone) and a screen share are added to and removed from that same
// connection by renegotiation, with the W3C "perfect negotiation" pattern (the newcomer is
// polite). No build step and no dependency: this file is served as it is.
//
// `window.zvon` exposes the page's state to tests (crates/zvon-server/tests/browser.rs drives
// two Chromium pages through it); everything in it is also shown on screen.
"use strict";

const $ = (id) => document.getElementById(id);
const now = () => Date.now();

/** Everything a test may read; see `window.zvon` at the end. */
const app = {
  ws: null,
  id: null,
  room: null,
  name: "",
  joined: false,
  /** @type {Map<string, Peer>} */
  peers: new Map(),
  /** Local media being sent to every peer: slot -> {track, stream}. Slots: "mic", "screen". */
  local: { mic: null, screen: null },
  /** Chat lines: {from, name, text, at}; `from` is null for our own. */
  messages: [],
  /** What happened, in order: {at, peer?, what, ...}. */
  events: [],
  errors: [],
  timing: { joinClicked: null, joinSent: null, welcome: null },
  pcCount: 0,
  /** Test switches: held outgoing signals, and answering like a data-only peer. */
  test: { hold: null, rejectMedia: false },
};

function event(what, fields = {}) {
  const e = { at: now(), what, ...fields };
  app.events.push(e);
  if (app.events.length > 2000) app.events.splice(0, 500);
  return e;
}

function error(what, err, fields = {}) {
  const e = { at: now(), what, error: String(err && err.message ? err.message : err), ...fields };
  app.errors.push(e);
  console.warn("zvon:", what, err);
  return e;
}

function setStatus(text, isError = false) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("error", isError);
}

// --- signaling --------------------------------------------------------------------------------

function wsUrl() {
  const u = new URL("ws", location.href);
  u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  u.pathname = "/ws";
  u.search = "";
  return u.href;
}

function sendWs(obj) {
  if (app.ws && app.ws.readyState === WebSocket.OPEN) app.ws.send(JSON.stringify(obj));
}

/** Sends `data` to peer `to`; while a test holds signals, queues it instead. */
function signal(to, data) {
  if (app.test.hold) app.test.hold.push({ to, data });
  else sendWs({ type: "signal", to, data });
}

function join({ name, room, token }) {
  if (app.ws) return;
  app.name = name || "";
  app.room = room;
  app.timing.joinClicked = now();
  const ws = new WebSocket(wsUrl());
  app.ws = ws;
  setStatus("connecting…");
  ws.onopen = () => {
    const msg = { type: "join", room };
    if (token) msg.token = token;
    if (name) msg.name = name;
    app.timing.joinSent = now();
    event("join-sent", { room });
    sendWs(msg);
  };
  ws.onmessage = (e) => {
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch (err) {
      return error("server sent something that is not JSON", err);
    }
    onServerMessage(msg);
  };
  ws.onclose = (e) => {
    event("ws-closed", { code: e.code });
    if (app.ws === ws) {
      app.ws = null;
      // The peer connections outlive the signaling channel: chat keeps working, only
      // renegotiation (calls, screen shares) and new peers need the server.
      if (app.joined) setStatus(`signaling closed (${e.code}); chat continues, calls need a rejoin`, true);
      else if (!$("status").classList.contains("error")) setStatus("not joined");
      app.joined = false;
      updateControls();
    }
  };
}

function leave() {
  sendWs({ type: "leave" });
  app.ws?.close();
  app.ws = null;
  app.joined = false;
  for (const p of app.peers.values()) p.close();
  app.peers.clear();
  for (const slot of ["mic", "screen"]) stopLocal(slot, false);
  renderPeers();
  setStatus("left");
  event("left");
  updateControls();
}

function onServerMessage(msg) {
  switch (msg.type) {
    case "welcome": {
      app.id = msg.id;
      app.joined = true;
      app.timing.welcome = now();
      event("welcome", { id: msg.id, peers: msg.peers.map((p) => p.id) });
      setStatus(`in room ${msg.room} as ${app.name || msg.id}`);
      systemLine(`joined ${msg.room}`);
      const q = new URLSearchParams(location.search);
      q.set("room", msg.room);
      history.replaceState(null, "", `?${q}`);
      // We are the newcomer: we open the channel and offer to everyone already here.
      for (const p of msg.peers) addPeer(p.id, p.name, true);
      updateControls();
      break;
    }
    case "peer-joined":
      event("peer-joined", { peer: msg.id });
      systemLine(`${msg.name || msg.id} joined`);
      addPeer(msg.id, msg.name, false);
      break;
    case "peer-left": {
      event("peer-left", { peer: msg.id });
      const p = app.peers.get(msg.id);
      systemLine(`${p?.name || msg.id} left`);
      p?.close();
      app.peers.delete(msg.id);
      renderPeers();
      break;
    }
    case "signal": {
      // A signal before its peer-joined cannot come from a peer that was here before us.
      const p = app.peers.get(msg.from) ?? addPeer(msg.from, "", false);
      p.onSignal(msg.data);
      break;
    }
    case "error":
      error(`server: ${msg.code}`, msg.message, { code: msg.code });
      setStatus(`server refused: ${msg.code}${msg.message ? ` (${msg.message})` : ""}`, true);
      break;
    case "bye":
      event("bye", { reason: msg.reason });
      setStatus(`server said bye: ${msg.reason}`, true);
      break;
    default:
      event("unknown-server-message", { type: msg.type });
  }
}

function addPeer(id, name, newcomer) {
  const p = new Peer(id, name || "", newcomer);
  app.peers.set(id, p);
  renderPeers();
  return p;
}

// --- one peer: its RTCPeerConnection, perfect negotiation, chat channel, media ---------------

const KINDS = { mic: "audio", screen: "video" };

class Peer {
  constructor(id, name, newcomer) {
    this.id = id;
    this.name = name;
    /** Perfect negotiation: the newcomer is polite (docs/signaling.md). */
    this.polite = newcomer;
    this.pc = new RTCPeerConnection({ iceServers: iceServers() });
    this.pcId = ++app.pcCount;
    this.dc = null;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    /** Incoming signals are handled one at a time, in arrival order. */
    this.chain = Promise.resolve();
    /** Candidates that came before any remote description. */
    this.early = [];
    /** The transceiver each local slot is sent on. */
    this.tx = { mic: null, screen: null };
    /** Kinds the peer rejected (port 0), e.g. a zvon echo peer that answers data only. */
    this.rejected = new Set();
    this.mediaSynced = false;
    this.negotiations = 0;
    this.collisions = { ignored: 0, rolledBack: 0 };
    this.remote = { audio: null, video: null };
    this.timing = { created: now(), dcOpen: null, connected: null, firstMessage: null };
    this.statsCache = null;
    /** Trickled candidates each way, and how many of them were mDNS `.local` names. */
    this.candidates = { local: 0, localMdns: 0, remote: 0, remoteMdns: 0, remoteEnd: 0 };
    this.closed = false;
    this.el = null;

    const pc = this.pc;
    pc.onnegotiationneeded = () => this.negotiate();
    pc.onicecandidate = ({ candidate }) => {
      // `null` ends our gathering; docs/signaling.md sends it as {"candidate": null}.
      if (candidate) this.countCandidate("local", candidate.candidate);
      signal(this.id, { candidate: candidate ? candidate.toJSON() : null });
    };
    pc.onconnectionstatechange = () => {
      event("connection-state", { peer: id, state: pc.connectionState });
      if (pc.connectionState === "connected" && !this.timing.connected) this.timing.connected = now();
      this.render();
    };
    pc.oniceconnectionstatechange = () => this.render();
    pc.onsignalingstatechange = () => {
      if (pc.signalingState === "stable") this.onStable();
      this.render();
    };
    pc.ondatachannel = ({ channel }) => {
      if (channel.label === "chat") this.useChannel(channel);
    };
    pc.ontrack = (e) => this.onTrack(e);

    if (newcomer) this.useChannel(pc.createDataChannel("chat"));
  }

  log(what, fields = {}) {
    return event(what, { peer: this.id, ...fields });
  }

  async negotiate() {
    if (this.closed) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      // Another offer may have won meanwhile (we rolled back): send only a current offer.
      if (this.pc.signalingState !== "have-local-offer") return;
      this.log("offer-sent");
      signal(this.id, { description: this.pc.localDescription.toJSON() });
    } catch (err) {
      error("creating an offer", err, { peer: this.id });
    } finally {
      this.makingOffer = false;
    }
  }

  onSignal(data) {
    this.chain = this.chain.then(() => this.handleSignal(data)).catch((err) => error("handling a signal", err, { peer: this.id }));
  }

  async handleSignal(data) {
    if (this.closed || !data || typeof data !== "object") return;
    const pc = this.pc;
    if (data.description) {
      const description = data.description;
      // W3C perfect negotiation (webrtc-pc, section 10.7).
      const readyForOffer = !this.makingOffer && (pc.signalingState === "stable" || this.settingRemoteAnswer);
      const collision = description.type === "offer" && !readyForOffer;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) {
        this.collisions.ignored++;
        this.log("offer-ignored");
        return;
      }
      if (collision) {
        this.collisions.rolledBack++;
        this.log("rollback");
      }
      this.settingRemoteAnswer = description.type === "answer";
      try {
        await pc.setRemoteDescription(description); // rolls our own offer back if needed
      } finally {
        this.settingRemoteAnswer = false;
      }
      this.log(`${description.type}-applied`);
      for (const c of this.early.splice(0)) await this.addCandidate(c);
      if (description.type === "offer") {
        await pc.setLocalDescription();
        this.log("answer-sent");
        const answer = pc.localDescription.toJSON();
        if (app.test.rejectMedia) answer.sdp = Peer.rejectMediaSdp(answer.sdp);
        signal(this.id, { description: answer });
      } else {
        this.negotiations++;
      }
      this.checkRejected();
    } else if ("candidate" in data) {
      if (!pc.remoteDescription) this.early.push(data.candidate);
      else await this.addCandidate(data.candidate);
    } else {
      this.log("unknown-signal", { keys: Object.keys(data) });
    }
  }

  countCandidate(side, line) {
    this.candidates[side]++;
    if (/ [0-9a-f-]+\.local /i.test(line || "")) this.candidates[`${side}Mdns`]++;
  }

  async addCandidate(candidate) {
    if (candidate) this.countCandidate("remote", candidate.candidate);
    else this.candidates.remoteEnd++;
    try {
      // No argument: the remote's end of candidates.
      if (candidate) await this.pc.addIceCandidate(candidate);
      else await this.pc.addIceCandidate();
    } catch (err) {
      // Candidates of an offer we ignored are expected to fail.
      if (!this.ignoreOffer) error("adding a remote candidate", err, { peer: this.id });
    }
  }

  /**
   * Test switch: the answer as a data-only peer (zvon echo) would send it, every audio and
   * video section rejected with port 0 and left out of the BUNDLE group (RFC 8843). Only the
   * copy on the wire is changed; this page keeps its own answer.
   */
  static rejectMediaSdp(sdp) {
    const rejected = [];
    const sections = sdp.split("\r\nm=").map((sec, i) => {
      if (i === 0 || !/^(audio|video) /.test(sec)) return sec;
      const mid = /\r\na=mid:(\S+)/.exec(sec);
      if (mid) rejected.push(mid[1]);
      return sec.replace(/^(\w+) \d+/, "$1 0");
    });
    return sections
      .join("\r\nm=")
      .replace(/^a=group:BUNDLE (.*)$/m, (_, mids) => `a=group:BUNDLE ${mids.split(" ").filter((m) => !rejected.includes(m)).join(" ")}`);
  }

  /** A peer that answered our audio or video with port 0 is not offered that kind again. */
  checkRejected() {
    for (const [slot, kind] of Object.entries(KINDS)) {
      const t = this.tx[slot];
      if (t && (t.currentDirection === "stopped" || t.stopped) && !this.rejected.has(kind)) {
        this.rejected.add(kind);
        this.tx[slot] = null;
        this.log("media-rejected", { kind });
        this.render();
      }
    }
  }

  onStable() {
    // Local media that was on before this peer came is added once the first exchange is done,
    // so that the first offer stays the newcomer's.
    if (!this.mediaSynced && this.pc.remoteDescription) {
      this.mediaSynced = true;
      for (const slot of Object.keys(KINDS)) {
        if (app.local[slot]) this.attach(slot).catch((err) => error("adding local media", err, { peer: this.id }));
      }
    }
  }

  /** Sends local `slot` on this connection; renegotiation follows by negotiationneeded. */
  async attach(slot) {
    const local = app.local[slot];
    const kind = KINDS[slot];
    if (!local || this.closed || !this.mediaSynced) return;
    if (this.rejected.has(kind)) {
      this.log("media-skipped", { kind, why: "the peer rejected it" });
      return;
    }
    const t = this.tx[slot];
    if (t && t.currentDirection !== "stopped" && !t.stopped) {
      // Reuse the transceiver (and its m-line) of the last time.
      await t.sender.replaceTrack(local.track);
      t.sender.setStreams?.(local.stream);
      t.direction = "sendrecv";
    } else {
      // addTrack reuses a transceiver the peer's own offer created for this kind, if any.
      const sender = this.pc.addTrack(local.track, local.stream);
      this.tx[slot] = this.pc.getTransceivers().find((x) => x.sender === sender) ?? null;
    }
    this.log("media-attached", { slot });
  }

  detach(slot) {
    const t = this.tx[slot];
    if (!t || this.closed || t.currentDirection === "stopped" || !t.sender.track) return;
    this.pc.removeTrack(t.sender); // direction -> recvonly, negotiationneeded follows
    this.log("media-detached", { slot });
  }

  onTrack({ track, transceiver }) {
    this.log("remote-track", { kind: track.kind, mid: transceiver.mid });
    this.remote[track.kind] = track;
    const show = () => this.render();
    track.onmute = show;
    track.onunmute = show;
    track.onended = show;
    if (this.el) {
      const el = this.el.querySelector(track.kind === "audio" ? "audio" : "video");
      el.srcObject = new MediaStream([track]);
      el.play?.().catch(() => {}); // autoplay may wait for a click; stats flow either way
    }
    this.render();
  }

  useChannel(dc) {
    this.dc = dc;
    dc.onopen = () => {
      if (!this.timing.dcOpen) this.timing.dcOpen = now();
      this.log("channel-open");
      this.render();
    };
    dc.onclose = () => {
      this.log("channel-closed");
      this.render();
    };
    dc.onmessage = (e) => {
      if (typeof e.data !== "string") return this.log("binary-message-ignored");
      if (!this.timing.firstMessage) this.timing.firstMessage = now();
      addMessage({ from: this.id, name: this.name, text: e.data, at: now() });
    };
  }

  close() {
    this.closed = true;
    this.dc?.close();
    this.pc.close();
    this.el?.remove();
  }

  /** The figures the stats panel shows, from getStats(). */
  async stats() {
    const report = await this.pc.getStats();
    const s = {
      at: now(),
      rtt: null,
      bytesSent: 0,
      bytesReceived: 0,
      tlsVersion: null,
      dtls: null,
      dtlsCipher: null,
      srtpCipher: null,
      dtlsRole: null,
      pair: null,
      audio: { packetsSent: 0, packetsReceived: 0, bytesReceived: 0 },
      video: { packetsSent: 0, packetsReceived: 0, framesEncoded: 0, framesDecoded: 0, frameWidth: 0 },
    };
    let transport = null;
    for (const x of report.values()) {
      if (x.type === "transport") transport = x;
      else if (x.type === "inbound-rtp" && s[x.kind]) {
        s[x.kind].packetsReceived += x.packetsReceived || 0;
        if (x.kind === "audio") s.audio.bytesReceived += x.bytesReceived || 0;
        if (x.kind === "video") {
          s.video.framesDecoded += x.framesDecoded || 0;
          s.video.frameWidth = Math.max(s.video.frameWidth, x.frameWidth || 0);
        }
      } else if (x.type === "outbound-rtp" && s[x.kind]) {
        s[x.kind].packetsSent += x.packetsSent || 0;
        if (x.kind === "video") s.video.framesEncoded += x.framesEncoded || 0;
      }
    }
    if (transport) {
      s.bytesSent = transport.bytesSent || 0;
      s.bytesReceived = transport.bytesReceived || 0;
      s.tlsVersion = transport.tlsVersion || null;
      s.dtls = { FEFC: "DTLS 1.3", FEFD: "DTLS 1.2" }[transport.tlsVersion] || transport.tlsVersion || null;
      s.dtlsCipher = transport.dtlsCipher || null;
      s.srtpCipher = transport.srtpCipher || null;
      s.dtlsRole = transport.dtlsRole || null;
      const pair = report.get(transport.selectedCandidatePairId);
      if (pair) {
        s.rtt = pair.currentRoundTripTime ?? null;
        const l = report.get(pair.localCandidateId);
        const r = report.get(pair.remoteCandidateId);
        const addr = (c) => (c ? `${c.address || "?"}:${c.port} ${c.candidateType}` : "?");
        s.pair = `${addr(l)} ↔ ${addr(r)} ${l?.protocol || ""}`;
      }
    }
    this.statsCache = s;
    return s;
  }

  /** A JSON snapshot for tests. */
  snapshot() {
    const pc = this.pc;
    return {
      id: this.id,
      name: this.name,
      polite: this.polite,
      pcId: this.pcId,
      connectionState: pc.connectionState,
      iceConnectionState: pc.iceConnectionState,
      signalingState: pc.signalingState,
      channelState: this.dc ? this.dc.readyState : null,
      negotiations: this.negotiations,
      collisions: { ...this.collisions },
      rejected: [...this.rejected],
      sending: Object.fromEntries(Object.keys(KINDS).map((s) => [s, !!this.tx[s]?.sender.track])),
      transceivers: pc.getTransceivers().map((t) => ({
        mid: t.mid,
        kind: t.receiver.track.kind,
        direction: t.direction,
        currentDirection: t.currentDirection,
      })),
      remote: Object.fromEntries(
        Object.entries(this.remote).map(([k, t]) => [k, t ? { muted: t.muted, readyState: t.readyState } : null]),
      ),
      timing: { ...this.timing },
      candidates: { ...this.candidates },
      stats: this.statsCache,
    };
  }

  render() {
    if (!this.el) return;
    const pc = this.pc;
    const states = {
      connectionState: pc.connectionState,
      iceConnectionState: pc.iceConnectionState,
      signalingState: pc.signalingState,
      channelState: this.dc ? this.dc.readyState : "—",
    };
    for (const [k, v] of Object.entries(states)) {
      const dd = this.el.querySelector(`[data-k="${k}"]`);
      dd.textContent = v;
      dd.className = ["connected", "completed", "open", "stable"].includes(v) ? "good" : ["failed", "closed", "disconnected"].includes(v) ? "bad" : "";
    }
    const video = this.el.querySelector("video");
    video.hidden = !(this.remote.video && !this.remote.video.muted && this.remote.video.readyState === "live");
    const notice = this.el.querySelector(".notice");
    notice.hidden = this.rejected.size === 0;
    notice.textContent = `this peer does not take ${[...this.rejected].join(" or ")} (it answered with port 0): chat only`;
    const s = this.statsCache;
    if (s) {
      const set = (k, v) => (this.el.querySelector(`[data-s="${k}"]`).textContent = v);
      set("rtt", s.rtt === null ? "—" : `${(s.rtt * 1000).toFixed(1)} ms`);
      set("bytes", `${kib(s.bytesSent)} / ${kib(s.bytesReceived)}`);
      set("dtls", s.dtls ? `${s.dtls} ${s.dtlsCipher || ""} (${s.dtlsRole || "?"})` : "—");
      set("srtp", s.srtpCipher || "—");
      set("pair", s.pair || "—");
      set("audio", `${s.audio.packetsSent} / ${s.audio.packetsReceived}`);
      set("video", `${s.video.packetsSent} / ${s.video.packetsReceived}, ${s.video.framesDecoded} frames decoded`);
    }
  }
}

function kib(n) {
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(2)} MiB`;
}

/** `?ice=stun:host:3478,turn:...` adds ICE servers; none by default (same host or LAN). */
function iceServers() {
  const ice = new URLSearchParams(location.search).get("ice");
  return ice ? ice.split(",").filter(Boolean).map((urls) => ({ urls })) : [];
}

// --- local media ------------------------------------------------------------------------------

async function startLocal(slot) {
  if (app.local[slot]) return;
  let stream;
  try {
    stream =
      slot === "mic"
        ? await navigator.mediaDevices.getUserMedia({ audio: true, video: false })
        : await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (err) {
    error(`starting ${slot}`, err);
    setStatus(`could not start ${slot === "mic" ? "the microphone" : "the screen share"}: ${err.message}`, true);
    return;
  }
  const track = stream.getTracks()[0];
  app.local[slot] = { track, stream };
  track.onended = () => stopLocal(slot); // e.g. the browser's own "stop sharing" button
  if (slot === "screen") {
    $("local-screen").srcObject = stream;
    $("local-screen").hidden = false;
  }
  event("local-started", { slot, label: track.label });
  for (const p of app.peers.values()) await p.attach(slot).catch((err) => error(`adding ${slot}`, err, { peer: p.id }));
  updateControls();
}

function stopLocal(slot, tell = true) {
  const local = app.local[slot];
  if (!local) return;
  app.local[slot] = null;
  if (tell) for (const p of app.peers.values()) p.detach(slot);
  local.track.stop();
  if (slot === "screen") {
    $("local-screen").srcObject = null;
    $("local-screen").hidden = true;
  }
  event("local-stopped", { slot });
  updateControls();
}

// --- chat -------------------------------------------------------------------------------------

function sendChat(text) {
  if (!text) return 0;
  let sent = 0;
  for (const p of app.peers.values()) {
    if (p.dc?.readyState === "open") {
      p.dc.send(text);
      sent++;
    }
  }
  addMessage({ from: null, name: app.name || "me", text, at: now(), sentTo: sent });
  return sent;
}

function addMessage(m) {
  app.messages.push(m);
  const li = document.createElement("li");
  if (m.from === null) li.className = "me";
  const from = document.createElement("span");
  from.className = "from";
  from.textContent = m.from === null ? m.name : m.name || m.from;
  if (m.from === null) from.title = `sent to ${m.sentTo} peer(s)`;
  li.append(from, document.createTextNode(m.text));
  appendLine(li);
}

function systemLine(text) {
  const li = document.createElement("li");
  li.className = "system";
  li.textContent = text;
  appendLine(li);
}

function appendLine(li) {
  const ol = $("messages");
  const atEnd = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 4;
  ol.append(li);
  if (atEnd) ol.scrollTop = ol.scrollHeight;
}

// --- rendering and controls -------------------------------------------------------------------

function renderPeers() {
  const list = $("peer-list");
  for (const p of app.peers.values()) {
    if (p.el) continue;
    p.el = $("peer-template").content.firstElementChild.cloneNode(true);
    p.el.querySelector(".peer-name").textContent = p.name || "(no name)";
    p.el.querySelector(".peer-id").textContent = p.id;
    p.el.querySelector(".peer-role").textContent = p.polite ? "we offered (polite)" : "they offered";
    list.append(p.el);
    p.render();
  }
  for (const el of [...list.children]) {
    if (![...app.peers.values()].some((p) => p.el === el)) el.remove();
  }
  $("peer-count").textContent = String(app.peers.size);
}

function updateControls() {
  const inRoom = !!app.ws;
  $("main").hidden = !inRoom && app.peers.size === 0;
  $("join-btn").disabled = inRoom;
  $("leave-btn").disabled = !inRoom;
  for (const f of ["name", "room", "token"]) $(f).disabled = inRoom;
  $("call-start").disabled = !app.joined || !!app.local.mic;
  $("call-stop").disabled = !app.local.mic;
  $("screen-start").disabled = !app.joined || !!app.local.screen;
  $("screen-stop").disabled = !app.local.screen;
}

async function refreshStats() {
  for (const p of app.peers.values()) {
    if (p.closed || !p.el) continue;
    try {
      await p.stats();
      p.render();
    } catch (err) {
      error("getStats", err, { peer: p.id });
    }
  }
}

function init() {
  const q = new URLSearchParams(location.search);
  $("room").value = q.get("room") || "";
  $("token").value = q.get("token") || "";
  $("name").value = q.get("name") || localStorage.getItem("zvon-name") || "";
  $("join-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = $("name").value.trim();
    if (name) localStorage.setItem("zvon-name", name);
    join({ name, room: $("room").value.trim(), token: $("token").value });
    $("main").hidden = false;
    updateControls();
  });
  $("leave-btn").onclick = leave;
  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("chat-input");
    sendChat(input.value);
    input.value = "";
  });
  $("call-start").onclick = () => startLocal("mic");
  $("call-stop").onclick = () => stopLocal("mic");
  $("screen-start").onclick = () => startLocal("screen");
  $("screen-stop").onclick = () => stopLocal("screen");
  setInterval(refreshStats, 1000);
  updateControls();
}

// --- test hooks -------------------------------------------------------------------------------

window.zvon = {
  /** A JSON snapshot: who we are, every peer's states, negotiation counts, last stats. */
  state() {
    return {
      id: app.id,
      room: app.room,
      name: app.name,
      joined: app.joined,
      pcCount: app.pcCount,
      local: Object.fromEntries(Object.entries(app.local).map(([k, v]) => [k, v ? v.track.label : null])),
      peers: [...app.peers.values()].map((p) => p.snapshot()),
      timing: { ...app.timing },
      errors: app.errors.slice(),
    };
  },
  messages: app.messages,
  events: app.events,
  errors: app.errors,
  /** The RTCPeerConnection to `peerId` (tests compare identities across renegotiations). */
  pc: (peerId) => app.peers.get(peerId)?.pc ?? null,
  channel: (peerId) => app.peers.get(peerId)?.dc ?? null,
  /** Fresh getStats() figures for `peerId`. */
  stats: (peerId) => app.peers.get(peerId)?.stats() ?? Promise.resolve(null),
  join,
  leave,
  send: sendChat,
  startCall: () => startLocal("mic"),
  stopCall: () => stopLocal("mic"),
  startScreen: () => startLocal("screen"),
  stopScreen: () => stopLocal("screen"),
  test: {
    /** Queue outgoing signals instead of sending them (to make two offers cross: glare). */
    holdSignals() {
      app.test.hold ??= [];
    },
    /** Send what was held, in order, and stop holding. Returns how many. */
    releaseSignals() {
      const held = app.test.hold ?? [];
      app.test.hold = null;
      for (const { to, data } of held) sendWs({ type: "signal", to, data });
      return held.length;
    },
    /** Answer every offer with its audio/video sections rejected (port 0), as zvon echo does. */
    set rejectMedia(on) {
      app.test.rejectMedia = !!on;
    },
    get rejectMedia() {
      return app.test.rejectMedia;
    },
  },
};

init();
