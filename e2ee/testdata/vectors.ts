// Produces livekit-client-vectors.json with livekit-client's own FrameCryptor
// (src/e2ee/worker) running in Node: see regenerate.sh. Frames are fed to its
// encode and decode transforms as RTCEncodedVideoFrame/RTCEncodedAudioFrame
// look-alikes; the per-SSRC send counter is preset so the IV is known.
import { encryptionEnabledMap, FrameCryptor } from './node_modules/livekit-client/src/e2ee/worker/FrameCryptor';
import { ParticipantKeyHandler } from './node_modules/livekit-client/src/e2ee/worker/ParticipantKeyHandler';
import { KEY_PROVIDER_DEFAULTS } from './node_modules/livekit-client/src/e2ee/constants';
import { createKeyMaterialFromBuffer, createKeyMaterialFromString } from './node_modules/livekit-client/src/e2ee/utils';

type Frame = {
  name: string;
  codec: string; // mime subtype; '' for audio
  keyframe: boolean;
  ssrc: number;
  timestamp: number;
  sendCount: number;
  data: Uint8Array;
};

const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// Deterministic filler so frames are long enough to span many RTP packets.
function filler(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

const sps = unhex('6742c01e95a0a0fd0080');
const pps = unhex('68ce3c80');
const vps265 = unhex('40010c01ffff016000000300b0000003000003005dac09');
const sps265 = unhex('420101016000000300b0000003000003005da00280802d165bab93');
const pps265 = unhex('4401c172b46240');
const sc4 = unhex('00000001');
const sc3 = unhex('000001');

const frames: Frame[] = [
  { name: 'vp8-key', codec: 'vp8', keyframe: true, ssrc: 0x11223344, timestamp: 90000, sendCount: 7,
    data: cat(unhex('5043009d012a8002e001'), filler(3000, 1)) },
  { name: 'vp8-delta', codec: 'vp8', keyframe: false, ssrc: 0x11223344, timestamp: 93000, sendCount: 8,
    data: cat(unhex('b10600'), filler(700, 2)) },
  { name: 'vp9-key', codec: 'vp9', keyframe: true, ssrc: 0x0a0b0c0d, timestamp: 1234, sendCount: 100,
    data: cat(unhex('824983420031f0'), filler(2500, 3)) },
  { name: 'opus', codec: '', keyframe: false, ssrc: 0x00000001, timestamp: 960, sendCount: 65534,
    data: cat(unhex('fc'), filler(120, 4)) },
  // SSRC 1 and 0 put 00 00 00 0x into the IV, which the RBSP escaping must handle.
  { name: 'h264-idr', codec: 'h264', keyframe: true, ssrc: 0x00000001, timestamp: 3000, sendCount: 5,
    data: cat(sc4, sps, sc4, pps, sc4, unhex('6588840021'), filler(4000, 5)) },
  { name: 'h264-idr-short-startcodes', codec: 'h264', keyframe: true, ssrc: 0x00000000, timestamp: 6000, sendCount: 6,
    data: cat(sc3, sps, sc3, pps, sc3, unhex('65888400'), filler(2000, 6)) },
  { name: 'h264-delta', codec: 'h264', keyframe: false, ssrc: 0x00000001, timestamp: 9000, sendCount: 7,
    data: cat(sc4, unhex('419a0203'), filler(900, 7)) },
  { name: 'h264-sei-two-slices', codec: 'h264', keyframe: false, ssrc: 0x7f000001, timestamp: 12000, sendCount: 8,
    data: cat(sc4, unhex('06050111'), sc4, unhex('419a0001'), filler(500, 8), sc4, unhex('419b0002'), filler(500, 9)) },
  { name: 'h265-irap', codec: 'h265', keyframe: true, ssrc: 0x00000100, timestamp: 3000, sendCount: 1,
    data: cat(sc4, vps265, sc4, sps265, sc4, pps265, sc4, unhex('2601af0c'), filler(3500, 10)) },
  { name: 'h265-trail', codec: 'h265', keyframe: false, ssrc: 0x00000100, timestamp: 6000, sendCount: 2,
    data: cat(sc4, unhex('0201d004'), filler(800, 11)) },
];

function encodedFrame(f: Frame, data: ArrayBuffer) {
  const metadata = { synchronizationSource: f.ssrc, payloadType: 96, mimeType: f.codec ? `video/${f.codec}` : 'audio/opus' };
  const frame: any = { data, timestamp: f.timestamp, getMetadata: () => metadata };
  if (f.codec) frame.type = f.keyframe ? 'key' : 'delta'; // audio frames have no type
  return frame;
}

async function run(cryptor: FrameCryptor, fn: 'encodeFunction' | 'decodeFunction', frame: any) {
  const out: any[] = [];
  await (cryptor as any)[fn](frame, { enqueue: (x: any) => out.push(x) });
  if (out.length !== 1) throw new Error(`${fn} produced ${out.length} frames`);
  return out[0].data as ArrayBuffer;
}

async function main() {
  const options = { ...KEY_PROVIDER_DEFAULTS, sharedKey: true, ratchetWindowSize: 0, failureTolerance: -1 };
  const keys = [
    { kind: 'passphrase', key: 'golivekitsink e2ee test key', index: 0 },
    { kind: 'passphrase', key: 'rotated key', index: 3 },
    { kind: 'raw', key: hex(filler(32, 99)), index: 1 },
  ];
  const vectors: any[] = [];
  for (const k of keys) {
    const material =
      k.kind === 'passphrase' ? await createKeyMaterialFromString(k.key) : await createKeyMaterialFromBuffer(unhex(k.key).buffer);
    const identity = 'publisher';
    const handler = new ParticipantKeyHandler(identity, options);
    await handler.setKey(material, k.index);
    encryptionEnabledMap.set(identity, true);
    for (const f of frames) {
      const cryptor = new FrameCryptor({ keys: handler, participantIdentity: identity, keyProviderOptions: options });
      if (f.codec) cryptor.setVideoCodec(f.codec as any);
      (cryptor as any).sendCounts.set(f.ssrc, f.sendCount);
      const plain = f.data.slice().buffer;
      const encrypted = await run(cryptor, 'encodeFunction', encodedFrame(f, plain));
      const decrypted = await run(cryptor, 'decodeFunction', encodedFrame(f, encrypted.slice(0)));
      vectors.push({
        name: f.name, keyKind: k.kind, key: k.key, keyIndex: k.index, codec: f.codec || 'opus',
        keyframe: f.keyframe, ssrc: f.ssrc, timestamp: f.timestamp, sendCount: f.sendCount,
        plain: hex(f.data), encrypted: hex(encrypted), decrypted: hex(decrypted),
      });
    }
  }
  process.stdout.write(JSON.stringify({ generator: 'livekit-client ' + process.env.LK_VERSION, vectors }, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
