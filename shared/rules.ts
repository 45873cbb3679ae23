import * as z from 'zod/mini';
import { ConfigError } from './errors';
import { issueMessage } from './schemaIssues';
import { isArnForm, parseKeyReference, type KeyReference } from './keyReference';
import { encodeTagValue } from './jobTags';
import { VERDICT_PREFIX } from './verdictLedger';
import {
  ENCRYPTION_CONTEXT_MAX_PAIRS,
  ENCRYPTION_CONTEXT_STRING_MAX_LENGTH,
  JOB_NAME_MAX_LENGTH,
  LANGUAGE_CODES,
  NON_BLANK,
  OUTPUT_BUCKET_PATTERN,
  OUTPUT_KEY_CHARACTER,
  OUTPUT_KEY_MAX_LENGTH,
} from './transcribeModel';

export type LanguageSettings =
  | { languageCode: string }
  | { identifyLanguage: true; languageOptions?: string[] };

export interface OutputLocation {
  /** Undefined means the stack's transcript bucket. */
  bucket?: string;
  prefix: string;
}

export interface Rule {
  /** Position in the config file, used in every message about this rule. */
  index: number;
  prefix: string;
  kmsKey?: KeyReference;
  account?: string;
  encryptionContext?: Record<string, string>;
  language: LanguageSettings;
  output: OutputLocation;
}

export interface PipelineConfig {
  rules: Rule[];
  deferredExecution: boolean;
}

export interface ValidationContext {
  /** The deployment region: KMS keys for S3 SSE-KMS must live in the bucket's region. */
  region: string;
  /** Name of the input bucket when known (at cold start; at package time only if existing). */
  inputBucket?: string;
  /** Name of the stack's transcript bucket when known. */
  transcriptBucket?: string;
  /** Where the config came from, for messages. */
  source?: string;
}

export const DEFAULT_OUTPUT_PREFIX = 'transcripts/';
/** Longest OutputKey prefix that still leaves room for `<job name>.json`. */
const OUTPUT_PREFIX_MAX_LENGTH = OUTPUT_KEY_MAX_LENGTH - JOB_NAME_MAX_LENGTH - '.json'.length;

const languageFields = {
  languageCode: z.optional(z.string()),
  identifyLanguage: z.optional(z.boolean()),
  languageOptions: z.optional(z.array(z.string()).check(z.minLength(1, 'must list at least one language code'))),
};

const outputSchema = z.strictObject({
  bucket: z.optional(z.string()),
  prefix: z.optional(z.string()),
});

const ruleSchema = z.strictObject({
  prefix: z.string().check(z.maxLength(1024, 'must be at most 1024 characters, the S3 key limit')),
  kmsKey: z.optional(z.string().check(z.minLength(1, 'must not be empty; omit it for SSE-S3'))),
  account: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account ID'))),
  encryptionContext: z.optional(z.record(z.string(), z.string())),
  output: z.optional(outputSchema),
  ...languageFields,
});

const configSchema = z.strictObject({
  $comment: z.optional(z.string()),
  defaults: z.optional(z.strictObject(languageFields)),
  transcripts: z.optional(outputSchema),
  deferredExecution: z.optional(z.boolean()),
  rules: z.array(ruleSchema).check(z.minLength(1, 'must list at least one rule')),
});

type RawRule = z.infer<typeof ruleSchema>;
type RawLanguage = Pick<RawRule, 'languageCode' | 'identifyLanguage' | 'languageOptions'>;

export function describeRule(rule: { index: number; prefix: string }): string {
  return `rules[${rule.index}] (prefix ${JSON.stringify(rule.prefix)})`;
}

/**
 * Parses and checks the per-prefix config, collecting every problem before failing so that one
 * run shows the operator all of them. Runs at cold start, in `serverless package` and in tests,
 * so a config that would misroute a key never reaches a deployed function.
 */
