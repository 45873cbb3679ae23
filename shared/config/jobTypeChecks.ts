/**
 * The checks that depend on a rule's job type (transcription, Call Analytics, medical), and the
 * job settings a valid rule carries. Like ruleChecks.ts, each message names the rule and the field.
 */
import type { JobType } from '../aws/jobTypes';
import { MEDICAL_LANGUAGE, MEDICAL_SPECIALTIES, PII_ENTITY_TYPES, PII_ENTITY_TYPES_MAX } from '../aws/transcribeModel';
import type { RawRule } from './configSchema';
import type { JobSettings } from './rule';

/** The fields each job type takes beyond the common ones, for "belongs to another job type" messages. */
const JOB_TYPE_FIELDS: Record<JobType, readonly (keyof RawRule)[]> = {
  transcription: [],
  callAnalytics: ['channels', 'redaction'],
  medical: ['specialty', 'type'],
};

/**
 * The checks that depend on the rule's job type: its own options present and sound, no option of
 * another type, and what the type's API cannot take (an encryption context for Call Analytics,
 * a language other than en-US or language identification for medical, deferred execution for
 * medical). Output locations need no check of their own here: checkOutput's rules (OutputKey's
 * characters, a folder, room for the job name) are the tightest of the three APIs' (Call
 * Analytics' OutputLocation is a URI of up to 2,000 characters), so any location a rule passes
 * there, every job type can express.
 */
export function checkJobType(rule: RawRule, where: string, deferredExecution: boolean): string[] {
  const jobType = rule.jobType ?? 'transcription';
  const problems: string[] = [];
  for (const [type, fields] of Object.entries(JOB_TYPE_FIELDS) as [JobType, readonly (keyof RawRule)[]][]) {
    if (type === jobType) continue;
    for (const field of fields) {
      if (rule[field] !== undefined) {
        problems.push(`${where}: ${field} only applies to jobType "${type}", but this rule's jobType is "${jobType}"; remove ${field} or set jobType to "${type}"`);
      }
    }
  }
  if (jobType === 'callAnalytics') {
    if (!rule.channels) {
      problems.push(`${where}: jobType "callAnalytics" needs channels, e.g. {"agent": 0, "customer": 1}: Call Analytics takes two-channel audio and must know which channel is the agent`);
    } else if (rule.channels.agent === rule.channels.customer) {
      problems.push(`${where}: channels.agent and channels.customer are both ${rule.channels.agent}; give them different channels (0 and 1)`);
    }
    if (rule.encryptionContext !== undefined) {
      problems.push(`${where}: encryptionContext cannot be used with jobType "callAnalytics": StartCallAnalyticsJob takes no KMSEncryptionContext; remove it (the key still applies)`);
    }
    if (rule.identifyLanguage && !rule.languageOptions) {
      problems.push(`${where}: identifyLanguage on a Call Analytics rule needs languageOptions: Call Analytics identifies the language only among the options you list`);
    }
    const types = rule.redaction?.piiEntityTypes ?? [];
    if (types.length > PII_ENTITY_TYPES_MAX) problems.push(`${where}: redaction.piiEntityTypes lists ${types.length} types; Transcribe accepts at most ${PII_ENTITY_TYPES_MAX}`);
    for (const [i, type] of types.entries()) {
      if (!PII_ENTITY_TYPES.has(type)) {
        problems.push(`${where}: redaction.piiEntityTypes[${i}] ${JSON.stringify(type)} is not a Transcribe PII type (e.g. "ALL", "NAME", "CREDIT_DEBIT_NUMBER")`);
      }
    }
  }
  if (jobType === 'medical') {
    if (rule.type === undefined) {
      problems.push(`${where}: jobType "medical" needs type: "CONVERSATION" (a clinician and patient) or "DICTATION" (one clinician)`);
    }
    if (rule.specialty !== undefined && !MEDICAL_SPECIALTIES.includes(rule.specialty)) {
      problems.push(`${where}: specialty ${JSON.stringify(rule.specialty)} is not one Transcribe Medical offers; use ${MEDICAL_SPECIALTIES.map((s) => JSON.stringify(s)).join(' or ')}`);
    }
    if (rule.languageCode !== undefined && rule.languageCode !== MEDICAL_LANGUAGE) {
      problems.push(`${where}: languageCode ${JSON.stringify(rule.languageCode)} cannot be used with jobType "medical": Transcribe Medical transcribes ${MEDICAL_LANGUAGE} only`);
    }
    if (rule.identifyLanguage !== undefined || rule.languageOptions !== undefined) {
      problems.push(`${where}: identifyLanguage cannot be used with jobType "medical": Transcribe Medical has no language identification; remove it (medical rules are ${MEDICAL_LANGUAGE})`);
    }
    if (deferredExecution) {
      problems.push(
        `${where}: jobType "medical" does not support deferredExecution (StartMedicalTranscriptionJob has no job queue); ` +
          'set deferredExecution to false, or move this prefix to a transcription rule',
      );
    }
  }
  return problems;
}

export function toJobSettings(rule: RawRule): JobSettings {
  switch (rule.jobType ?? 'transcription') {
    case 'callAnalytics':
      return {
        jobType: 'callAnalytics',
        channels: rule.channels ?? { agent: 0, customer: 1 },
        ...(rule.redaction && {
          redaction: {
            output: rule.redaction.output,
            audio: rule.redaction.audio ?? false,
            ...(rule.redaction.piiEntityTypes && { piiEntityTypes: rule.redaction.piiEntityTypes }),
          },
        }),
      };
    case 'medical':
      return { jobType: 'medical', specialty: rule.specialty ?? MEDICAL_SPECIALTIES[0] ?? 'PRIMARYCARE', type: rule.type ?? 'DICTATION' };
    default:
      return { jobType: 'transcription' };
  }
}
