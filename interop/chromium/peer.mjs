#!/usr/bin/env node
// A WebRTC peer in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// speaking zvon's interop line protocol on stdin/stdout; see interop/README.md.
//
// The RTCPeerConnection and the scenario run in the page (chromium/page.mjs, which imports
// lib/scenario.mjs like the Node peers do). This program only launches the browser, relays
// protocol lines between stdin/stdout and the page, and closes the browser when the page is
// done. Nothing leaves the machine: the page's origin is served by page.route, every other
// request is aborted, and ICE uses host candidates only.

import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEBUG, GRACE_MS, parseArgs } from "../lib/common.mjs";

const T0 = Date.now();
const NAME = "chromium";
const opts = parseArgs(process.argv.slice(2), NAME, ["--dtls12"]);

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const EXECUTABLE = process.env.ZVON_CHROMIUM || "/usr/bin/chromium";
const NO_LOOPBACK = !!process.env.ZVON_CHROMIUM_NO_LOOPBACK;
// A loopback origin is a secure context. It is never contacted: page.route answers for it.
const ORIGIN = "http://127.0.0.1";
const FILES = {
  "/chromium/": ["text/html", () => "<!doctype html><title>zvon interop: chromium</title>"],
  "/chromium/page.mjs": ["text/javascript", () => readFileSync(join(ROOT, "chromium", "page.mjs"))],
  "/lib/scenario.mjs": ["text/javascript", () => readFileSync(join(ROOT, "lib", "scenario.mjs"))],
};

// Chromium honours only the last --disable-features switch, and playwright passes its own
// first: ours must repeat playwright-core 1.65.1's list (chromiumSwitches.ts), which keeps
// the browser off the network at start-up, or those features come back on.
const PLAYWRIGHT_DISABLED_FEATURES = [
  "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
  "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding",
  "ThirdPartyStoragePartitioning", "AvoidCorsURLLoaderRestartOnRedirect", "TcpPortRandomizationWin",
  "OptimizationHints", "NetworkTimeServiceQuerying", "AimEnabled", "PreconnectToSearch",
];
const ARGS = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Host candidates carry raw IP addresses, not <uuid>.local mDNS names.
  `--disable-features=${[...PLAYWRIGHT_DISABLED_FEATURES, "WebRtcHideLocalIpsWithMdns"].join(",")}`,
  // Chromium leaves 127.0.0.1 and ::1 out of its candidates unless this is given AND the page
  // may enumerate all interfaces, which takes a media permission (granted below); without the
  // permission it offers only the default route's address (192.0.2.2, fd00::2 here).
  // ZVON_CHROMIUM_NO_LOOPBACK=1 leaves it out (and the permission), as a browser is by default.
  ...(NO_LOOPBACK ? [] : ["--allow-loopback-in-peer-connection"]),
];
if (opts.dtls12) {
  // Chromium up to ~M14x capped DTLS at 1.2 with this field trial. Chromium 156 no longer
  // has it (the name is not in the binary) and offers DTLS 1.3 regardless: the page then
  // fails the run if 1.3 was negotiated. Passed anyway, for older Chromiums.
  ARGS.push("--force-fieldtrials=WebRTC-ForceDtls13/Disabled/");
}

function log(text) {
  const t = ((Date.now() - T0) / 1000).toFixed(3);
  process.stderr.write(`[${NAME} ${opts.role} +${t}s] ${text}\n`);
}

// --- stdout: only the page's protocol lines, nothing after the result ------------------------
let resultSent = false;
function out(line) {
  if (resultSent) return;
  let type;
  try {
    type = JSON.parse(line).type;
  } catch {
    log(`the page wrote a line that is not JSON, dropped: ${String(line).slice(0, 200)}`);
    return;
  }
  if (type === "result") resultSent = true;
  process.stdout.write(line + "\n");
}

