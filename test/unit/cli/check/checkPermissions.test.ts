import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHECK_CALLS, checkPolicy } from '../../../../shared/cli/check/checkPermissions';

const source = (path: string) => readFileSync(new URL(`../../../../${path}`, import.meta.url), 'utf8');
const commandsIn = (text: string) => [...text.matchAll(/new (\w+Command)\(/g)].map((match) => match[1] as string);

/**
 * Every AWS call `tkp check` makes: its own modules, the stack lookup and caller identity
 * (cliAws.ts), the key probes (keyProbeAdapters.ts), and the bucket-default reader it shares with
 * the audit (createDemandSources in cliAdapters.ts, whose other adapters are the audit's and
 * backfill's).
 */
function checkCommands(): Set<string> {
  const check = readdirSync(new URL('../../../../shared/cli/check/', import.meta.url)).filter((file) => file.endsWith('.ts'));
  const adapters = source('shared/cli/cliAdapters.ts');
  const demandSources = adapters.slice(adapters.indexOf('export function createDemandSources'), adapters.indexOf('\nexport function', adapters.indexOf('export function createDemandSources') + 1));
  return new Set([
    ...check.flatMap((file) => commandsIn(source(`shared/cli/check/${file}`))),
    ...commandsIn(source('shared/cli/cliAws.ts')),
    ...commandsIn(source('shared/start/keyProbeAdapters.ts')),
    ...commandsIn(demandSources),
  ]);
}

describe('the permissions tkp check needs', () => {
  it('name an IAM action for every AWS call the check makes, and no call it does not make', () => {
    const made = checkCommands();
    expect(made.size).toBeGreaterThan(30);
    expect([...made].filter((command) => !(command in CHECK_CALLS))).toEqual([]);
    expect(Object.keys(CHECK_CALLS).filter((command) => !made.has(command))).toEqual([]);
  });

  it('print as one policy with each action once, sorted, that README lists too', () => {
    const policy = checkPolicy();
    const [statement] = policy.Statement;
    expect(statement).toMatchObject({ Effect: 'Allow', Resource: '*' });
    expect(statement?.Action).toEqual([...new Set(Object.values(CHECK_CALLS).filter(Boolean))].sort());
    expect(statement?.Action).toContain('s3:GetBucketPublicAccessBlock');
    const readme = source('README.md');
    expect(statement?.Action.filter((action) => !readme.includes(`\`${action}\``))).toEqual([]);
  });
});