export function validatePipelineConfig(raw: unknown, context: ValidationContext): PipelineConfig {
  const source = context.source ?? 'pipeline config';
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(source, parsed.error.issues.map((issue) => describeIssue(issue, raw)));
  }
  const config = parsed.data;
  const problems: string[] = [];
  const defaultOutput = { bucket: config.transcripts?.bucket, prefix: config.transcripts?.prefix ?? DEFAULT_OUTPUT_PREFIX };
  problems.push(...checkOutput(defaultOutput, 'transcripts'));
  if (config.defaults) problems.push(...checkLanguage(config.defaults, 'defaults', false));

  const seen = new Map<string, number>();
  const rules: Rule[] = config.rules.map((rawRule, index) => {
    const where = describeRule({ index, prefix: rawRule.prefix });
    const earlier = seen.get(rawRule.prefix);
    if (earlier !== undefined) {
      problems.push(`${where}: prefix duplicates rules[${earlier}]; merge the two rules or change one prefix`);
    } else {
      seen.set(rawRule.prefix, index);
    }
    if (encodeTagValue(rawRule.prefix) === undefined) {
      problems.push(`${where}: prefix is too long to record in a job tag (256 characters once encoded); shorten it`);
    }
    const kmsKey = checkKey(rawRule, where, context.region, problems);
    problems.push(...checkEncryptionContext(rawRule, kmsKey, where));
    const ownLanguage = rawRule.languageCode !== undefined || rawRule.identifyLanguage !== undefined || rawRule.languageOptions !== undefined;
    const language = ownLanguage ? rawRule : (config.defaults ?? {});
    problems.push(...checkLanguage(language, ownLanguage ? where : `${where} (from defaults)`, true));
    const output = { bucket: rawRule.output?.bucket ?? defaultOutput.bucket, prefix: rawRule.output?.prefix ?? defaultOutput.prefix };
    if (rawRule.output) problems.push(...checkOutput(output, `${where}: output`));
    return {
      index,
      prefix: rawRule.prefix,
      ...(kmsKey && { kmsKey }),
      ...(rawRule.account && { account: rawRule.account }),
      ...(rawRule.encryptionContext && { encryptionContext: rawRule.encryptionContext }),
      language: toLanguageSettings(language),
      output: { ...(output.bucket && { bucket: output.bucket }), prefix: output.prefix },
    };
  });
  problems.push(...checkLoops(rules, context));
  if (problems.length > 0) throw new ConfigError(source, problems);
  return { rules, deferredExecution: config.deferredExecution ?? false };
}

function checkKey(rule: RawRule, where: string, region: string, problems: string[]): KeyReference | undefined {
  if (rule.kmsKey === undefined) {
    if (rule.account) problems.push(`${where}: account is set but kmsKey is not; add the key's ARN or remove account`);
    return undefined;
  }
  const ref = parseKeyReference(rule.kmsKey);
  if (!ref) {
    problems.push(
      `${where}: kmsKey ${JSON.stringify(rule.kmsKey)} is not a key ID, alias/NAME, key ARN ` +
        `(arn:aws:kms:REGION:ACCOUNT:key/ID) or alias ARN (arn:aws:kms:REGION:ACCOUNT:alias/NAME)`,
    );
    return undefined;
  }
  if (!isArnForm(ref)) {
    if (rule.account) {
      const arnExample =
        ref.form === 'key-id'
          ? `arn:aws:kms:${region}:${rule.account}:key/${ref.keyId}`
          : `arn:aws:kms:${region}:${rule.account}:${ref.aliasName}`;
      problems.push(
        `${where}: kmsKey ${JSON.stringify(rule.kmsKey)} is a bare ${ref.form === 'key-id' ? 'key ID' : 'alias name'}, ` +
          `which only finds keys in the deploying account, but account says the key lives in ${rule.account}; ` +
          `use the ARN instead, e.g. ${arnExample}`,
      );
    }
    return ref;
  }
  if (rule.account && rule.account !== ref.account) {
    problems.push(`${where}: account ${rule.account} does not match the account ${ref.account} in kmsKey; fix one of them`);
  }
  if (ref.region !== region) {
    problems.push(
      `${where}: kmsKey is in region ${ref.region} but the stack deploys to ${region}; S3 can only encrypt with a key ` +
        `in the bucket's region, so use a key (or multi-Region replica) in ${region}`,
    );
  }
  return ref;
}

function checkEncryptionContext(rule: RawRule, kmsKey: KeyReference | undefined, where: string): string[] {
  const context = rule.encryptionContext;
  if (context === undefined) return [];
  const problems: string[] = [];
  if (rule.kmsKey === undefined) {
    problems.push(`${where}: encryptionContext needs a kmsKey (SSE-S3 has no encryption context); add kmsKey or remove encryptionContext`);
  } else if (!kmsKey) {
    return problems;
  }
  const entries = Object.entries(context);
  if (entries.length === 0) problems.push(`${where}: encryptionContext is empty; remove it or add a pair`);
  if (entries.length > ENCRYPTION_CONTEXT_MAX_PAIRS) {
    problems.push(`${where}: encryptionContext has ${entries.length} pairs; Transcribe accepts at most ${ENCRYPTION_CONTEXT_MAX_PAIRS}`);
  }
  for (const [key, value] of entries) {
    if (!NON_BLANK.test(key)) problems.push(`${where}: encryptionContext has a blank key; give it a name`);
    if (!NON_BLANK.test(value)) problems.push(`${where}: encryptionContext.${key} is blank; give it a value`);
    if (key.length > ENCRYPTION_CONTEXT_STRING_MAX_LENGTH || value.length > ENCRYPTION_CONTEXT_STRING_MAX_LENGTH) {
      problems.push(`${where}: encryptionContext.${key.slice(0, 40)} is longer than ${ENCRYPTION_CONTEXT_STRING_MAX_LENGTH} characters`);
    }
  }
  return problems;
}

