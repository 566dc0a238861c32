// The `datachannel` scenario and the protocol bookkeeping, shared by every JavaScript peer:
// the Node peers (wrtc, werift) through lib/common.mjs, and the Chromium peer, which loads
// this very file into its page. So: plain ECMAScript only, no Node API (no Buffer, process,
// fs); I/O goes through the `io` object the host passes in. interop/aiortc/peer.py mirrors
// this file; keep the two in step. The protocol itself is described in interop/README.md.

/** Binary message sizes each side sends on each of its own channels, in this order. */
export const SIZES = [0, 1, 16384, 262144];

/** Byte i of an n-byte test message is (i * 7 + n) & 0xff. */
export function payload(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + n) & 0xff;
  return b;
}

/**
 * A description's a=max-message-size (RFC 8841): absent means 65536, 0 means no limit
 * (returned as Infinity). Takes the first m=application section's value.
 */
export function sdpMaxMessageSize(sdp) {
  let inApp = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith("m=")) {
      if (inApp) break;
      inApp = line.startsWith("m=application");
    } else if (inApp && line.startsWith("a=max-message-size:")) {
      const v = Number(line.slice("a=max-message-size:".length).trim());
      if (Number.isFinite(v)) return v === 0 ? Infinity : v;
    }
  }
  return 65536;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * Normalised view of a data channel message: `{ text: boolean, bytes: Uint8Array }`. A Node
 * Buffer is a Uint8Array, so the Node stacks' messages need no copy.
 */
