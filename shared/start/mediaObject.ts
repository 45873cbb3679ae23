import type { MediaFormat } from '@aws-sdk/client-transcribe';
import { MEDIA_FORMATS, MEDIA_MAX_BYTES, WRITE_ACCESS_PROBE_NAME } from '../aws/transcribeModel';

export type ObjectDecision =
  | { action: 'transcribe'; mediaFormat: MediaFormat }
  | { action: 'skip'; reason: string };

/**
 * Decides whether an uploaded object can become a job. Objects that can never succeed are
 * skipped with a reason rather than sent to Transcribe, which would bill a failed job.
 */
export function classifyObject(object: { key: string; size: number }): ObjectDecision {
  if (object.key.endsWith('/')) return { action: 'skip', reason: 'folder marker' };
  const name = object.key.slice(object.key.lastIndexOf('/') + 1);
  if (name === WRITE_ACCESS_PROBE_NAME) return { action: 'skip', reason: 'Transcribe write-access probe' };
  if (object.size === 0) return { action: 'skip', reason: 'zero-byte object' };
  if (object.size > MEDIA_MAX_BYTES) {
    return { action: 'skip', reason: `object is ${object.size} bytes; Transcribe accepts at most 2 GB` };
  }
  const mediaFormat = mediaFormatOf(name);
  if (!mediaFormat) {
    const dot = name.lastIndexOf('.');
    const extension = dot > 0 ? name.slice(dot) : '(none)';
    return { action: 'skip', reason: `unsupported extension ${extension}; Transcribe takes ${MEDIA_FORMATS.join(', ')}` };
  }
  return { action: 'transcribe', mediaFormat };
}

/** MediaFormat from the file extension, case-insensitively; undefined when unsupported. */
export function mediaFormatOf(fileName: string): MediaFormat | undefined {
  const dot = fileName.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const extension = fileName.slice(dot + 1).toLowerCase();
  return MEDIA_FORMATS.includes(extension) ? (extension as MediaFormat) : undefined;
}
