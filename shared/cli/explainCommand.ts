/**
 * `tkp explain <key>`: why an upload gets the key it gets. Works without credentials when the
 * stack's buckets are named (--input-bucket or TKP_INPUT_BUCKET); with credentials it also reads
 * the object, resolves the key and reads what the verifier will demand.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { isMissingObject } from '../aws/awsErrors';
import { describeError } from '../aws/errors';
import { eventETag, parseS3Uri } from '../aws/s3Location';
import { buildRuleIndex } from '../config/ruleIndex';
import { configFingerprint } from '../config/expectedEncryption';
import type { CliEnvironment } from '../config/settings';
import { explainUpload, unreadableMediaReason, type ExplainLookups, type MediaEncryption } from '../start/explainUpload';
import { decodeS3Key } from '../start/s3Notification';
import { createDemandSources, describeMediaEncryption } from './cliAdapters';
import { callerIdentity, createCliClients, deployedConfigFingerprint, resolveStackTargets, stackOutputsReader, type StackOptions } from './cliAws';
import { loadCliConfig } from './cliConfig';
import { CliError, describeCliError, EXIT } from './cliErrors';
import { terminalText, type TerminalOutput } from './terminalOutput';

export interface ExplainOptions extends StackOptions {
  fromEvent?: boolean;
  size?: string;
  versionId?: string;
  offline?: boolean;
}

/**
 * The key an argument names: the key itself, or the object's `s3://BUCKET/KEY` URI as the local
 * mode, the AWS console and `aws s3 ls` print it, whose bucket must be the stage's input bucket.
 */
export function keyOfArgument(argument: string, inputBucket: string): string {
  if (!argument.startsWith('s3://')) return argument;
  const uri = parseS3Uri(argument);
  if (!uri) throw new CliError(`${argument} names no object; pass s3://BUCKET/KEY, or the key alone`);
  if (uri.bucket !== inputBucket) {
    throw new CliError(
      `${argument} is in the bucket ${uri.bucket}, not this stage's input bucket ${inputBucket}, and the start function dead-letters an upload to another bucket (ForeignBucketError); ` +
        'name the stage whose input bucket it is (--stage, or --input-bucket), or pass the key alone',
    );
  }
  return uri.key;
}

