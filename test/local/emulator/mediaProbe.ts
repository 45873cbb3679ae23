/**
 * What the local Transcribe emulator can tell about a media file from its first bytes: the
 * container format, and the duration where the header states it (WAV and FLAC). It never
 * guesses a duration it cannot read.
 */
export interface MediaProbe {
  format: 'wav' | 'flac' | 'ogg' | 'mp3' | 'mp4' | 'webm' | 'amr' | 'unknown';
  durationSeconds?: number;
  /** Audio channels, where the header states them (WAV and FLAC). */
  channels?: number;
}

export const PROBE_BYTES = 4096;

export function probeMedia(head: Buffer, totalSize: number): MediaProbe {
  const ascii = (start: number, end: number) => head.subarray(start, end).toString('latin1');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return { format: 'wav', ...wavDuration(head, totalSize) };
  if (ascii(0, 4) === 'fLaC') return { format: 'flac', ...flacDuration(head) };
  if (ascii(0, 4) === 'OggS') return { format: 'ogg' };
  if (ascii(4, 8) === 'ftyp') return { format: 'mp4' };
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return { format: 'webm' };
  if (ascii(0, 5) === '#!AMR') return { format: 'amr' };
  if (ascii(0, 3) === 'ID3' || (head.length >= 2 && head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0)) return { format: 'mp3' };
  return { format: 'unknown' };
}

/** Whether a declared MediaFormat fits what the bytes are (m4a and mp4 share a container). */
export function formatMatches(declared: string, probed: MediaProbe['format']): boolean {
  if (declared === 'm4a') return probed === 'mp4';
  return declared === probed;
}

function wavDuration(head: Buffer, totalSize: number): { durationSeconds?: number; channels?: number } {
  let offset = 12;
  let byteRate: number | undefined;
  let channels: number | undefined;
  while (offset + 8 <= head.length) {
    const id = head.subarray(offset, offset + 4).toString('latin1');
    const size = head.readUInt32LE(offset + 4);
    if (id === 'fmt ' && offset + 20 <= head.length) {
      channels = head.readUInt16LE(offset + 10);
      byteRate = head.readUInt32LE(offset + 16);
    }
    if (id === 'data') {
      if (!byteRate) return {};
      const available = totalSize - (offset + 8);
      const dataBytes = size === 0xffffffff || size > available ? available : size;
      return { durationSeconds: dataBytes / byteRate, ...(channels && { channels }) };
    }
    offset += 8 + size + (size % 2);
  }
  return {};
}

function flacDuration(head: Buffer): { durationSeconds?: number; channels?: number } {
  if (head.length < 8 + 18 || ((head[4] ?? 0) & 0x7f) !== 0) return {};
  const info = head.subarray(8, 8 + 34);
  const sampleRate = ((info[10] ?? 0) << 12) | ((info[11] ?? 0) << 4) | ((info[12] ?? 0) >> 4);
  const channels = (((info[12] ?? 0) >> 1) & 0x07) + 1;
  const totalSamples = ((info[13] ?? 0) & 0x0f) * 2 ** 32 + info.readUInt32BE(14);
  return sampleRate > 0 && totalSamples > 0 ? { durationSeconds: totalSamples / sampleRate, channels } : { channels };
}

/**
 * A PCM WAV file of the given length: a real, decodable file for samples and tests. With two
 * channels, the second carries a tone half an octave up (an agent and a customer); a frequency
 * of 0 is silence.
 */
export function makeWav(seconds: number, options: { sampleRate?: number; frequency?: number; channels?: 1 | 2 } = {}): Buffer {
  const sampleRate = options.sampleRate ?? 8000;
  const frequency = options.frequency ?? 440;
  const channels = options.channels ?? 1;
  const frames = Math.round(seconds * sampleRate);
  const dataBytes = frames * 2 * channels;
  const buffer = Buffer.alloc(44 + dataBytes);
  buffer.write('RIFF', 0, 'latin1');
  buffer.writeUInt32LE(36 + dataBytes, 4);
  buffer.write('WAVE', 8, 'latin1');
  buffer.write('fmt ', 12, 'latin1');
  buffer.writeUInt32LE(16, 16);
  buffer.writeUInt16LE(1, 20);
  buffer.writeUInt16LE(channels, 22);
  buffer.writeUInt32LE(sampleRate, 24);
  buffer.writeUInt32LE(sampleRate * 2 * channels, 28);
  buffer.writeUInt16LE(2 * channels, 32);
  buffer.writeUInt16LE(16, 34);
  buffer.write('data', 36, 'latin1');
  buffer.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < frames; i++) {
    for (let channel = 0; channel < channels; channel++) {
      const tone = frequency * (channel === 0 ? 1 : 1.5);
      buffer.writeInt16LE(Math.round(Math.sin((2 * Math.PI * tone * i) / sampleRate) * 8000), 44 + (i * channels + channel) * 2);
    }
  }
  return buffer;
}
