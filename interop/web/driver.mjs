#!/usr/bin/env node
// Drives zvon's web page (crates/zvon-server/web/) in headless Chromium against a running
// `zvon serve`: two pages join one room, chat both ways, add a call and a screen share to the
// same RTCPeerConnection by renegotiation, resolve a glare by perfect negotiation, meet a third
// page that rejects media like a data-only zvon peer, and leave. See interop/web/README.md.
//
//   node interop/web/driver.mjs --url http://127.0.0.1:PORT/ [--token T] [--timeout SECONDS] [--headed]
//
// --token: the server wants this token; the pages take it from their URL (?room=R&token=T), and
// one more page with a wrong token must be refused (`unauthorized`) and join nothing.
// --native-peer: with media on, print {"type":"native-peer-please","room":R} on stdout and wait
// for {"id":ID} on stdin: a data-only native peer (zvon, as `zvon echo`) that joined R, opens a
// channel to every page, rejects their media sections and echoes every text message.
// --server-shutdown: at the end, print {"type":"shutdown-please"} on stdout and wait for a line
// on stdin, meaning the server was told to shut down; then both pages must show its `bye` and
// still chat over their data channels, which do not need the server.
//
// Progress goes to stderr; stdout gets one JSON line {"ok":..., "timings":{...}, ...} at the
// end. Exit 0 when every check passed, 1 otherwise (2 for bad arguments).

import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const T0 = Date.now();
const args = process.argv.slice(2);
const opt = { url: null, timeoutS: 60, headed: false, token: null, shutdown: false, native: false };
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--url") opt.url = args[++i];
  else if (args[i] === "--timeout") opt.timeoutS = Number(args[++i]);
  else if (args[i] === "--headed") opt.headed = true;
  else if (args[i] === "--token") opt.token = args[++i];
  else if (args[i] === "--server-shutdown") opt.shutdown = true;
  else if (args[i] === "--native-peer") opt.native = true;
  else {
    process.stderr.write(`web driver: unknown argument ${args[i]}\nusage: driver.mjs --url URL [--token T] [--native-peer] [--server-shutdown] [--timeout S] [--headed]\n`);
    process.exit(2);
  }
}
if (!opt.url || !(opt.timeoutS > 0)) {
  process.stderr.write("usage: driver.mjs --url URL [--token T] [--native-peer] [--server-shutdown] [--timeout S] [--headed]\n");
  process.exit(2);
}

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");
const EXECUTABLE = process.env.ZVON_CHROMIUM || "/usr/bin/chromium";

// The fake devices give getUserMedia a beeping microphone and, headless, getDisplayMedia a
// 1280x720 "screen:-3:0" test pattern without any picker (both flags are needed; checked with
// Chromium 156). No --disable-features: host candidates stay mDNS names as in a plain browser
// until the page holds the microphone permission.
const ARGS = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
];

const timings = {};
const checks = [];
let browser = null;

function log(text) {
  process.stderr.write(`[web +${((Date.now() - T0) / 1000).toFixed(3)}s] ${text}\n`);
}

function check(cond, what) {
  checks.push({ ok: !!cond, what });
  if (!cond) throw new Error(`check failed: ${what}`);
  log(`ok: ${what}`);
}

const watchdog = setTimeout(() => finish(false, `timeout after ${opt.timeoutS} s`), opt.timeoutS * 1000);

let finishing = false;
async function finish(ok, detail, pages = []) {
  if (finishing) return;
  finishing = true;
  clearTimeout(watchdog);
  if (!ok || process.env.ZVON_WEB_DEBUG) {
    for (const p of pages) {
      try {
        log(`${p.label} state: ${JSON.stringify(await p.page.evaluate(() => window.zvon.state()))}`);
        log(`${p.label} events: ${JSON.stringify(await p.page.evaluate((n) => window.zvon.events.slice(-n), ok ? 1000 : 40))}`);
      } catch {}
    }
  }
  const hard = setTimeout(() => process.exit(ok ? 0 : 1), 5000);
  try {
    await browser?.close();
  } catch {}
  clearTimeout(hard);
  process.stdout.write(JSON.stringify({ ok, detail, timings, checks: checks.length, seconds: (Date.now() - T0) / 1000 }) + "\n");
  log(ok ? "PASS" : `FAIL: ${detail}`);
  process.exit(ok ? 0 : 1);
}

