import { CliError } from '../../../shared/cli/cliErrors';
import type { JobType } from '../../../shared/aws/jobTypes';
import { OUTPUT_KINDS, type OutputKind, type TamperMode } from '../emulator/emulatorModel';
import { fileURLToPath } from 'node:url';

/** The bundled sample: three seconds of a 440 Hz tone, a real 8 kHz PCM WAV file. */
export const SAMPLE_AUDIO = fileURLToPath(new URL('../../../events/media/sample-call.wav', import.meta.url));

/** A two-channel call (agent and customer tones, 8 kHz PCM WAV): Call Analytics takes stereo only. */
export const STEREO_SAMPLE_AUDIO = fileURLToPath(new URL('../../../events/media/sample-call-stereo.wav', import.meta.url));

/** The sample the demo uploads under a rule of this job type. */
export function sampleFor(jobType: JobType): string {
  return jobType === 'callAnalytics' ? STEREO_SAMPLE_AUDIO : SAMPLE_AUDIO;
}

/**
 * Reads a tamper switch, `MATCH[:wrong-key|no-kms][:OUTPUT]`: the first job whose media URI
 * contains MATCH gets one output written under the wrong key (or without KMS): its transcript,
 * or the OUTPUT named (`redacted-transcript`, `redacted-audio` of a Call Analytics job). An
 * empty MATCH means "let the caller choose" (the demo picks the first rule with a key).
 */
export function parseTamper(value: string): { match: string; mode: TamperMode; output?: OutputKind } {
  const parts = value.split(':');
  const output = (OUTPUT_KINDS as readonly string[]).includes(parts.at(-1) ?? '') && parts.length > 1 ? (parts.pop() as OutputKind) : undefined;
  const mode = parts.length > 1 ? (parts.pop() as string) : 'wrong-key';
  if (mode !== 'wrong-key' && mode !== 'no-kms') {
    throw new CliError(`--tamper mode ${JSON.stringify(mode)} is not wrong-key or no-kms (the form is MATCH[:wrong-key|no-kms][:${OUTPUT_KINDS.join('|')}])`);
  }
  return { match: parts.join(':'), mode, ...(output && { output }) };
}
