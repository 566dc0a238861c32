#!/usr/bin/env node
// Relay self-test of the interop peers (not part of CI): runs two peer programs, forwards every
// stdout line of one to the stdin of the other, and checks that both report ok and exit 0.
//
//   node interop/selftest.mjs                     # every pair of different peers, both directions
//   node interop/selftest.mjs wrtc werift         # one pair: wrtc offers, werift answers
//   node interop/selftest.mjs --all               # also each peer against itself
//   node interop/selftest.mjs chromium:--dtls12 wrtc   # extra arguments for one peer
//   ZVON_SELFTEST_VERBOSE=1 ...                   # show the peers' stderr and the relayed lines
//   ZVON_SELFTEST_VERBOSE=2 ...                   # ... without shortening them (full SDP)
//
// Prints one line per run and "N passed, N failed" at the end; exits non-zero on any failure.

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { homedir } from "node:os";

const HERE = dirname(fileURLToPath(import.meta.url));
const VENV = process.env.ZVON_VENV || join(homedir(), ".cache", "zvon-venv");
const VERBOSE = Number(process.env.ZVON_SELFTEST_VERBOSE || 0);
const RUN_TIMEOUT_MS = 60_000;

const PEERS = {
  wrtc: [process.execPath, [join(HERE, "wrtc", "peer.mjs")]],
  werift: [process.execPath, [join(HERE, "werift", "peer.mjs")]],
  aiortc: [join(VENV, "bin", "python"), [join(HERE, "aiortc", "peer.py")]],
  chromium: [process.execPath, [join(HERE, "chromium", "peer.mjs")]],
};

/** `name` or `name:--flag,--flag` (extra arguments for that peer, e.g. `chromium:--dtls12`). */
function peerSpec(spec) {
  const [base, extra] = spec.split(":");
  return { base, extra: extra ? extra.split(",") : [] };
}

function runPeer(spec, role, tag) {
  const { base: name, extra } = peerSpec(spec);
  const [cmd, args] = PEERS[name];
  const child = spawn(cmd, [...args, "--role", role, "--scenario", "datachannel", ...extra], {
    stdio: ["pipe", "pipe", "pipe"],
    // The relay closes both stdins once both results are in, which ends the grace anyway; a
    // long grace keeps a peer that finished first echoing for a slow one (the default 1 s cut
    // off aiortc and chromium echoes on a loaded machine).
    env: { ...process.env, ZVON_PEER_GRACE_MS: process.env.ZVON_PEER_GRACE_MS || "10000" },
  });
  const p = { name, role, tag, child, lines: [], result: null, info: null, states: [], stderr: [] };
  child.stdin.on("error", () => {}); // the peer may exit while we still forward to it
  createInterface({ input: child.stderr }).on("line", (l) => {
    p.stderr.push(l);
    if (VERBOSE) process.stderr.write(`  ${tag} ! ${l}\n`);
  });
  p.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return p;
}

async function runPair(a, b) {
  const t0 = Date.now();
  const off = runPeer(a, "offerer", `${a}(offerer)`);
  const ans = runPeer(b, "answerer", `${b}(answerer)`);
  const problems = [];
  let connectedAt = null;
  const bothResults = new Promise((resolve) => {
    const wire = (from, to) => {
      createInterface({ input: from.child.stdout }).on("line", (line) => {
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          problems.push(`${from.tag} printed a non-JSON line on stdout: ${line.slice(0, 120)}`);
          return;
        }
        if (VERBOSE) process.stderr.write(`  ${from.tag} > ${VERBOSE < 2 && line.length > 200 ? line.slice(0, 200) + "..." : line}\n`);
        if (msg.type === "result") {
          from.result = msg;
          if (off.result && ans.result) resolve();
          return; // results and infos are for the test, not the peer
        }
        if (msg.type === "info") {
          from.info = msg;
          return;
        }
        if (msg.type === "state") {
          from.states.push(msg.connection);
          if (msg.connection === "connected" && connectedAt === null) connectedAt = Date.now() - t0;
          return;
        }
        if (!to.child.stdin.destroyed) to.child.stdin.write(line + "\n");
      });
    };
    wire(off, ans);
    wire(ans, off);
    // A peer that dies without a result would otherwise leave us waiting for the timeout.
    for (const p of [off, ans]) p.exited.then(() => { if (!p.result) resolve(); });
  });
  const timer = setTimeout(() => {
    problems.push(`relay timeout after ${RUN_TIMEOUT_MS} ms`);
    for (const p of [off, ans]) p.child.kill("SIGKILL");
  }, RUN_TIMEOUT_MS);
  await bothResults;
  const doneAt = Date.now() - t0;
  // Both have spoken (or one died): closing stdin ends the grace period.
  for (const p of [off, ans]) p.child.stdin.end();
  const [eo, ea] = await Promise.all([off.exited, ans.exited]);
  clearTimeout(timer);
  for (const [p, e] of [[off, eo], [ans, ea]]) {
    if (!p.result) problems.push(`${p.tag} gave no result (exit ${e.code ?? e.signal})`);
    else if (!p.result.ok) problems.push(`${p.tag}: ${p.result.detail}`);
    if (e.code !== 0) problems.push(`${p.tag} exited ${e.code ?? e.signal}`);
    if (!p.states.includes("connected")) problems.push(`${p.tag} never reported connected`);
  }
  const ok = problems.length === 0;
  const fmtInfo = (p) => {
    const i = p.info || {};
    const bits = [`mms=${i.maxMessageSize ?? "?"}`, i.dtls ? i.dtls : null, i.skipped ? `skipped=${i.skipped.join(",")}` : null, i.candidatePair ? `pair=${i.candidatePair}` : null];
    return `${p.name}[${bits.filter(Boolean).join(" ")}]`;
  };
  console.log(`${ok ? "PASS" : "FAIL"} ${a}(offerer) -> ${b}(answerer): connected ${connectedAt ?? "-"} ms, done ${doneAt} ms; ${fmtInfo(off)} ${fmtInfo(ans)}`);
  if (!ok) {
    for (const pr of problems) console.log(`     ${pr}`);
    if (!VERBOSE) {
      for (const p of [off, ans]) {
        console.log(`     --- last stderr of ${p.tag}:`);
        for (const l of p.stderr.slice(-15)) console.log(`       ${l}`);
      }
    }
  }
  return ok;
}

const argv = process.argv.slice(2);
const all = argv.includes("--all");
const names = argv.filter((x) => !x.startsWith("--"));
for (const n of names) if (!PEERS[peerSpec(n).base]) throw new Error(`unknown peer ${n}; known: ${Object.keys(PEERS).join(", ")}`);
let pairs = [];
if (names.length === 2) pairs = [[names[0], names[1]]];
else {
  const list = names.length ? names : Object.keys(PEERS);
  for (const x of list) for (const y of list) if (x !== y || all) pairs.push([x, y]);
}
let passed = 0;
let failed = 0;
for (const [a, b] of pairs) {
  if (await runPair(a, b)) passed++;
  else failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