/** One page of the room: a browser context of its own, like a separate user. */
async function openPage(label, room, token = opt.token) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.on("pageerror", (e) => log(`${label} page error: ${e}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") log(`${label} console.${m.type()}: ${m.text()}`);
  });
  page.on("crash", () => finish(false, `${label}: the page crashed`));
  const q = new URLSearchParams({ room });
  if (token !== null) q.set("token", token);
  await page.goto(new URL(`?${q}`, opt.url).href);
  return { label, page, ctx };
}

async function joinAs(p, name) {
  await p.page.fill("#name", name);
  await p.page.click("#join-btn");
  await waitFor(p, () => window.zvon.state().joined, null, `${p.label} joined`);
  p.id = await p.page.evaluate(() => window.zvon.state().id);
}

async function waitFor(p, fn, arg, what, timeoutMs = 15000) {
  try {
    await p.page.waitForFunction(fn, arg, { polling: 20, timeout: timeoutMs });
  } catch (e) {
    throw new Error(`${what}: not within ${timeoutMs} ms (${String(e.message).split("\n")[0]})`);
  }
}

/** Prints `request` on stdout and resolves with the next line on stdin (the test's answer). */
let stdinLines = null;
function ask(request) {
  if (!stdinLines) {
    stdinLines = { queue: [], waiters: [], closed: false };
    const rl = createInterface({ input: process.stdin });
    rl.on("line", (l) => {
      const w = stdinLines.waiters.shift();
      if (w) w.resolve(l);
      else stdinLines.queue.push(l);
    });
    rl.on("close", () => {
      stdinLines.closed = true;
      for (const w of stdinLines.waiters.splice(0)) w.reject(new Error(`stdin closed before an answer to ${request.type}`));
    });
  }
  process.stdout.write(JSON.stringify(request) + "\n");
  if (stdinLines.queue.length) return Promise.resolve(stdinLines.queue.shift());
  if (stdinLines.closed) return Promise.reject(new Error(`stdin closed before an answer to ${request.type}`));
  return new Promise((resolve, reject) => stdinLines.waiters.push({ resolve, reject }));
}

const peerOf = (p, otherId) => p.page.evaluate((id) => window.zvon.state().peers.find((x) => x.id === id), otherId);
const stats = (p, otherId) => p.page.evaluate((id) => window.zvon.stats(id), otherId);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Types `text` into the chat box and presses Send; waits until every peer in `to` has it. */
async function chat(from, text, to) {
  await from.page.fill("#chat-input", text);
  await from.page.click("#chat-send");
  for (const p of to) {
    await waitFor(p, ([t, id]) => window.zvon.messages.some((m) => m.text === t && m.from === id), [text, from.id], `${p.label} got "${text}" from ${from.label}`);
  }
  check(true, `chat "${text}": ${from.label} -> ${to.map((p) => p.label).join(", ")}`);
}

/** Samples a counter from getStats until it grew past its first value (10 s at most). */
async function grows(p, otherId, pick, what) {
  const deadline = Date.now() + 10000;
  const a = pick(await stats(p, otherId));
  for (;;) {
    await sleep(250);
    const b = pick(await stats(p, otherId));
    if (b > a) {
      check(true, `${what} grows (${a} -> ${b})`);
      return b;
    }
    if (Date.now() > deadline) check(false, `${what} grows (stuck at ${a} -> ${b} for 10 s)`);
  }
}

/** The page still uses the very RTCPeerConnection it stashed first, and only ever made one per peer. */
async function samePc(p, otherId, expectedPcs) {
  const r = await p.page.evaluate(
    (id) => ({ same: window.zvon.pc(id) === window.__firstPc[id], count: window.zvon.state().pcCount }),
    otherId,
  );
  check(r.same && r.count === expectedPcs, `${p.label}: the connection to ${otherId} is the first RTCPeerConnection (${r.count} created)`);
}

async function stashPc(p, otherId) {
  await p.page.evaluate((id) => {
    window.__firstPc ??= {};
    window.__firstPc[id] = window.zvon.pc(id);
  }, otherId);
}

/** Both ends of a pair are back to stable with no exchange pending. */
async function settled(p, otherId, minNegotiations = 0) {
  await waitFor(
    p,
    ([id, n]) => {
      const x = window.zvon.state().peers.find((y) => y.id === id);
      return x && x.signalingState === "stable" && x.negotiations >= n;
    },
    [otherId, minNegotiations],
    `${p.label}: negotiation with ${otherId} settled`,
  );
}

async function main() {
  const room = `web-${process.pid}`;
  log(`Chromium ${EXECUTABLE}, page ${opt.url}, room ${room}`);
  browser = await chromium.launch({ executablePath: EXECUTABLE, headless: !opt.headed, args: ARGS });
  log(`browser ${browser.version()} up`);
  const A = await openPage("A", room);
  const B = await openPage("B", room);
  const pages = [A, B];
  try {
    await run(A, B, room, pages);
    await finish(true, "all checks passed", pages);
  } catch (e) {
    await finish(false, e && e.message ? e.message : String(e), pages);
  }
}

async function run(A, B, room, pages) {
  // --- join, chat ------------------------------------------------------------------------
  await joinAs(A, "alice");
  await joinAs(B, "bob"); // the newcomer: it offers, and is polite
  await waitFor(A, (id) => window.zvon.state().peers.some((p) => p.id === id), B.id, "A sees B join");
  check(true, `A (${A.id}) and B (${B.id}) in room ${room}`);
  await waitFor(B, (id) => window.zvon.channel(id)?.readyState === "open", A.id, "B's chat channel to A open");
  await chat(B, "hello from bob", [A]);
  const tb = await B.page.evaluate(() => window.zvon.state());
  const msgAt = await A.page.evaluate((id) => window.zvon.messages.find((m) => m.from === id).at, B.id);
  const bPeer = tb.peers[0];
  timings.joinToWelcomeMs = tb.timing.welcome - tb.timing.joinSent;
  timings.joinToConnectedMs = bPeer.timing.connected - tb.timing.joinSent;
  timings.joinToChannelOpenMs = bPeer.timing.dcOpen - tb.timing.joinSent;
  timings.joinToFirstChatMs = msgAt - tb.timing.joinSent;
  // From the click, with the WebSocket handshake.
  timings.clickToFirstChatMs = msgAt - tb.timing.joinClicked;
  log(`newcomer B: join sent -> welcome ${timings.joinToWelcomeMs} ms, connected ${timings.joinToConnectedMs} ms, channel open ${timings.joinToChannelOpenMs} ms, first chat at A ${timings.joinToFirstChatMs} ms (${timings.clickToFirstChatMs} ms from the Join click)`);
  await chat(A, "hello from alice", [B]);
  const aPeer = await peerOf(A, B.id);
  log(`candidates at the first chat: B ${JSON.stringify(bPeer.candidates)}, A ${JSON.stringify(aPeer.candidates)}`);
  check(bPeer.polite && !aPeer.polite, "B (newcomer) is polite, A is impolite");
  await stashPc(A, B.id);
  await stashPc(B, A.id);
  const s0 = await stats(A, B.id);
  check(s0.dtls && s0.dtlsCipher, `DTLS from getStats: ${s0.dtls} ${s0.dtlsCipher}, pair ${s0.pair}, rtt ${s0.rtt}`);

  // --- call: A adds its microphone, then B --------------------------------------------------
  let t = Date.now();
  await A.page.click("#call-start");
  await waitFor(B, (id) => window.zvon.state().peers.find((p) => p.id === id)?.remote.audio?.muted === false, A.id, "B receives A's audio track");
  await settled(A, B.id, 1);
  await grows(B, A.id, (s) => s.audio.packetsReceived, "B: inbound-rtp audio packetsReceived from A");
  timings.callAtoBMs = Date.now() - t;
  t = Date.now();
  await B.page.click("#call-start");
  await waitFor(A, (id) => window.zvon.state().peers.find((p) => p.id === id)?.remote.audio?.muted === false, B.id, "A receives B's audio track");
  await settled(B, A.id, 1);
  await grows(A, B.id, (s) => s.audio.packetsReceived, "A: inbound-rtp audio packetsReceived from B");
  timings.callBtoAMs = Date.now() - t;
  const trA = (await peerOf(A, B.id)).transceivers;
  check(trA.length === 1 && trA[0].kind === "audio" && trA[0].currentDirection === "sendrecv", `one audio m-line, sendrecv both ways (${JSON.stringify(trA)})`);
  await samePc(A, B.id, 1);
  await samePc(B, A.id, 1);
  await chat(A, "call on, still chatting", [B]);
  await chat(B, "me too", [A]);

  // --- screen share: A -------------------------------------------------------------------
  t = Date.now();
  await A.page.click("#screen-start");
  await waitFor(B, (id) => window.zvon.state().peers.find((p) => p.id === id)?.remote.video?.muted === false, A.id, "B receives A's screen track");
  await grows(B, A.id, (s) => s.video.framesDecoded, "B: inbound-rtp video framesDecoded from A's screen");
  timings.screenAtoBMs = Date.now() - t;
  const sv = await stats(B, A.id);
  check(sv.video.frameWidth > 0, `B decodes A's screen at width ${sv.video.frameWidth}`);
  await samePc(A, B.id, 1);
  await samePc(B, A.id, 1);
  await chat(B, "I see your screen", [A]);
  if (process.env.ZVON_WEB_SCREENSHOTS) {
    for (const p of [A, B]) await p.page.screenshot({ path: `${process.env.ZVON_WEB_SCREENSHOTS}/page-${p.label}.png`, fullPage: true });
  }

  // --- glare: both renegotiate at once ----------------------------------------------------
  // Each page holds its outgoing signals, so both offers are made before either is seen: A
  // stops its call while B starts sharing its screen. Released together, the offers cross.
  t = Date.now();
  const collisionsBefore = { A: (await peerOf(A, B.id)).collisions, B: (await peerOf(B, A.id)).collisions };
  await Promise.all([A.page.evaluate(() => window.zvon.test.holdSignals()), B.page.evaluate(() => window.zvon.test.holdSignals())]);
  await Promise.all([A.page.click("#call-stop"), B.page.click("#screen-start")]);
  await waitFor(A, (id) => window.zvon.pc(id).signalingState === "have-local-offer", B.id, "A has its own offer pending");
  await waitFor(B, (id) => window.zvon.pc(id).signalingState === "have-local-offer", A.id, "B has its own offer pending");
  const released = await Promise.all([A.page.evaluate(() => window.zvon.test.releaseSignals()), B.page.evaluate(() => window.zvon.test.releaseSignals())]);
  log(`glare: released ${released[0]} + ${released[1]} held signals`);
  await waitFor(A, (id) => window.zvon.state().peers.find((p) => p.id === id)?.remote.video?.muted === false, B.id, "A receives B's screen after the glare");
  await waitFor(B, (id) => window.zvon.state().peers.find((p) => p.id === id)?.remote.audio?.muted === true, A.id, "B sees A's audio stopped after the glare");
  await settled(A, B.id);
  await settled(B, A.id);
  const ca = (await peerOf(A, B.id)).collisions;
  const cb = (await peerOf(B, A.id)).collisions;
  check(ca.ignored > collisionsBefore.A.ignored && cb.rolledBack > collisionsBefore.B.rolledBack, `glare resolved: impolite A ignored ${ca.ignored - collisionsBefore.A.ignored} offer(s), polite B rolled back ${cb.rolledBack - collisionsBefore.B.rolledBack}`);
  await grows(A, B.id, (s) => s.video.framesDecoded, "A: inbound-rtp video framesDecoded from B's screen");
  timings.glareResolvedMs = Date.now() - t;
  const pa = await peerOf(A, B.id);
  check(!pa.sending.mic && pa.sending.screen, "A sends its screen and no longer its microphone");
  await samePc(A, B.id, 1);
  await samePc(B, A.id, 1);
  await chat(A, "after the glare", [B]);
  await chat(B, "still here", [A]);

  // --- a peer that answers data channels only (like `zvon echo`): rejects audio/video -----
  const C = await openPage("C", room);
  pages.push(C);
  await C.page.evaluate(() => (window.zvon.test.rejectMedia = true));
  t = Date.now();
  await joinAs(C, "carol");
  for (const p of [A, B]) {
    await waitFor(p, (id) => window.zvon.channel(id)?.readyState === "open", C.id, `${p.label}'s chat channel with C open`);
    // A and B add their media to C after the first exchange; C rejects every media section.
    await waitFor(
      p,
      (id) => {
        const x = window.zvon.state().peers.find((y) => y.id === id);
        return x && x.rejected.includes("video") && x.signalingState === "stable";
      },
      C.id,
      `${p.label} learns that C rejects video`,
    );
  }
  timings.thirdPeerRejectingMediaMs = Date.now() - t;
  const bc = await peerOf(B, C.id);
  check(bc.rejected.includes("audio") && bc.rejected.includes("video"), `B: C rejected ${bc.rejected.join(" and ")}, chat only`);
  await chat(C, "data only here", [A, B]);
  await chat(A, "hi carol", [B, C]);
  await grows(A, B.id, (s) => s.video.framesDecoded, "A: B's screen still flows beside C");
  await samePc(A, B.id, 2);
  await samePc(B, A.id, 2);

  // --- a real data-only zvon peer joins (the test runs it, as `zvon echo` would be) ---------
  if (opt.native) {
    t = Date.now();
    const reply = JSON.parse(await ask({ type: "native-peer-please", room }));
    if (!reply.id) throw new Error(`the test started no native peer: ${reply.error ?? "no id"}`);
    const N = { id: reply.id };
    for (const p of [A, B, C]) {
      await waitFor(p, (id) => window.zvon.channel(id)?.readyState === "open", N.id, `${p.label}'s chat channel with the zvon peer open`);
    }
    timings.nativePeerChannelsMs = Date.now() - t;
    // A sends its screen, B its microphone and screen: both offer them to the zvon peer after
    // the first exchange, and zvon answers those sections with port 0.
    for (const [p, kinds] of [[A, ["video"]], [B, ["audio", "video"]]]) {
      await waitFor(
        p,
        ([id, k]) => {
          const x = window.zvon.state().peers.find((y) => y.id === id);
          return x && k.every((kind) => x.rejected.includes(kind)) && x.signalingState === "stable";
        },
        [N.id, kinds],
        `${p.label} learns that the zvon peer rejects ${kinds.join(" and ")}`,
      );
      const x = await peerOf(p, N.id);
      check(x.connectionState === "connected" && x.channelState === "open", `${p.label}: zvon rejected ${x.rejected.join(" and ")} (port 0); connection ${x.connectionState}, chat ${x.channelState}`);
    }
    timings.nativePeerRejectedMs = Date.now() - t;
    for (const p of [A, B, C]) {
      const text = `echo this, zvon (from ${p.label})`;
      await chat(p, text, []);
      await waitFor(p, ([id, tx]) => window.zvon.messages.some((m) => m.from === id && m.text === tx), [N.id, text], `${p.label} gets its message echoed by the zvon peer`);
      check(true, `${p.label}: the zvon peer echoed "${text}"`);
    }
    const sn = await stats(B, N.id);
    check(sn.dtls, `B <-> zvon: ${sn.dtls} ${sn.dtlsCipher}, pair ${sn.pair}`);
    timings.nativeDtls = `${sn.dtls} ${sn.dtlsCipher}`;
    await grows(A, B.id, (s) => s.video.framesDecoded, "A: B's screen still flows beside the zvon peer");
    await samePc(A, B.id, 3);
    await samePc(B, A.id, 3);
  }

  // --- stop everything, leave -------------------------------------------------------------
  await Promise.all([A.page.click("#screen-stop"), B.page.click("#call-stop")]);
  await B.page.click("#screen-stop");
  await waitFor(B, (id) => window.zvon.state().peers.find((p) => p.id === id)?.remote.video?.muted === true, A.id, "B sees A's screen stopped");
  await waitFor(A, (id) => window.zvon.state().peers.find((p) => p.id === id)?.remote.video?.muted === true, B.id, "A sees B's screen stopped");
  await settled(A, B.id);
  await settled(B, A.id);
  await chat(B, "bye", [A, C]);
  await C.page.click("#leave-btn");
  await waitFor(A, (id) => !window.zvon.state().peers.some((p) => p.id === id), C.id, "A sees C leave");
  await waitFor(B, (id) => !window.zvon.state().peers.some((p) => p.id === id), C.id, "B sees C leave");
  if (opt.token !== null) {
    const D = await openPage("D", room, `${opt.token}-wrong`);
    await D.page.fill("#name", "mallory");
    await D.page.click("#join-btn");
    await waitFor(D, () => window.zvon.errors.some((e) => e.code === "unauthorized"), null, "D with a wrong token is refused");
    const st = await D.page.evaluate(() => ({ joined: window.zvon.state().joined, status: document.getElementById("status").textContent }));
    check(!st.joined, `a wrong token is refused and shown: "${st.status}"`);
    await sleep(200);
    const seen = await A.page.evaluate(() => window.zvon.events.filter((e) => e.what === "peer-joined").length);
    const expected = opt.native ? 3 : 2;
    check(seen === expected, `A saw only B, C${opt.native ? " and the native peer" : ""} join (${seen} peer-joined)`);
    await D.ctx.close();
  }
  if (opt.shutdown) {
    await ask({ type: "shutdown-please" });
    for (const p of [A, B]) {
      await waitFor(p, () => window.zvon.events.some((e) => e.what === "bye" && e.reason === "shutdown"), null, `${p.label} gets bye (shutdown)`);
      await waitFor(p, () => window.zvon.events.some((e) => e.what === "ws-closed"), null, `${p.label}'s WebSocket closes`);
    }
    check(true, "both pages got the server's bye and their sockets closed");
    await chat(A, "the server is gone", [B]);
    await chat(B, "we are still here", [A]);
  }
  for (const p of [A, B]) {
    const errs = await p.page.evaluate(() => window.zvon.errors);
    check(errs.length === 0, `${p.label}: no errors on the page${errs.length ? `: ${JSON.stringify(errs)}` : ""}`);
  }
  const sf = await stats(A, B.id);
  timings.final = { dtls: sf.dtls, dtlsCipher: sf.dtlsCipher, srtpCipher: sf.srtpCipher, pair: sf.pair, rttMs: sf.rtt === null ? null : sf.rtt * 1000 };
}

main().catch((e) => finish(false, `driver: ${e && e.stack ? e.stack : e}`));
