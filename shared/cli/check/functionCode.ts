/**
 * `tkp check`'s "function code" row: whether each of the stack's functions runs the build the
 * last deploy published. Every deploy publishes a version of each function, and the stack's
 * template records that version's `CodeSha256` (`AWS::Lambda::Version`). The triggers invoke the
 * unpublished `$LATEST`, which `UpdateFunctionCode` replaces without touching the stack: a verifier
 * swapped so could publish `verified` for a transcript under any key. VerifierChangesRule pages on
 * the call; nothing else shows it afterwards, because neither CloudFormation's drift detection nor
 * a deploy of unchanged files looks at a function's code. This row compares the two hashes. It
 * proves the code is what was deployed, not that what was deployed was reviewed.
 */
import { functionLogicalId, type FunctionId } from '../../stack/stackNames';
import { PUT_BACK_README, STACK_ROW, type CheckRow } from './checkRow';
import type { FunctionFacts } from './stackFunctions';

/** The code hash the deployed stack's template records for each function it publishes. */
export interface DeployedCode {
  stackName: string;
  codeSha256: Partial<Record<FunctionId, string>>;
}

type TemplateResource = { Type?: unknown; Properties?: { FunctionName?: unknown; CodeSha256?: unknown } };

/**
 * Each function's recorded code hash, from the template's `AWS::Lambda::Version` resources: the
 * function named by a `Ref` to its logical ID, as `serverless deploy` writes it, or by its name.
 */
export function deployedCodeOf(stackName: string, templateBody: string, functions: readonly { id: FunctionId; name: string }[]): DeployedCode {
  let template: { Resources?: Record<string, TemplateResource> };
  try {
    template = JSON.parse(templateBody) as typeof template;
  } catch {
    throw new Error(`the template of stack ${stackName} is not JSON, so it is not one that serverless deploy wrote`);
  }
  const codeSha256: DeployedCode['codeSha256'] = {};
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::Version' || typeof resource.Properties?.CodeSha256 !== 'string') continue;
    const target = resource.Properties.FunctionName;
    const ref = typeof target === 'object' && target !== null ? (target as { Ref?: unknown }).Ref : undefined;
    const fn = functions.find(({ id, name }) => target === name || ref === functionLogicalId(id));
    if (fn) codeSha256[fn.id] = resource.Properties.CodeSha256;
  }
  return { stackName, codeSha256 };
}

/** What a swapped function can do until its code is put back. */
const SWAPPED: Record<FunctionId, string> = {
  verify: 'its verdicts may not be the verifier\'s own',
  sweep: 'its verdicts may not be the verifier\'s own',
  start: 'jobs may be started under other keys or not at all (their verdicts still judge them by the deployed config)',
  preflight: 'tkp check --deployed may report key proofs it never made',
  bucketNotifications: 'the next deploy may set the input bucket\'s notifications otherwise',
};

export function functionCodeRow(functions: readonly FunctionFacts[] | { error: string }, deployed: DeployedCode | null | { error: string }, stage: string): CheckRow {
  const row = { rule: STACK_ROW, check: 'function code' };
  if (deployed === null) return { ...row, ok: true, skipped: true, detail: 'no deployed stack records the functions\' code to compare it with' };
  if ('error' in deployed) {
    return {
      ...row,
      ok: false,
      detail: `the stack's template cannot be read (${deployed.error}); the caller needs cloudformation:GetTemplate on the stack to tell whether the functions run the code the last deploy published`,
    };
  }
  if ('error' in functions) return { ...row, ok: false, detail: `the stack's functions cannot be read (${functions.error}); the caller needs lambda:GetFunctionConfiguration` };
  const compared = functions.filter((fn) => fn.found && fn.codeSha256 !== undefined && deployed.codeSha256[fn.id] !== undefined);
  const swapped = compared.filter((fn) => fn.codeSha256 !== deployed.codeSha256[fn.id]);
  const unrecorded = functions.filter((fn) => fn.found && deployed.codeSha256[fn.id] === undefined).map((fn) => fn.name);
  const notCompared = unrecorded.length > 0 ? `; not compared, since ${deployed.stackName}'s template records no version of them: ${unrecorded.join(', ')}` : '';
  if (swapped.length === 0) {
    return { ...row, ok: true, detail: `${compared.length} run the code the last deploy published (CodeSha256 as ${deployed.stackName}'s template records it)${notCompared}` };
  }
  const problems = swapped.map(
    (fn) =>
      `${fn.name} runs code with CodeSha256 ${fn.codeSha256}, not the ${deployed.codeSha256[fn.id]} the last deploy published, so ${SWAPPED[fn.id]} ` +
      `(npx serverless deploy function --function ${fn.id} --stage ${stage}, from the commit that was deployed)`,
  );
  return {
    ...row,
    ok: false,
    detail:
      `${problems.join('; ')}${notCompared}. A redeploy of the stack does not put code back, since its template did not change (${PUT_BACK_README}). ` +
      'Until then trust no verdict without tkp audit --since the time the code changed, which judges the transcripts themselves',
  };
}
