/**
 * `tkp check`'s "stack functions" row: whether each of the stack's functions still runs what the
 * stack deployed, as the stack deployed it. A verifier with one more environment variable
 * (`AWS_ENDPOINT_URL_KMS`) asks a forger which key a rule names, and one with another
 * `OUTCOME_BUS_NAME` publishes where no consumer listens; one with a layer or another handler
 * runs other code; another role acts with other rights. A reserved concurrency of 0 or a
 * trigger turned off stops a function for hours before an alarm, and a verifier without its
 * on-failure destination drops its failures instead of dead-lettering them. Without EventBridge's
 * permission to invoke it, the verifier's completion events fail into the verify DLQ, and the
 * sweeper's schedule fails with no dead letter at all, so medical jobs, which have no completion
 * event, are never verified. Each change pages
 * through VerifierChangesRule when it is made, but not while both watchers are off, nor from a
 * region whose CloudTrail events that rule never sees; this row sees the result. The code itself
 * is compared with what the last deploy published in functionCode.ts.
 */
import { FUNCTION_ENVIRONMENT_NAMES, FUNCTION_SETTING_NAMES, isVerifier, STACK_FUNCTIONS, type FunctionId } from '../../stack/stackNames';
import { PUT_BACK, STACK_ROW, type CheckRow } from './checkRow';
import { allowsRequest, type PolicyStatement } from './policyStatement';

/** One function as Lambda describes it; `found: false` when it does not exist. */
export interface FunctionFacts {
  id: FunctionId;
  name: string;
  found: boolean;
  role?: string;
  handler?: string;
  environment?: Record<string, string>;
  layers?: string[];
  /** Its reserved concurrency; absent when none is set. */
  reservedConcurrency?: number;
  /** The on-failure destination of its asynchronous invocations (the verifiers'); null when it has none. */
  onFailure?: string | null;
  /** Its triggers (the start function's), by event source ARN. */
  triggers?: { uuid: string; source: string; state: string }[];
  arn?: string;
  /** The SHA-256 of the code `$LATEST` runs, base64, as Lambda reports it. */
  codeSha256?: string;
  /** Its resource policy's statements (the verifiers'): who may invoke it; empty when it has none. */
  invokers?: PolicyStatement[];
}

/** What the stack deployed, as far as the CLI knows it. */
export interface DeployedFunctions {
  /** Each role's ARN, by the name it ends in (stackNames.ts, roleName). */
  roleArn: (role: (typeof STACK_FUNCTIONS)[FunctionId]) => string;
  /** Where the verifiers' failed invocations go. */
  verifyDeadLetterQueueArn?: string;
  /** What triggers the start function. */
  startQueueArn?: string;
  /**
   * The values the stack gives the variables that say where verdicts and jobs go, where the CLI
   * knows them (the buckets, the stage, the job-name prefix, the outcome bus and its source).
   */
  environment?: Partial<Record<(typeof FUNCTION_ENVIRONMENT_NAMES)[number], string>>;
  /** The same value in two spellings (a queue's URL through one endpoint or another): equal when these agree. */
  sameValue?: (name: string, actual: string, expected: string) => boolean;
  /** The EventBridge rules that invoke each verifier, and the stack's account, their aws:SourceAccount. */
  invokedBy?: { account: string; rules: Partial<Record<FunctionId, { name: string; arn: string }[]>> };
}

/** What is lost when EventBridge may not invoke a verifier for one of its rules. */
const UNINVOKED: Partial<Record<FunctionId, string>> = {
  verify: 'its completion events fail into the verify DLQ',
  sweep: 'the sweeper never runs, with no dead letter, and a medical job, which has no completion event, is never verified',
};

function uninvokedProblems(fn: FunctionFacts, deployed: DeployedFunctions): string[] {
  const { invokers, arn: functionArn } = fn;
  const rules = deployed.invokedBy?.rules[fn.id];
  if (!invokers || !functionArn || !rules || !deployed.invokedBy) return [];
  const { account } = deployed.invokedBy;
  const refused = rules.filter(
    ({ arn }) => allowsRequest(invokers, { principal: 'events.amazonaws.com', action: 'lambda:InvokeFunction', resource: functionArn, context: { 'aws:sourcearn': arn, 'aws:sourceaccount': account } }) === false,
  );
  return refused.map(
    (rule) =>
      `EventBridge may not invoke ${fn.name} for the rule ${rule.name}, so ${UNINVOKED[fn.id] ?? 'its events are lost'} ` +
      `(aws lambda add-permission --function-name ${fn.name} --statement-id ${rule.name} --action lambda:InvokeFunction --principal events.amazonaws.com --source-arn ${rule.arn})`,
  );
}