// --- shutdown ---------------------------------------------------------------------------------
// The profile directory is named after our pid: one left behind by a peer that was killed
// (SIGKILL leaves no chance to clean up; Chromium itself exits when its pipe closes) is
// removed by the next run.
for (const d of readdirSync(tmpdir())) {
  const m = /^zvon-chromium-(\d+)-/.exec(d);
  if (m && !alive(Number(m[1]))) rmSync(join(tmpdir(), d), { recursive: true, force: true });
}
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}
const userDataDir = mkdtempSync(join(tmpdir(), `zvon-chromium-${process.pid}-`));
let ctx = null;
let launching = null;
let shuttingDown = false;

function finish(code) {
  try {
    rmSync(userDataDir, { recursive: true, force: true });
  } catch {}
  // playwright's exit handler SIGKILLs the browser's process group if it is still there.
  process.exit(code);
}

async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  clearTimeout(watchdog);
  const hard = setTimeout(() => {
    log("the browser did not close within 5 s: killing it");
    finish(code);
  }, 5000);
  try {
    await launching;
  } catch {}
  try {
    await ctx?.close();
  } catch (e) {
    log(`closing the browser: ${e}`);
  }
  clearTimeout(hard);
  finish(code);
}

/** A failure the page could not report (browser crash, launch failure, hang). */
function hostFail(detail) {
  if (shuttingDown) return;
  log(`result FAILED: ${detail}`);
  out(JSON.stringify({ type: "result", ok: false, detail }));
  shutdown(1);
}

// The page keeps its own timeout; this one only catches a browser that stopped answering.
const watchdog = setTimeout(() => hostFail(`timeout after ${opts.timeoutS} s; the page did not report`), opts.timeoutS * 1000 + 5000);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => shutdown(1));

// --- stdin -> page, in order, once the page is up -----------------------------------------
let page = null;
let pageReady;
let inChain = new Promise((resolve) => (pageReady = resolve));
function toPage(fn) {
  inChain = inChain.then(() => fn(page)).catch((e) => {
    if (!shuttingDown) log(`relaying to the page: ${e}`);
  });
}
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => toPage((p) => p.evaluate((l) => window.zvonIn(l), line)));
rl.on("close", () => toPage((p) => p.evaluate(() => window.zvonEof())));

// --- the browser ----------------------------------------------------------------------------
async function launch() {
  ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: EXECUTABLE,
    headless: true,
    args: ARGS,
    // Signals are ours: SIGINT/SIGTERM close the browser and exit 1, like the other peers.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const launchedAt = Date.now() - T0;
  ctx.on("close", () => hostFail("the browser closed unexpectedly"));
  // Lets the page enumerate every interface, so the loopback candidates are gathered.
  if (!NO_LOOPBACK) await ctx.grantPermissions(["camera", "microphone"], { origin: ORIGIN });
  await ctx.route("**/*", (route) => {
    const url = new URL(route.request().url());
    const file = url.origin === ORIGIN && FILES[url.pathname];
    if (!file) return route.abort();
    return route.fulfill({ status: 200, contentType: file[0], body: file[1]() });
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on("crash", () => hostFail("the page crashed"));
  page.on("pageerror", (e) => log(`page error: ${e}`));
  page.on("console", (m) => log(`console.${m.type()}: ${m.text()}`));
  await page.exposeFunction("zvonOut", (line) => out(line));
  await page.exposeFunction("zvonLog", (text) => process.stderr.write(text + "\n"));
  await page.exposeFunction("zvonExit", (code) => shutdown(code));
  await page.goto(`${ORIGIN}/chromium/`);
  const cfg = {
    name: NAME,
    role: opts.role,
    timeoutS: opts.timeoutS,
    timeoutMs: opts.timeoutS * 1000 - (Date.now() - T0),
    graceMs: GRACE_MS,
    debug: DEBUG,
    start: T0,
    dtls12: opts.dtls12,
  };
  const version = ctx.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1]));
  log(`browser ${version} up: launched at ${launchedAt} ms, page ready at ${Date.now() - T0} ms`);
  await page.evaluate(async (c) => (await import("/chromium/page.mjs")).start(c), cfg);
  return page;
}

launching = launch();
launching.then((p) => {
  page = p;
  pageReady();
}, (e) => hostFail(`starting Chromium (${EXECUTABLE}): ${e && e.message ? e.message : e}`));
