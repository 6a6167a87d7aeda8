// Joins the LiveKit room named in the token as a subscriber and plays every
// track. Usage: index.html?url=ws://127.0.0.1:7880&token=<subscriber JWT>
// window.lkStats mirrors the receivers' getStats() so tests (and people) can
// check that media decodes, not just that it arrives.
import { Room, RoomEvent, Track } from 'livekit-client';

const params = new URLSearchParams(location.search);
const url = params.get('url');
const token = params.get('token');
const statusEl = document.getElementById('status');
const mediaEl = document.getElementById('media');
const statsEl = document.getElementById('stats');

window.lkStats = { state: 'loading', error: '', framesDecoded: 0, audioPackets: 0, tracks: [] };

function setStatus(state, error = '') {
  window.lkStats.state = state;
  window.lkStats.error = error;
  statusEl.textContent = error ? `${state}: ${error}` : state;
}

// Adaptive stream and dynacast would pause tracks the page does not show
// large enough; a viewer wants every track at full quality.
const room = new Room({ adaptiveStream: false, dynacast: false });
const subscribed = new Map(); // track sid -> { track, participant }

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
    const t = { sid, participant, kind: track.kind, framesDecoded: 0, packetsReceived: 0, bytesReceived: 0 };
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      t.framesDecoded += s.framesDecoded || 0;
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

async function main() {
  if (!url || !token) {
    setStatus('error', 'missing ?url=…&token=… in the page URL');
    return;
  }
  try {
    await room.connect(url, token, { autoSubscribe: true });
  } catch (e) {
    setStatus('error', String(e && e.message ? e.message : e));
    return;
  }
  setInterval(() => pollStats().catch((e) => console.warn('stats', e)), 500);
}

main();