function problemsOf(fn: FunctionFacts, deployed: DeployedFunctions): string[] {
  if (!fn.found) return [`${fn.name} does not exist`];
  const problems: string[] = [];
  const role = deployed.roleArn(STACK_FUNCTIONS[fn.id]);
  if (fn.role !== undefined && fn.role !== role) problems.push(`${fn.name} runs as ${fn.role}, not ${role}`);
  const handler = `functions/${fn.id}.handler`;
  if (fn.handler !== undefined && fn.handler !== handler) problems.push(`${fn.name} runs the handler ${fn.handler}, not ${handler}`);
  const known = new Set<string>([...FUNCTION_ENVIRONMENT_NAMES, ...FUNCTION_SETTING_NAMES]);
  const environment = fn.environment ?? {};
  const extra = Object.keys(environment).filter((name) => !known.has(name));
  if (extra.length > 0) problems.push(`${fn.name} has environment variable(s) the stack neither sets nor reads: ${extra.join(', ')}`);
  const same = deployed.sameValue ?? ((_name: string, actual: string, expected: string) => actual === expected);
  const changed = Object.entries(deployed.environment ?? {}).filter(([name, expected]) => name in environment && expected !== undefined && !same(name, environment[name] as string, expected));
  if (changed.length > 0) problems.push(`${fn.name} has ${changed.map(([name, expected]) => `${name}=${JSON.stringify(environment[name])} (the stack's: ${JSON.stringify(expected)})`).join(', ')}`);
  if ((fn.layers ?? []).length > 0) problems.push(`${fn.name} has layer(s) the stack does not add, whose code runs in it: ${(fn.layers ?? []).join(', ')}`);
  if (fn.reservedConcurrency === 0) problems.push(`${fn.name} has a reserved concurrency of 0, so it never runs (aws lambda delete-function-concurrency --function-name ${fn.name})`);
  // The verifiers are invoked asynchronously, so their failures must reach the verify DLQ.
  if (isVerifier(fn.id) && fn.onFailure !== undefined) {
    if (fn.onFailure === null) problems.push(`${fn.name} has no on-failure destination, so a failed verification is dropped instead of dead-lettered`);
    else if (deployed.verifyDeadLetterQueueArn && fn.onFailure !== deployed.verifyDeadLetterQueueArn) {
      problems.push(`${fn.name} sends a failed invocation to ${fn.onFailure}, not the verify DLQ ${deployed.verifyDeadLetterQueueArn}`);
    }
  }
  problems.push(...uninvokedProblems(fn, deployed));
  if (fn.id === 'start' && fn.triggers !== undefined && deployed.startQueueArn) {
    const trigger = fn.triggers.find((candidate) => candidate.source === deployed.startQueueArn);
    if (!trigger) problems.push(`${fn.name} has no trigger from the start queue ${deployed.startQueueArn}, so no upload reaches it`);
    else if (trigger.state !== 'Enabled') {
      problems.push(`${fn.name}'s trigger from the start queue is ${trigger.state}, so no upload reaches it (aws lambda update-event-source-mapping --uuid ${trigger.uuid} --enabled)`);
    }
  }
  return problems;
}

export function stackFunctionsRow(functions: readonly FunctionFacts[] | { error: string }, deployed: DeployedFunctions): CheckRow {
  const row = { rule: STACK_ROW, check: 'stack functions' };
  if ('error' in functions) {
    return {
      ...row,
      ok: false,
      detail:
        `the stack's functions cannot be read (${functions.error}); the caller needs lambda:GetFunctionConfiguration, lambda:GetFunctionConcurrency, ` +
        'lambda:GetFunctionEventInvokeConfig, lambda:ListEventSourceMappings and lambda:GetPolicy to tell whether they run as deployed',
    };
  }
  const problems = functions.flatMap((fn) => problemsOf(fn, deployed));
  if (problems.length === 0) {
    return { ...row, ok: true, detail: `all ${functions.length} run as deployed (role, handler, environment, no layers), with their triggers, invoke permissions and failure destinations: ${functions.map((fn) => fn.name).join(', ')}` };
  }
  return {
    ...row,
    ok: false,
    detail: `${problems.join('; ')}; ${PUT_BACK}. Until then a verdict may not be the verifier's own: tkp audit --since the time they changed judges the transcripts themselves`,
  };
}
