// Captures session descriptions from a real headless Chromium for the zvon-sdp corpus.
//
//   npm i playwright-core            (in a scratch directory, not in the repository)
//   node capture.js OUT_DIR [TURN_URL]
//
// Needs `chromium` (Debian). With TURN_URL (e.g. turn:127.0.0.1:3478, user test / test123, a
// local coturn) the gathered offers also carry srflx and relay candidates. Every description is
// exactly what `setLocalDescription` left in `pc.localDescription.sdp`.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { chromium } = require('playwright-core');

const out = process.argv[2];
const turnUrl = process.argv[3];
if (!out) {
  console.error('usage: node capture.js OUT_DIR [TURN_URL]');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });

const BASE_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

// Runs in the page: helpers shared by every scenario.
const PAGE_HELPERS = `
window.gather = (pc) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  pc.addEventListener('icegatheringstatechange', () => {
    if (pc.iceGatheringState === 'complete') resolve();
  });
});
window.connect = async (a, b) => {
  // Trickle both ways, then one full offer/answer.
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate).catch(() => {});
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate).catch(() => {});
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no connection: ' + a.connectionState)), 15000);
    const check = () => { if (a.connectionState === 'connected' && b.connectionState === 'connected') { clearTimeout(t); resolve(); } };
    a.addEventListener('connectionstatechange', check);
    b.addEventListener('connectionstatechange', check);
    check();
  });
};
window.negotiate = async (a, b) => {
  await a.setLocalDescription(await a.createOffer());
  const offer = a.localDescription.sdp;
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  const answer = b.localDescription.sdp;
  await a.setRemoteDescription(b.localDescription);
  return { offer, answer };
};
`;

async function withBrowser(extraArgs, fn, media = true) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chr-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, args: BASE_ARGS.filter((a) => media || !a.includes('media-stream')).concat(extraArgs),
  });
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>capture</title>');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const page = await ctx.newPage();
    page.on('console', (m) => console.log('page:', m.text()));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.evaluate(PAGE_HELPERS);
    await fn(page);
  } finally {
    await ctx.close();
    server.close();
  }
}

function save(name, sdp) {
  fs.writeFileSync(path.join(out, name), sdp);
  console.log(`wrote ${name} (${sdp.length} bytes)`);
}