export async function runExplain(rawKey: string, options: ExplainOptions, env: CliEnvironment, out: TerminalOutput): Promise<number> {
  let key = rawKey;
  if (options.fromEvent) {
    try {
      key = decodeS3Key(rawKey);
    } catch {
      throw new CliError(`--from-event: ${JSON.stringify(rawKey)} is not valid S3 event encoding`);
    }
  }
  if (key === '') throw new CliError('the key is empty; pass the object key as the uploader wrote it, e.g. tkp explain "calls/Call 1.wav"');
  const size = options.size === undefined ? undefined : Number(options.size);
  if (size !== undefined && !(Number.isInteger(size) && size >= 0)) throw new CliError(`--size ${JSON.stringify(options.size)} must be a whole number of bytes`);

  const clients = await createCliClients(options, env);
  loadCliConfig(options.config ?? env.configPath, { region: clients.region });
  const notes: string[] = [];
  let lookups: ExplainLookups;
  let online = !options.offline;
  if (online) {
    try {
      await callerIdentity(clients);
    } catch (error) {
      online = false;
      notes.push(`working without AWS (${describeCliError(error)})`);
    }
  }
  const targets = await resolveStackTargets(options, env, [], online ? stackOutputsReader(clients) : async (stackName) => {
    throw new CliError(`without credentials the stack ${stackName} cannot be looked up; pass --input-bucket and --transcript-bucket (or export TKP_INPUT_BUCKET and TKP_TRANSCRIPT_BUCKET)`);
  });
  const { config, path } = loadCliConfig(options.config ?? env.configPath, { region: clients.region, inputBucket: targets.inputBucket, transcriptBucket: targets.transcriptBucket });
  key = keyOfArgument(key, targets.inputBucket);

  let object: { size?: number; versionId?: string; eTag?: string } = { ...(size !== undefined && { size }), ...(options.versionId && { versionId: options.versionId }) };
  let media: MediaEncryption | undefined;
  if (online) {
    lookups = createDemandSources(clients, targets.transcriptBucket);
    const deployed = await deployedConfigFingerprint(clients, targets.stackName);
    if ('fingerprint' in deployed && deployed.fingerprint !== configFingerprint(config.rules)) {
      notes.push(`${targets.stackName} was deployed with another config (fingerprint ${deployed.fingerprint}): this is what it will do once ${path} is deployed, not what it does today`);
    }
    try {
      const head = await clients.s3.send(new HeadObjectCommand({ Bucket: targets.inputBucket, Key: key, ...(options.versionId && { VersionId: options.versionId }) }));
      object = {
        size: head.ContentLength ?? 0,
        ...(head.VersionId && head.VersionId !== 'null' && { versionId: head.VersionId }),
        ...(head.ETag && { eTag: eventETag(head.ETag) }),
        ...object,
      };
      media = await describeMediaEncryption(clients.kms, head);
    } catch (error) {
      notes.push(
        isMissingObject(error)
          ? `s3://${targets.inputBucket}/${key} does not exist (yet); size and version come from the flags`
          : `s3://${targets.inputBucket}/${key} cannot be read (${describeError(error)})`,
      );
    }
  }
  const explanation = await explainUpload(
    { key, rules: config.rules, ruleIndex: buildRuleIndex(config.rules), inputBucket: targets.inputBucket, transcriptBucket: targets.transcriptBucket, jobNamePrefix: targets.jobNamePrefix, object, ...(media && { media }) },
    lookups,
  );
  explanation.notes.unshift(...notes);

  if (out.json) {
    out.document({ command: 'explain', config: path, stage: targets.stage, ...explanation });
    return EXIT.ok;
  }
  const { colour } = out;
  out.line(`${colour.bold('key')}            ${terminalText(JSON.stringify(explanation.key))}`);
  out.line(`${colour.bold('in S3 events')}   ${explanation.eventKey}`);
  out.line(`${colour.bold('rule')}           ${explanation.winner === null ? colour.red('none') : colour.green(JSON.stringify(explanation.winner))}`);
  // Said only when the rule won although the key does not start with its prefix byte for byte (an accented letter spelled otherwise).
  const won = explanation.considered.find((r) => r.wins);
  if (won && !explanation.key.startsWith(won.prefix)) out.line(`  won: ${terminalText(won.reason)}`);
  for (const rule of explanation.considered.filter((r) => !r.wins)) out.line(`  lost: ${terminalText(`${JSON.stringify(rule.prefix)}: ${rule.reason}`)}`);
  if (explanation.unrelatedRules > 0) out.line(`  ${explanation.unrelatedRules} other rule(s): their prefix does not match`);
  if (explanation.decision) {
    const { decision } = explanation;
    const said = decision.action === 'transcribe' ? (decision.mediaFormat ? `transcribe as ${decision.mediaFormat}` : 'transcribe; the name has no extension, so no MediaFormat is sent and Transcribe determines the format') : colour[decision.action === 'skip' ? 'yellow' : 'red'](`${decision.action}: ${decision.reason}`);
    out.line(`${colour.bold('decision')}       ${said}`);
  }
  if (explanation.media) {
    const { media: stored } = explanation;
    const kmsKey = stored.kmsKey && `${stored.kmsKey.arn ?? stored.kmsKey.id} (${stored.kmsKey.state ?? 'not described'})`;
    const said = stored.serverSideEncryption === 'AES256' ? 'stored under SSE-S3' : `stored under ${stored.serverSideEncryption}${kmsKey ? ` with ${kmsKey}` : ''}`;
    out.line(`${colour.bold('media')}          ${unreadableMediaReason(stored) ? colour.red(said) : said}`);
  }
  if (explanation.jobType) out.line(`${colour.bold('job type')}       ${explanation.jobType}`);
  if (explanation.jobName) out.line(`${colour.bold('job name')}       ${explanation.jobName}`);
  if (explanation.keyArn) out.line(`${colour.bold('key ARN')}        ${explanation.keyArn}`);
  if (explanation.demand) {
    const demand = explanation.demand.serverSideEncryption === 'aws:kms' ? `aws:kms under ${explanation.demand.kmsKeyArn}` : 'AES256 (SSE-S3)';
    out.line(`${colour.bold('verifier')}       demands ${demand} (${explanation.demand.source === 'bucket-default' ? 'the output bucket\'s default' : 'the rule\'s key'}) on every object under ${explanation.demand.output}`);
  }
  if (explanation.request) {
    out.line(colour.bold(`${explanation.operation ?? 'StartTranscriptionJob'} input`));
    out.line(JSON.stringify(explanation.request, null, 2));
  }
  for (const note of explanation.notes) out.line(colour.dim(`note: ${terminalText(note)}`));
  return EXIT.ok;
}
