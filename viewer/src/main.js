// Joins the LiveKit room named in the token as a subscriber and plays every
// track. Usage: index.html?url=ws://127.0.0.1:7880&token=<subscriber JWT>
// [&e2ee=<shared key for index 0>&e2ee=<key for index 1>…] for end-to-end
// encrypted rooms (docs/e2ee.md).
// window.lkStats mirrors the receivers' getStats() so tests (and people) can
// check that media decodes, not just that it arrives; window.lkBars samples
// the colour bars of each video; window.lkTranscriptions collects the
// transcription segments (lk.transcription text streams) as livekit-client
// hands them to an application.
import { BaseKeyProvider, createKeyMaterialFromString, Room, RoomEvent, Track } from 'livekit-client';

const params = new URLSearchParams(location.search);
const url = params.get('url');
const token = params.get('token');
const statusEl = document.getElementById('status');
const mediaEl = document.getElementById('media');
const statsEl = document.getElementById('stats');

window.lkStats = { state: 'loading', error: '', framesDecoded: 0, audioPackets: 0, e2eeErrors: 0, tracks: [] };

function setStatus(state, error = '') {
  window.lkStats.state = state;
  window.lkStats.error = error;
  statusEl.textContent = error ? `${state}: ${error}` : state;
}

// A shared-key provider that, unlike ExternalE2EEKeyProvider (index 0 only),
// holds a key per index, so the publisher can rotate to a new index.
class SharedKeyRing extends BaseKeyProvider {
  constructor() {
    super({ sharedKey: true, ratchetWindowSize: 0, failureTolerance: -1 });
  }
  async setIndexedKey(passphrase, index) {
    this.onSetEncryptionKey(await createKeyMaterialFromString(passphrase), undefined, index);
  }
}
const e2eeKeys = params.getAll('e2ee');
const keyRing = e2eeKeys.length ? new SharedKeyRing() : undefined;

// Adaptive stream and dynacast would pause tracks the page does not show
// large enough; a viewer wants every track at full quality.
const room = new Room({
  adaptiveStream: false,
  dynacast: false,
  e2ee: keyRing && { keyProvider: keyRing, worker: new Worker('e2ee.worker.mjs', { type: 'module' }) },
});
const subscribed = new Map(); // track sid -> { track, participant }
window.lkTranscriptions = [];
room.registerTextStreamHandler('lk.transcription', async (reader, participant) => {
  const text = await reader.readAll();
  const a = reader.info.attributes || {};
  window.lkTranscriptions.push({ text, from: participant.identity, segmentId: a['lk.segment_id'],
    final: a['lk.transcription_final'] === 'true', trackId: a['lk.transcribed_track_id'] || '', at: Date.now() });
});

room
  .on(RoomEvent.ConnectionStateChanged, (s) => setStatus(s))
  .on(RoomEvent.Disconnected, (reason) => setStatus('disconnected', `reason ${reason}`))
  .on(RoomEvent.TrackSubscribed, (track, pub, participant) => {
    const el = track.attach();
    el.id = `track-${pub.trackSid}`;
    el.dataset.participant = participant.identity;
    if (track.kind === Track.Kind.Video) {
      el.muted = true; // muted video may autoplay without a user gesture
      el.playsInline = true;
    }
    mediaEl.appendChild(el);
    subscribed.set(pub.trackSid, { track, participant: participant.identity });
  })
  .on(RoomEvent.TrackUnsubscribed, (track, pub) => {
    track.detach().forEach((el) => el.remove());
    subscribed.delete(pub.trackSid);
  })
  .on(RoomEvent.EncryptionError, () => window.lkStats.e2eeErrors++)
  .on(RoomEvent.AudioPlaybackStatusChanged, () => {
    if (!room.canPlaybackAudio) statusEl.textContent += ' (click to enable audio)';
  });
document.body.addEventListener('click', () => room.startAudio());

async function pollStats() {
  const tracks = [];
  let frames = 0;
  let audioPackets = 0;
  for (const [sid, { track, participant }] of subscribed) {
    const report = track.receiver ? await track.receiver.getStats() : new Map();
    const t = { sid, participant, kind: track.kind, framesDecoded: 0, packetsReceived: 0, bytesReceived: 0,
      totalSamplesReceived: 0, concealedSamples: 0, keyFramesDecoded: 0, pliCount: 0, nackCount: 0, packetsLost: 0, framesDropped: 0,
      framesReceived: 0 };
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      t.framesDecoded += s.framesDecoded || 0;
      t.totalSamplesReceived += s.totalSamplesReceived || 0;
      t.concealedSamples += s.concealedSamples || 0;
      t.keyFramesDecoded += s.keyFramesDecoded || 0;
      t.pliCount += s.pliCount || 0;
      t.nackCount += s.nackCount || 0;
      t.packetsLost += s.packetsLost || 0;
      t.framesDropped += s.framesDropped || 0;
      t.framesReceived += s.framesReceived || 0;
      t.inbound = s; // every inbound-rtp field, for diagnosis
      t.packetsReceived += s.packetsReceived || 0;
      t.bytesReceived += s.bytesReceived || 0;
      if (s.codecId && report.get(s.codecId)) t.codec = report.get(s.codecId).mimeType;
    });
    if (track.kind === Track.Kind.Video) frames += t.framesDecoded;
    else audioPackets += t.packetsReceived;
    tracks.push(t);
  }
  Object.assign(window.lkStats, { framesDecoded: frames, audioPackets, tracks, updatedAt: Date.now() });
  statsEl.textContent = JSON.stringify(window.lkStats, null, 2);
}

// lkBars returns, per video track sid, the RGB of seven points across the
// upper part of the picture: the bars of videotestsrc's default pattern.
window.lkBars = () => {
  const out = {};
  for (const [sid, { track }] of subscribed) {
    if (track.kind !== Track.Kind.Video) continue;
    const el = document.getElementById(`track-${sid}`);
    if (!el || !el.videoWidth) continue;
    const canvas = document.createElement('canvas');
    canvas.width = el.videoWidth;
    canvas.height = el.videoHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(el, 0, 0);
    out[sid] = [];
    for (let i = 0; i < 7; i++) {
      const x = Math.floor(((i + 0.5) * canvas.width) / 7);
      out[sid].push(Array.from(ctx.getImageData(x, Math.floor(canvas.height / 4), 1, 1).data.slice(0, 3)));
    }
  }
  return out;
};

async function main() {
  if (!url || !token) {
    setStatus('error', 'missing ?url=…&token=… in the page URL');
    return;
  }
  try {
    for (const [index, key] of e2eeKeys.entries()) await keyRing.setIndexedKey(key, index);
    if (keyRing) await room.setE2EEEnabled(true);
    await room.connect(url, token, { autoSubscribe: true });
  } catch (e) {
    setStatus('error', String(e && e.message ? e.message : e));
    return;
  }
  setInterval(() => pollStats().catch((e) => console.warn('stats', e)), 500);
}

main();
