import type { MediaFormat } from '@aws-sdk/client-transcribe';
import { MEDIA_FORMATS, MEDIA_MAX_BYTES, UNSUPPORTED_RECORDING_FORMATS, WRITE_ACCESS_PROBE_NAME } from '../aws/transcribeModel';

export type ObjectDecision =
  /** Without a mediaFormat (a name with no extension), Transcribe determines the format itself. */
  | { action: 'transcribe'; mediaFormat?: MediaFormat }
  | { action: 'skip'; reason: string }
  | { action: 'dead-letter'; reason: string };

/**
 * Decides whether an uploaded object can become a job. Objects that can never succeed are not
 * sent to Transcribe, which would bill a failed job: a recording (over 2 GB, or in a format
 * Transcribe does not take) goes to the dead-letter queue with what to do, because its uploader
 * expects a transcript; anything else (a folder marker, an empty object, a note beside the
 * recordings, a hidden file) is skipped with a reason. A name with no extension at all is how
 * automated writers often name a recording (by its ID): it becomes a job without a MediaFormat,
 * which Transcribe then determines, and what is not media ends as a Failed verdict, which pages,
 * not as a log line. Whitespace after the extension (`call.wav `, or `call.wav\r` from a list of
 * names written on Windows) is an ingestion slip, not another format: the format is read without it.
 */
export function classifyObject(object: { key: string; size: number }): ObjectDecision {
  if (object.key.endsWith('/')) return { action: 'skip', reason: 'folder marker' };
  const name = object.key.slice(object.key.lastIndexOf('/') + 1).trimEnd();
  if (name === WRITE_ACCESS_PROBE_NAME) return { action: 'skip', reason: 'Transcribe write-access probe' };
  if (object.size === 0) return { action: 'skip', reason: 'zero-byte object' };
  // Finder's .DS_Store, and the ._NAME.wav metadata that macOS writes beside every file copied to
  // a mounted bucket (whose job would fail and page), or a tool's temporary .NAME.wav (whose
  // transcript would duplicate the renamed copy's): none is a recording of its own.
  if (name.startsWith('.')) return { action: 'skip', reason: 'hidden file' };
  if (object.size > MEDIA_MAX_BYTES) {
    return { action: 'dead-letter', reason: `the recording is ${object.size} bytes and Transcribe accepts at most 2 GB: split it into parts under 2 GB and upload those` };
  }
  const mediaFormat = mediaFormatOf(name);
  if (!mediaFormat) {
    const dot = name.lastIndexOf('.');
    if (dot < 0) return { action: 'transcribe' };
    const extension = name.slice(dot);
    const formats = MEDIA_FORMATS.join(', ');
    if (UNSUPPORTED_RECORDING_FORMATS.has(extension.slice(1).toLowerCase())) {
      return { action: 'dead-letter', reason: `${extension} is a recording format Transcribe does not take (it takes ${formats}): convert the recording to one of them and upload that` };
    }
    return { action: 'skip', reason: `unsupported extension ${extension}; Transcribe takes ${formats}` };
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
