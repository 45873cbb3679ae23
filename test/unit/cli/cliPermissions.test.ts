import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CALL_ACTIONS, COMMAND_CALLS, policyFor, type CliCommand } from '../../../shared/cli/cliPermissions';

const source = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
const folder = (path: string) =>
  readdirSync(new URL(`../../../${path}/`, import.meta.url))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => source(`${path}/${file}`));
/** One top-level function of a module, from its declaration to its closing brace. */
function functionIn(path: string, name: string): string {
  const text = source(path);
  const start = text.search(new RegExp(`\\nexport (async )?function\\*? ?${name}\\(|\\n(async )?function\\*? ?${name}\\(`));
  expect(start, `${name} in ${path}`).toBeGreaterThan(0);
  return text.slice(start, text.indexOf('\n}\n', start));
}
const callsIn = (texts: string[]) => new Set(texts.flatMap((text) => [...text.matchAll(/new (\w+Command)\(/g)].map((match) => match[1] as string)));

/**
 * Where each command's AWS calls are made: its own modules, the stack lookup and caller identity
 * (cliAws.ts), and, of the adapters it shares with other commands (cliAdapters.ts), the functions
 * it uses.
 */
const adapters = (...names: string[]) => names.map((name) => functionIn('shared/cli/cliAdapters.ts', name));
const SOURCES: Record<CliCommand, () => string[]> = {
  check: () => [...folder('shared/cli/check'), source('shared/cli/cliAws.ts'), source('shared/start/keyProbeAdapters.ts'), ...adapters('createDemandSources')],
  audit: () => [source('shared/cli/auditCommand.ts'), source('shared/cli/cliAws.ts'), ...adapters('createAuditAdapters', 'createDemandSources', 'listObjects', 'headObject')],
  explain: () => [source('shared/cli/explainCommand.ts'), source('shared/cli/cliAws.ts'), ...adapters('createDemandSources', 'describeMediaEncryption')],
  backfill: () => [source('shared/cli/backfillCommand.ts'), source('shared/cli/cliAws.ts'), ...adapters('createBackfillAdapters', 'listObjects', 'listCurrentVersions')],
  redrive: () => [...folder('shared/cli/redrive'), source('shared/cli/cliAws.ts')],
};

describe('the permissions each tkp command needs', () => {
  for (const command of Object.keys(SOURCES) as CliCommand[]) {
    it(`${command}: name every AWS call its code makes, and no call it does not make`, () => {
      const made = callsIn(SOURCES[command]());
      expect([...made].filter((call) => !COMMAND_CALLS[command].includes(call))).toEqual([]);
      expect(COMMAND_CALLS[command].filter((call) => !made.has(call))).toEqual([]);
    });
  }

  it('name an IAM action for every call, each used by some command', () => {
    const used = new Set(Object.values(COMMAND_CALLS).flat());
    expect(Object.keys(CALL_ACTIONS).filter((call) => !used.has(call))).toEqual([]);
    expect([...used].filter((call) => !(call in CALL_ACTIONS))).toEqual([]);
  });

  it('print as one policy per command with each action once, sorted, that README names', () => {
    const readme = source('README.md');
    const check = policyFor('check').Statement[0];
    expect(check).toMatchObject({ Sid: 'TkpCheck', Effect: 'Allow', Resource: '*' });
    expect(check?.Action).toHaveLength(31);
    expect(check?.Action).toEqual([...(check?.Action ?? [])].sort());
    expect(policyFor('backfill').Statement[0]?.Action).toEqual(['cloudformation:DescribeStacks', 's3:GetBucketVersioning', 's3:ListBucket', 's3:ListBucketVersions', 'sqs:SendMessage']);
    for (const command of Object.keys(COMMAND_CALLS) as CliCommand[]) {
      expect(policyFor(command).Statement[0]?.Action.filter((action) => !readme.includes(`\`${action}\``)), command).toEqual([]);
    }
  });
});
