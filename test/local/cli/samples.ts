import { CliError } from '../../../shared/cli/cliErrors';
import type { TamperMode } from '../emulator/emulatorModel';

/** The bundled sample: three seconds of a 440 Hz tone, a real 8 kHz PCM WAV file. */
export const SAMPLE_AUDIO = new URL('../../../events/media/sample-call.wav', import.meta.url).pathname;

/**
 * Reads a tamper switch, `MATCH[:wrong-key|no-kms]`: the first job whose media URI contains
 * MATCH gets its transcript written under the wrong key (or without KMS). An empty MATCH means
 * "let the caller choose" (the demo picks the first rule with a key).
 */
export function parseTamper(value: string): { match: string; mode: TamperMode } {
  const separator = value.lastIndexOf(':');
  const mode = separator >= 0 ? value.slice(separator + 1) : 'wrong-key';
  if (mode !== 'wrong-key' && mode !== 'no-kms') throw new CliError(`--tamper mode ${JSON.stringify(mode)} is not wrong-key or no-kms`);
  return { match: separator >= 0 ? value.slice(0, separator) : value, mode };
}
