#!/usr/bin/env node
// Shows node-webrtc's ondatachannel race with libwebrtc on both ends (no zvon involved): two
// @roamhq/wrtc peer connections in this process, the offerer sends N numbered messages on an
// ordered channel as soon as it opens, the answerer records the order in which its JS sees
// them and which of them came before the channel's "open" event. Not part of CI; see
// interop/README.md ("wrtc") for what it shows and how the wrtc peer works around it.
//
//   node interop/wrtc/ondatachannel-race.mjs [runs=30] [messages=300]

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { RTCPeerConnection } = require("@roamhq/wrtc");

const RUNS = Number(process.argv[2] || 30);
const N = Number(process.argv[3] || 300);

function once() {
  return new Promise((resolve, reject) => {
    const a = new RTCPeerConnection({ iceServers: [] });
    const b = new RTCPeerConnection({ iceServers: [] });
    const timer = setTimeout(() => reject(new Error(`timeout, ${got.length}/${N} messages`)), 20000);
    a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate).catch(() => {});
    b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate).catch(() => {});
    const dc = a.createDataChannel("race", { ordered: true });
    dc.onopen = () => {
      for (let i = 0; i < N; i++) dc.send(String(i));
    };
    const got = [];
    let early = 0;
    b.ondatachannel = (ev) => {
      const ch = ev.channel;
      let opened = false;
      ch.onopen = () => {
        opened = true;
      };
      ch.onmessage = (m) => {
        if (!opened) early++;
        got.push(Number(m.data));
        if (got.length < N) return;
        clearTimeout(timer);
        a.close();
        b.close();
        resolve({ got, early });
      };
    };
    (async () => {
      await a.setLocalDescription(await a.createOffer());
      await b.setRemoteDescription(a.localDescription);
      await b.setLocalDescription(await b.createAnswer());
      await a.setRemoteDescription(b.localDescription);
    })().catch(reject);
  });
}

let reordered = 0;
let explained = 0;
for (let r = 1; r <= RUNS; r++) {
  const { got, early } = await once();
  const inOrder = got.every((v, i) => v === i);
  // The race's signature: the first `early` messages (dispatched before "open") are a
  // contiguous run that belongs right after the messages dispatched after "open" up to it.
  const w = got.slice(0, early);
  const rest = got.slice(early);
  const at = early ? rest.indexOf(w[0] - 1) + 1 : 0;
  const repaired = [...rest.slice(0, at), ...w, ...rest.slice(at)];
  const fits = repaired.every((v, i) => v === i);
  if (!inOrder) reordered++;
  if (!inOrder && early && fits) explained++;
  const head = got.slice(0, 6).join(",");
  console.log(`run ${r}: ${inOrder ? "in order" : "OUT OF ORDER"}; ${early} dispatched before "open"; first: ${head}${!inOrder ? `; moving those after message ${at - 1} restores the order: ${fits}` : ""}`);
}
console.log(`out of order in ${reordered} of ${RUNS} runs; in ${explained} of them only messages dispatched before "open" were misplaced`);
process.exit(0);
