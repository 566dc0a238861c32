// The Node side of the JavaScript peers (wrtc, werift; the Chromium peer's launcher uses
// parseArgs): argument parsing and the stdin/stdout line I/O around lib/scenario.mjs, which
// holds the protocol and `datachannel` scenario logic shared with the Chromium page.
// interop/aiortc/peer.py mirrors the two files; keep them in step. The protocol itself is
// described in interop/README.md.

import { createInterface } from "node:readline";
import { Scenario, SIZES, payload as payloadBytes, sdpMaxMessageSize, toMsg } from "./scenario.mjs";

export { SIZES, sdpMaxMessageSize, toMsg };

/** Default for --timeout (seconds) and grace after a successful result (milliseconds). */
const DEFAULT_TIMEOUT_S = 30;
export const GRACE_MS = Number(process.env.ZVON_PEER_GRACE_MS || 1000);
/** ZVON_PEER_DEBUG=1 logs every message to stderr. */
export const DEBUG = !!process.env.ZVON_PEER_DEBUG;

/** Byte i of an n-byte test message is (i * 7 + n) & 0xff; as a Buffer. */
export function payload(n) {
  const b = payloadBytes(n);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * `--role`, `--scenario`, `--timeout`, plus the boolean `flags` a peer accepts on top (e.g.
 * `["--dtls12"]`, set as `opts.dtls12`).
 */
export function parseArgs(argv, name, flags = []) {
  const opts = { role: null, scenario: "datachannel", timeoutS: DEFAULT_TIMEOUT_S };
  for (const f of flags) opts[f.slice(2)] = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(name, flags, `${a} needs a value`);
      return argv[++i];
    };
    if (a === "--role") opts.role = val();
    else if (a === "--scenario") opts.scenario = val();
    else if (a === "--timeout") opts.timeoutS = Number(val());
    else if (flags.includes(a)) opts[a.slice(2)] = true;
    else usage(name, flags, `unknown argument ${a}`);
  }
  if (opts.role !== "offerer" && opts.role !== "answerer") usage(name, flags, "--role offerer|answerer is required");
  if (opts.scenario !== "datachannel") usage(name, flags, `unknown scenario ${opts.scenario}`);
  if (!(opts.timeoutS > 0)) usage(name, flags, "--timeout must be a positive number of seconds");
  return opts;
}

function usage(name, flags, why) {
  const extra = flags.map((f) => ` [${f}]`).join("");
  process.stderr.write(`${name}: ${why}\nusage: peer.mjs --role offerer|answerer [--scenario datachannel] [--timeout SECONDS]${extra}\n`);
  process.exit(2);
}

/** The scenario with stdin/stdout as its line I/O and process.exit as its end. */
export class Harness extends Scenario {
  /**
   * @param {object} o
   * @param {string} o.name   wrtc | werift
   * @param {object} o.opts   from parseArgs
   * @param {(msg: object) => Promise<void>} o.onSignal  offer/answer/candidate from the test
   * @param {() => Promise<void>} o.close  tears the peer connection down
   */
  constructor({ name, opts, onSignal, close }) {
    super({
      name,
      opts,
      onSignal,
      close,
      graceMs: GRACE_MS,
      debug: DEBUG,
      io: {
        write: (line) => process.stdout.write(line + "\n"),
        log: (text) => process.stderr.write(text + "\n"),
        terminate: (code) => process.exit(code),
      },
    });
  }

  binary(n) {
    return payload(n);
  }

  /** Starts reading stdin and arms the scenario timeout. */
  run() {
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    rl.on("line", (line) => this.handleLine(line));
    rl.on("close", () => this.inputClosed());
    this.armTimeout(this.opts.timeoutS * 1000);
    for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => this.exit(1));
  }
}