export function toMsg(data) {
  if (typeof data === "string") return { text: true, bytes: utf8.encode(data) };
  if (data instanceof Uint8Array) return { text: false, bytes: data };
  if (data instanceof ArrayBuffer) return { text: false, bytes: new Uint8Array(data) };
  if (ArrayBuffer.isView(data)) return { text: false, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  throw new Error(`unexpected message type ${Object.prototype.toString.call(data)}`);
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** 0 on the wire means "no limit". */
const wireMax = (n) => (Number.isFinite(n) ? n : 0);
const fmtMax = (n) => (Number.isFinite(n) ? String(n) : "unlimited");

export function describe(m) {
  return m.text ? `text(${JSON.stringify(utf8Decoder.decode(m.bytes))})` : `binary(${m.bytes.length})`;
}

/**
 * Line protocol and the scenario's bookkeeping. The peer program supplies the WebRTC side
 * through callbacks and the host supplies I/O; everything protocol-level happens here so that
 * all the JavaScript peers behave the same.
 */
export class Scenario {
  /**
   * @param {object} o
   * @param {string} o.name   wrtc | werift | chromium
   * @param {{role: string, timeoutS: number}} o.opts
   * @param {(msg: object) => Promise<void>} o.onSignal  offer/answer/candidate from the test
   * @param {() => Promise<void>} o.close  tears the peer connection down
   * @param {object} o.io  `write(line)` one protocol line (no newline), `log(text)` one stderr
   *   line, `terminate(code)` ends the program (called once the connection is closed)
   * @param {number} o.graceMs  echoing goes on this long after `result ok:true`
   * @param {boolean} [o.debug]  log every message
   * @param {number} [o.start]  Date.now() at program start, for log timestamps
   */
  constructor({ name, opts, onSignal, close, io, graceMs, debug = false, start = Date.now() }) {
    this.name = name;
    this.opts = opts;
    this.onSignal = onSignal;
    this.closePc = close;
    this.io = io;
    this.graceMs = graceMs;
    this.debug = debug;
    this.own = new Map(); // label -> { ordered, pending: Msg[], sent: boolean, open: boolean }
    this.skipped = [];
    this.skipNotes = [];
    this.errors = [];
    this.finished = false;
    // Set by the peer program as soon as each description is known.
    this.localSdp = null;
    this.remoteSdp = null;
    this.signalChain = Promise.resolve();
    this.start = start;
    this.infoSent = false;
    this.echoed = 0;
  }

  /** The binary message of n bytes as the stack wants it (a Node peer makes it a Buffer). */
  binary(n) {
    return payload(n);
  }

  log(...args) {
    const t = ((Date.now() - this.start) / 1000).toFixed(3);
    this.io.log(`[${this.name} ${this.opts.role} +${t}s] ${args.join(" ")}`);
  }

  send(obj) {
    // Nothing follows the result line.
    if (this.resultSent) return;
    if (obj.type === "result") this.resultSent = true;
    this.io.write(JSON.stringify(obj));
  }

  /** One line from the test. */
  handleLine(line) {
    line = line.trim();
    if (!line) return;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch (e) {
      this.log(`ignoring a line that is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    // Signalling is applied strictly in arrival order: a candidate must not overtake the
    // description it belongs to.
    this.signalChain = this.signalChain
      .then(() => this.onSignal(msg))
      .catch((e) => this.fail(`handling ${msg.type}: ${e && e.stack ? e.stack : e}`));
  }

  /** The test closed our input: ends the grace after a result, fails the run before one. */
  inputClosed() {
    if (this.finished) this.exit(this.errors.length === 0 ? 0 : 1);
    else this.fail(`stdin closed before the scenario finished; ${this.missing()}`);
  }

  /** Arms the scenario timeout. */
  armTimeout(ms) {
    this.timer = setTimeout(() => this.fail(`timeout after ${this.opts.timeoutS} s; ${this.missing()}`), ms);
  }

  connectionState(state) {
    // node-webrtc reads the state when it dispatches a queued event: repeats happen.
    if (state === this.lastState) return;
    this.lastState = state;
    this.log(`connection state ${state}`);
    this.send({ type: "state", connection: state });
    if (state === "failed") this.fail("connection failed");
  }

  /** Registers one of this side's own channels. */
  ownChannel(label, ordered) {
    this.own.set(label, { ordered, pending: [], sent: false, open: false });
  }

  /**
   * Called when an own channel is open. `sendFn(data)` sends one message.
   * `extraInfo` is merged into the info message (e.g. dtls), sent once before the first send.
   */
  async ownOpen(label, sendFn, extraInfo) {
    const ch = this.own.get(label);
    if (!ch || ch.sent) return;
    ch.open = true;
    ch.sent = true;
    // Every message comes back as an echo, so it must fit both directions: the remote's limit
    // on what we send, and our own advertised limit on what the remote sends back.
    const remoteMax = this.remoteMax();
    const localMax = this.localMax();
    const max = Math.min(remoteMax, localMax);
    if (!this.infoSent) {
      this.infoSent = true;
      for (const n of SIZES) if (n > max) this.skipped.push(n);
      if (this.skipped.length) {
        const which = remoteMax <= localMax ? "the remote's" : "our own";
        this.skipNotes.push(`skipped sizes ${this.skipped.join(",")} above ${which} max-message-size ${max} (remote ${fmtMax(remoteMax)}, local ${fmtMax(localMax)})`);
      }
      let extra = {};
      try {
        extra = (await extraInfo?.()) ?? {};
      } catch (e) {
        this.log(`info: ${e}`);
      }
      const info = { type: "info", maxMessageSize: wireMax(remoteMax), localMaxMessageSize: wireMax(localMax), ...extra };
      if (this.skipped.length) info.skipped = this.skipped;
      this.send(info);
    }
    this.log(`own channel ${label} open, sending`);
    const msgs = SIZES.filter((n) => n <= max).map((n) => this.binary(n));
    msgs.push(`hello from ${this.name}`);
    for (const data of msgs) {
      ch.pending.push(toMsg(data));
      try {
        sendFn(data);
      } catch (e) {
        ch.pending.pop();
        this.error(`${label}: sending ${describe(toMsg(data))} threw ${e}`);
      }
    }
    this.check();
  }

  remoteMax() {
    return this.remoteSdp ? sdpMaxMessageSize(this.remoteSdp) : 65536;
  }

  localMax() {
    return this.localSdp ? sdpMaxMessageSize(this.localSdp) : 65536;
  }

  /** A message arrived on a channel the remote opened: echo it unchanged. */
  remoteMessage(label, data, sendFn) {
    const m = toMsg(data);
    if (this.debug) this.log(`echoing on ${label}: ${describe(m)}`);
    const localMax = this.localMax();
    if (m.bytes.length > localMax) {
      this.error(`${label}: the remote sent ${describe(m)}, above our advertised max-message-size ${localMax}`);
      return;
    }
    try {
      sendFn(data);
      this.echoed++;
    } catch (e) {
      this.error(`echo of ${describe(m)} on ${label} threw ${e}`);
    }
  }

  /** An echo arrived on an own channel. */
  ownMessage(label, data) {
    const ch = this.own.get(label);
    if (!ch) return;
    const m = toMsg(data);
    if (this.debug) this.log(`echo on ${label}: ${describe(m)}`);
    const idx = ch.pending.findIndex((p) => p.text === m.text && sameBytes(p.bytes, m.bytes));
    if (idx < 0) {
      this.error(`${label}: unexpected echo ${describe(m)} (pending: ${ch.pending.map(describe).join(", ") || "none"})`);
      return;
    }
    if (ch.ordered && idx !== 0) {
      this.error(`${label}: echo ${describe(m)} arrived before ${describe(ch.pending[0])} on an ordered channel`);
    }
    ch.pending.splice(idx, 1);
    this.check();
  }

  ownClosed(label) {
    const ch = this.own.get(label);
    if (ch && !this.finished && (ch.pending.length || !ch.sent)) this.error(`${label}: closed before all echoes came back`);
  }

  error(text) {
    this.log(`ERROR ${text}`);
    this.errors.push(text);
    this.fail(this.errors.join("; "));
  }

  missing() {
    const parts = [];
    if (this.own.size === 0) parts.push("no own channels created");
    for (const [label, ch] of this.own) {
      if (!ch.open) parts.push(`${label} never opened`);
      else if (ch.pending.length) parts.push(`${label} still waiting for echoes of ${ch.pending.map(describe).join(", ")}`);
    }
    return parts.length ? parts.join("; ") : "nothing missing";
  }

  check() {
    if (this.finished || this.errors.length) return;
    if (this.own.size === 0) return;
    for (const ch of this.own.values()) if (!ch.sent || ch.pending.length) return;
    this.finished = true;
    clearTimeout(this.timer);
    const sizes = SIZES.filter((n) => !this.skipped.includes(n));
    const detail = [`all echoes matched on ${[...this.own.keys()].join(", ")}: binary sizes ${sizes.join(",")} and one text message each; echoed ${this.echoed} messages for the remote`, ...this.skipNotes].join("; ");
    this.log(`result ok: ${detail}`);
    this.send({ type: "result", ok: true, detail });
    // Keep echoing for the other side for a moment, then leave.
    setTimeout(() => this.exit(0), this.graceMs);
  }

  fail(detail) {
    if (this.finished) return;
    this.finished = true;
    this.errors.push(detail);
    clearTimeout(this.timer);
    this.log(`result FAILED: ${detail}`);
    this.send({ type: "result", ok: false, detail });
    this.exit(1);
  }

  async exit(code) {
    if (this.exiting) return;
    this.exiting = true;
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      this.io.terminate(code);
    };
    const hard = setTimeout(end, 2000);
    hard.unref?.();
    try {
      await this.closePc();
    } catch (e) {
      this.log(`close: ${e}`);
    }
    clearTimeout(hard);
    end();
  }
}
