/**
 * The checks of one rule's fields that a schema cannot express: key forms and regions,
 * encryption context limits, language options, output locations and input/output loops. Each
 * returns messages naming the rule and the field, so one run reports every problem.
 */
import { isArnForm, parseKeyReference, type KeyReference } from '../aws/keyReference';
import {
  ENCRYPTION_CONTEXT_MAX_PAIRS,
  ENCRYPTION_CONTEXT_STRING_MAX_LENGTH,
  JOB_NAME_MAX_LENGTH,
  LANGUAGE_CODES,
  NON_BLANK,
  OUTPUT_BUCKET_PATTERN,
  OUTPUT_KEY_CHARACTER,
  OUTPUT_KEY_MAX_LENGTH,
} from '../aws/transcribeModel';
import { VERDICT_PREFIX } from './reservedPrefixes';
import type { RawLanguage, RawRule } from './configSchema';
import { describeRule } from './describeRule';
import type { LanguageSettings, OutputLocation, Rule, ValidationContext } from './rule';

/** Longest OutputKey prefix that still leaves room for `<job name>.json`. */
const OUTPUT_PREFIX_MAX_LENGTH = OUTPUT_KEY_MAX_LENGTH - JOB_NAME_MAX_LENGTH - '.json'.length;

export function checkKey(rule: RawRule, where: string, region: string, problems: string[]): KeyReference | undefined {
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

export function checkEncryptionContext(rule: RawRule, kmsKey: KeyReference | undefined, where: string): string[] {
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

export function checkLanguage(language: RawLanguage, where: string, required: boolean): string[] {
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

export function toLanguageSettings(language: RawLanguage): LanguageSettings {
  if (language.identifyLanguage) {
    return { identifyLanguage: true, ...(language.languageOptions && { languageOptions: language.languageOptions }) };
  }
  return { languageCode: language.languageCode ?? '' };
}

export function checkOutput(output: OutputLocation, where: string): string[] {
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
export function checkLoops(rules: Rule[], context: ValidationContext): string[] {
  const isInput = (bucket: string | undefined) =>
    bucket !== undefined && (bucket === context.inputBucket || (context.isInputBucketName?.(bucket) ?? false));
  const problems: string[] = [];
  if (context.inputBucket && context.transcriptBucket === context.inputBucket) {
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
    if (!isInput(bucket)) continue;
    for (const input of rules) {
      if (rule.output.prefix.startsWith(input.prefix) || input.prefix.startsWith(rule.output.prefix)) {
        problems.push(
          `${describeRule(rule)}: output s3://${bucket}/${rule.output.prefix} overlaps input prefix ` +
            `${JSON.stringify(input.prefix)} of ${describeRule(input)} in the same bucket (the stack's input bucket), so every transcript would ` +
            `start a new job; move output.prefix outside every rule prefix or use the transcript bucket`,
        );
        break;
      }
    }
  }
  return problems;
}

/**
 * The verdict ledger (`verdicts/` in the stack's transcript bucket) may only be written by the
 * verifiers. A rule whose output is the ledger prefix, contains it or lies under it, or is the
 * whole transcript bucket (an empty prefix), would give the start role write access to it and
 * let Transcribe overwrite verdicts.
 */
export function checkLedger(rules: Rule[], context: ValidationContext): string[] {
  const inLedgerBucket = (bucket: string | undefined) =>
    bucket === undefined || bucket === context.transcriptBucket || (context.isTranscriptBucketName?.(bucket) ?? false);
  const problems: string[] = [];
  for (const rule of rules) {
    if (!inLedgerBucket(rule.output.bucket)) continue;
    const prefix = rule.output.prefix;
    if (prefix === '') {
      problems.push(
        `${describeRule(rule)}: output.prefix is empty in the transcript bucket, which also holds the verdict ledger ${VERDICT_PREFIX}; ` +
          'set output.prefix (or transcripts.prefix) to a folder such as "transcripts/"',
      );
    } else if (prefix.startsWith(VERDICT_PREFIX) || VERDICT_PREFIX.startsWith(prefix)) {
      problems.push(
        `${describeRule(rule)}: output.prefix ${JSON.stringify(prefix)} ${prefix === VERDICT_PREFIX ? 'is' : prefix.startsWith(VERDICT_PREFIX) ? 'lies under' : 'contains'} ` +
          `the verdict ledger ${VERDICT_PREFIX}, which only the verifiers may write; choose another output.prefix, such as "transcripts/"`,
      );
    }
  }
  return problems;
}