(async () => {
  // Raw IPs (the mDNS obfuscation off).
  await withBrowser(['--disable-features=WebRtcHideLocalIpsWithMdns'], async (page) => {
    const r = await page.evaluate(async (turnUrl) => {
      const res = {};
      const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      const [audio] = media.getAudioTracks();
      const [video] = media.getVideoTracks();

      // An answer with audio, video and data, to a Chromium offer with the same.
      {
        const a = new RTCPeerConnection(); const b = new RTCPeerConnection();
        a.addTrack(audio, media); a.addTrack(video, media); a.createDataChannel('chat');
        b.addTrack(audio.clone(), media); b.addTrack(video.clone(), media);
        const { answer } = await negotiate(a, b);
        res['chromium156-answer-audio-video-data.sdp'] = answer;
        a.close(); b.close();
      }

      // Simulcast: an offer with three rids, and the answer a second Chromium gives to it.
      {
        const a = new RTCPeerConnection(); const b = new RTCPeerConnection();
        a.addTransceiver(video, { direction: 'sendonly', streams: [media], sendEncodings: [
          { rid: 'q', scaleResolutionDownBy: 4.0, maxBitrate: 150000 },
          { rid: 'h', scaleResolutionDownBy: 2.0, maxBitrate: 500000 },
          { rid: 'f', maxBitrate: 1500000 },
        ] });
        a.addTransceiver(audio, { direction: 'sendonly', streams: [media] });
        const { offer, answer } = await negotiate(a, b);
        res['chromium156-offer-simulcast.sdp'] = offer;
        res['chromium156-answer-to-simulcast-offer.sdp'] = answer;
        a.close(); b.close();
      }

      // ICE restart: connect two peers over loopback, then restart from the first.
      {
        const a = new RTCPeerConnection(); const b = new RTCPeerConnection();
        a.addTrack(audio, media); a.addTrack(video, media); a.createDataChannel('chat');
        await connect(a, b);
        res['chromium156-offer-before-ice-restart.sdp'] = a.localDescription.sdp;
        // Wait for the end of the restart's own gathering (the null candidate), not the
        // 'complete' state left over from the first one.
        const done = new Promise((resolve) => { a.onicecandidate = (e) => { if (!e.candidate) resolve(); }; });
        await a.setLocalDescription(await a.createOffer({ iceRestart: true }));
        await done;
        res['chromium156-offer-ice-restart.sdp'] = a.localDescription.sdp;
        a.close(); b.close();
      }

      // Renegotiation of a data-channel session: audio added, then video.
      {
        const a = new RTCPeerConnection(); const b = new RTCPeerConnection();
        a.createDataChannel('chat');
        await connect(a, b);
        a.addTrack(audio, media);
        let r1 = await negotiate(a, b);
        res['chromium156-reneg-offer-add-audio.sdp'] = r1.offer;
        a.addTrack(video, media);
        let r2 = await negotiate(a, b);
        res['chromium156-reneg-offer-add-video.sdp'] = r2.offer;
        res['chromium156-reneg-answer-add-video.sdp'] = r2.answer;
        // Stopping a negotiated transceiver rejects its section (port 0) in the next offer.
        a.getTransceivers()[0].stop();
        let r3 = await negotiate(a, b);
        res['chromium156-reneg-offer-stop-audio.sdp'] = r3.offer;
        res['chromium156-reneg-answer-stop-audio.sdp'] = r3.answer;
        a.close(); b.close();
      }

      // An answer with recvonly and inactive sections (a transceiver stopped before answering
      // comes out inactive, not rejected, in Chromium 156).
      {
        const a = new RTCPeerConnection(); const b = new RTCPeerConnection();
        a.addTrack(audio, media); a.addTrack(video, media);
        a.addTransceiver('video', { direction: 'sendrecv' });
        a.createDataChannel('chat');
        await a.setLocalDescription(await a.createOffer());
        await b.setRemoteDescription(a.localDescription);
        const [ta, tv, tx] = b.getTransceivers();
        ta.direction = 'recvonly';
        tv.direction = 'inactive';
        tx.stop();
        await b.setLocalDescription(await b.createAnswer());
        res['chromium156-answer-recvonly-inactive.sdp'] = b.localDescription.sdp;
        a.close(); b.close();
      }

      // An offer after gathering, raw host IPs (and srflx/relay through a local TURN server).
      {
        const config = turnUrl
          ? { iceServers: [{ urls: [turnUrl], username: 'test', credential: 'test123' }] } : {};
        const a = new RTCPeerConnection(config);
        const trickled = [];
        a.onicecandidate = (e) => e.candidate && trickled.push(JSON.stringify(e.candidate.toJSON()));
        a.addTrack(audio, media); a.createDataChannel('chat');
        await a.setLocalDescription(await a.createOffer());
        await gather(a);
        res['chromium156-offer-gathered-raw-ip.sdp'] = a.localDescription.sdp;
        res['chromium156-trickled-candidates-raw-ip.jsonl'] = trickled.join('\n') + '\n';
        a.close();
      }
      return res;
    }, turnUrl);
    for (const [name, sdp] of Object.entries(r)) save(name, sdp);
  });

  // Default settings: host candidates hidden behind mDNS names. No media flags here: once a
  // page holds camera or microphone permission (the fake UI grants it), Chromium shows it the
  // raw addresses.
  await withBrowser([], async (page) => {
    const r = await page.evaluate(async (turnUrl) => {
      const res = {};
      const config = turnUrl
        ? { iceServers: [{ urls: [turnUrl], username: 'test', credential: 'test123' }] } : {};
      const a = new RTCPeerConnection(config);
      const trickled = [];
      a.onicecandidate = (e) => e.candidate && trickled.push(JSON.stringify(e.candidate.toJSON()));
      a.addTransceiver('audio', { direction: 'sendrecv' }); a.createDataChannel('chat');
      await a.setLocalDescription(await a.createOffer());
      await gather(a);
      res['chromium156-offer-gathered-mdns.sdp'] = a.localDescription.sdp;
      res['chromium156-trickled-candidates-mdns.jsonl'] = trickled.join('\n') + '\n';
      a.close();
      return res;
    }, turnUrl);
    for (const [name, sdp] of Object.entries(r)) save(name, sdp);
  }, false);
})().catch((e) => { console.error(e); process.exit(1); });
