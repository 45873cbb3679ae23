/**
 * The per-prefix config as the pipeline uses it, and the one function that turns the raw file
 * into it. Shape checks are in configSchema.ts, field checks in ruleChecks.ts.
 */
import { encodeTagValue } from '../aws/jobTags';
import { ConfigError } from '../aws/errors';
import * as v from 'valibot';
import { configSchema, describeIssue } from './configSchema';
import { describeRule } from './describeRule';
import type { PipelineConfig, Rule, ValidationContext } from './rule';
import { MEDICAL_LANGUAGE } from '../aws/transcribeModel';
import { checkJobType, toJobSettings } from './jobTypeChecks';
import { checkEncryptionContext, checkKey, checkLanguage, checkLedger, checkLoops, checkOutput, toLanguageSettings } from './ruleChecks';

export const DEFAULT_OUTPUT_PREFIX = 'transcripts/';

/**
 * Parses and checks the per-prefix config, collecting every problem before failing so that one
 * run shows the operator all of them. Runs at cold start, in `serverless package` and in tests,
 * so a config that would misroute a key never reaches a deployed function.
 */
export function validatePipelineConfig(raw: unknown, context: ValidationContext): PipelineConfig {
  const source = context.source ?? 'pipeline config';
  const parsed = v.safeParse(configSchema, raw);
  if (!parsed.success) {
    throw new ConfigError(source, parsed.issues.map((issue) => describeIssue(issue, raw)));
  }
  const config = parsed.output;
  const problems: string[] = [];
  const defaultOutput = { bucket: config.transcripts?.bucket, prefix: config.transcripts?.prefix ?? DEFAULT_OUTPUT_PREFIX };
  problems.push(...checkOutput(defaultOutput, 'transcripts'));
  if (config.defaults) problems.push(...checkLanguage(config.defaults, 'defaults', false));

  const seen = new Map<string, number>();
  const rules: Rule[] = config.rules.map((rawRule, index) => {
    const where = describeRule({ index, prefix: rawRule.prefix });
    // Composed (NFC), as rules match keys: two spellings of one accented prefix are one prefix.
    const composed = rawRule.prefix.normalize('NFC');
    const earlier = seen.get(composed);
    if (earlier !== undefined) {
      problems.push(`${where}: prefix duplicates rules[${earlier}]; merge the two rules or change one prefix`);
    } else {
      seen.set(composed, index);
    }
    if (encodeTagValue(rawRule.prefix) === undefined) {
      problems.push(`${where}: prefix is too long to record in a job tag (256 characters once encoded); shorten it`);
    }
    const kmsKey = checkKey(rawRule, where, context.region, problems);
    problems.push(...checkEncryptionContext(rawRule, kmsKey, where));
    const ownLanguage = rawRule.languageCode !== undefined || rawRule.identifyLanguage !== undefined || rawRule.languageOptions !== undefined;
    // A medical rule is US English whatever the defaults say: Transcribe Medical has no other language.
    const language = ownLanguage ? rawRule : rawRule.jobType === 'medical' ? { languageCode: MEDICAL_LANGUAGE } : (config.defaults ?? {});
    problems.push(...checkLanguage(language, ownLanguage ? where : `${where} (from defaults)`, true));
    const output = { bucket: rawRule.output?.bucket ?? defaultOutput.bucket, prefix: rawRule.output?.prefix ?? defaultOutput.prefix };
    if (rawRule.output) problems.push(...checkOutput(output, `${where}: output`));
    problems.push(...checkJobType(rawRule, where, config.deferredExecution ?? false));
    return {
      index,
      prefix: rawRule.prefix,
      ...(kmsKey && { kmsKey }),
      ...(rawRule.account && { account: rawRule.account }),
      ...(rawRule.encryptionContext && { encryptionContext: rawRule.encryptionContext }),
      language: toLanguageSettings(language),
      output: { ...(output.bucket && { bucket: output.bucket }), prefix: output.prefix },
      job: toJobSettings(rawRule),
    };
  });
  problems.push(...checkLoops(rules, context), ...checkLedger(rules, context));
  if (problems.length > 0) throw new ConfigError(source, problems);
  return { rules, deferredExecution: config.deferredExecution ?? false };
}

/**
 * Whether jobs need Transcribe's data access role: deferred transcription jobs (queued jobs run
 * later, without the caller's session), and Call Analytics jobs, which Transcribe always queues
 * when over quota and whose documentation asks for the role.
 */
export function needsDataAccessRole(config: PipelineConfig): boolean {
  return dataAccessRoleRules(config).length > 0;
}

/** The rules whose jobs run with the data access role: its permissions cover exactly these. */
export function dataAccessRoleRules(config: PipelineConfig): Rule[] {
  return config.rules.filter((rule) => rule.job.jobType === 'callAnalytics' || (config.deferredExecution && rule.job.jobType === 'transcription'));
}