function checkLanguage(language: RawLanguage, where: string, required: boolean): string[] {
  const problems: string[] = [];
  const { languageCode, identifyLanguage, languageOptions } = language;
  if (languageCode !== undefined && identifyLanguage) {
    problems.push(`${where}: set either languageCode or identifyLanguage, not both; Transcribe takes exactly one language option`);
  } else if (required && languageCode === undefined && !identifyLanguage) {
    problems.push(`${where}: no language; set languageCode (e.g. "en-US") or identifyLanguage: true, here or in defaults`);
  }
  if (identifyLanguage === false) {
    problems.push(`${where}: identifyLanguage: false has no effect; remove it and set languageCode`);
  }
  if (languageOptions !== undefined && !identifyLanguage) {
    problems.push(`${where}: languageOptions only applies with identifyLanguage: true`);
  }
  for (const [field, code] of [
    ['languageCode', languageCode],
    ...(languageOptions ?? []).map((option, i) => [`languageOptions[${i}]`, option] as const),
  ] as const) {
    if (code !== undefined && !LANGUAGE_CODES.has(code)) {
      problems.push(`${where}: ${field} ${JSON.stringify(code)} is not a Transcribe language code (e.g. "en-US", "de-DE")`);
    }
  }
  return problems;
}

function toLanguageSettings(language: RawLanguage): LanguageSettings {
  if (language.identifyLanguage) {
    return { identifyLanguage: true, ...(language.languageOptions && { languageOptions: language.languageOptions }) };
  }
  return { languageCode: language.languageCode ?? '' };
}

function checkOutput(output: OutputLocation, where: string): string[] {
  const problems: string[] = [];
  if (output.bucket !== undefined && !OUTPUT_BUCKET_PATTERN.test(output.bucket)) {
    problems.push(`${where}.bucket ${JSON.stringify(output.bucket)} is not a valid S3 bucket name`);
  }
  const bad = [...new Set([...output.prefix].filter((c) => !OUTPUT_KEY_CHARACTER.test(c)))];
  if (bad.length > 0) {
    problems.push(
      `${where}.prefix ${JSON.stringify(output.prefix)} contains ${bad.map((c) => JSON.stringify(c)).join(', ')}, ` +
        `which Transcribe's OutputKey rejects; use only letters, digits and - _ . ! * ' ( ) /`,
    );
  }
  if (output.prefix !== '' && !output.prefix.endsWith('/')) {
    problems.push(`${where}.prefix ${JSON.stringify(output.prefix)} must end with "/" so transcripts land in a folder`);
  }
  if (output.prefix.startsWith('/')) {
    problems.push(`${where}.prefix must not start with "/"`);
  }
  if (output.prefix.length > OUTPUT_PREFIX_MAX_LENGTH) {
    problems.push(`${where}.prefix is longer than ${OUTPUT_PREFIX_MAX_LENGTH} characters, leaving no room for the job name`);
  }
  return problems;
}

/** Transcripts written where a rule listens would start a job for every transcript, forever. */
function checkLoops(rules: Rule[], context: ValidationContext): string[] {
  if (!context.inputBucket) return [];
  const problems: string[] = [];
  if (context.transcriptBucket === context.inputBucket) {
    const ledger = rules.find((input) => VERDICT_PREFIX.startsWith(input.prefix) || input.prefix.startsWith(VERDICT_PREFIX));
    if (ledger) {
      problems.push(
        `${describeRule(ledger)}: the verdict ledger s3://${context.inputBucket}/${VERDICT_PREFIX} lies under this input prefix; ` +
          'use a transcript bucket other than the input bucket, or narrow the prefix',
      );
    }
  }
  for (const rule of rules) {
    const bucket = rule.output.bucket ?? context.transcriptBucket;
    if (bucket !== context.inputBucket) continue;
    for (const input of rules) {
      if (rule.output.prefix.startsWith(input.prefix) || input.prefix.startsWith(rule.output.prefix)) {
        problems.push(
          `${describeRule(rule)}: output s3://${bucket}/${rule.output.prefix} overlaps input prefix ` +
            `${JSON.stringify(input.prefix)} of ${describeRule(input)} in the same bucket, so every transcript would ` +
            `start a new job; move output.prefix outside every rule prefix or use the transcript bucket`,
        );
        break;
      }
    }
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = issue.path;
  let where = path.length === 0 ? 'config' : '';
  for (const [i, segment] of path.entries()) {
    if (typeof segment === 'number') {
      where += `[${segment}]`;
      if (path[i - 1] === 'rules') {
        const prefix = (raw as { rules?: { prefix?: unknown }[] }).rules?.[segment]?.prefix;
        if (typeof prefix === 'string') where += ` (prefix ${JSON.stringify(prefix)})`;
      }
    } else {
      where += `${where === '' ? '' : where.endsWith(')') ? ': ' : '.'}${String(segment)}`;
    }
  }
  if (issue.code === 'unrecognized_keys') {
    return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; see the config reference in README.md`;
  }
  return `${where}: ${issueMessage(issue)}`;
}
