// Bridges serverless.yml to the deploy-time modules beside this file: `${file(./shared/stack/serverlessVariables.cjs)}`.
// The config is validated here too, so `serverless package` fails on a bad config.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { require: requireTs } = require('tsx/cjs/api');

const { derivedOutputs, derivedResources, functionEnvironment } = requireTs('./stackResources.ts', __filename);
const { verifierEventPatterns } = requireTs('./eventPatterns.ts', __filename);
const { QUEUE_SETTINGS, startRatePerSecond } = requireTs('./queueSettings.ts', __filename);
const { validatePipelineConfig } = requireTs('../config/pipelineConfig.ts', __filename);
const { readRawConfig } = requireTs('../config/settings.ts', __filename);
const { duplicateMemberProblems } = requireTs('../config/duplicateMembers.ts', __filename);
const { ConfigError } = requireTs('../aws/errors.ts', __filename);
const { jobNamePrefixProblem } = requireTs('../aws/jobName.ts', __filename);
const { alertingNames, outcomeBusName, stackParamProblems } = requireTs('./stackNames.ts', __filename);

let derived;

/**
 * `serverless invoke local` cannot resolve Fn::Sub or Fn::GetAtt (and resolves Ref only against
 * a deployed stack). When invoking locally, each stack-specific variable is taken from the
 * shell instead, e.g. `START_QUEUE_URL=... serverless invoke local -f start -p events/...`,
 * falling back to the deployed stack's value through Ref where that works.
 */
function invokingLocally() {
  const args = process.argv.slice(2);
  return args[0] === 'invoke' && args[1] === 'local';
}

function localEnvironment(deployed) {
  return Object.fromEntries(
    Object.entries(deployed).map(([name, value]) => {
      if (process.env[name] !== undefined) return [name, process.env[name]];
      return [name, typeof value === 'object' && value !== null && !('Ref' in value) ? '' : value];
    }),
  );
}

async function derive({ resolveVariable }) {
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const region = await resolveVariable('self:provider.region');
  const jobNamePrefix = await resolveVariable('self:custom.jobNamePrefix');
  const existingInputBucket = (await resolveVariable('self:custom.existingInputBucket')) || undefined;
  const existingTranscriptBucket = (await resolveVariable('self:custom.existingTranscriptBucket')) || undefined;
  const existingAlarmTopicArn = (await resolveVariable('self:custom.alarmTopicArn')) || undefined;
  const alarmEmail = (await resolveVariable('self:custom.alarmEmail')) || undefined;
  const paramProblems = stackParamProblems({ inputBucket: existingInputBucket, transcriptBucket: existingTranscriptBucket, alarmTopicArn: existingAlarmTopicArn, alarmEmail });
  if (paramProblems.length > 0) throw new Error(`the --param values are invalid:\n  - ${paramProblems.join('\n  - ')}`);
  const problem = jobNamePrefixProblem(jobNamePrefix);
  if (problem) throw new Error(`custom.jobNamePrefix ${JSON.stringify(jobNamePrefix)} ${problem}`);
  const { raw, source } = readRawConfig(process.env);
  // The file's text, which the bundles embed too: a member it names twice reads one way and parses another.
  const duplicates = duplicateMemberProblems(readFileSync(process.env.PIPELINE_CONFIG_PATH || join(__dirname, '../../pipeline.config.json'), 'utf8'));
  if (duplicates.length > 0) throw new ConfigError(source, duplicates);
  const createdName = (role) => new RegExp(`^tkp-${stage}-${role}-\\d{12}-${region}$`);
  const config = validatePipelineConfig(raw, {
    region,
    source,
    ...(!existingInputBucket && { isInputBucketName: (bucket) => createdName('input').test(bucket) }),
    ...(!existingTranscriptBucket && { isTranscriptBucketName: (bucket) => createdName('transcripts').test(bucket) }),
    ...(existingInputBucket && { inputBucket: existingInputBucket }),
    ...(existingTranscriptBucket && { transcriptBucket: existingTranscriptBucket }),
  });
  const ctx = { service, stage, region, jobNamePrefix, config, existingInputBucket, existingTranscriptBucket, existingAlarmTopicArn, alarmEmail };
  return {
    env: invokingLocally() ? localEnvironment(functionEnvironment(ctx)) : functionEnvironment(ctx),
    verifierPatterns: verifierEventPatterns(jobNamePrefix),
    ruleNames: alertingNames(ctx).rules,
    outcomeBusName: outcomeBusName(ctx),
    resources: derivedResources(ctx),
    outputs: derivedOutputs(ctx),
    queue: { ...QUEUE_SETTINGS, startRatePerSecond: startRatePerSecond() },
  };
}

// Serverless calls this once per reference and in several phases; an early phase may not have
// params yet, so only a successful derivation is kept. Serverless prints an error's stack: a
// refusal of the config or the parameters (a plain Error or a ConfigError, each saying what to
// change) is printed as its message alone; anything else, a bug, keeps its stack.
module.exports = async (helpers) => {
  derived ??= derive(helpers).catch((error) => {
    derived = undefined;
    if (error instanceof Error && (error.name === 'Error' || error.name === 'ConfigError') && !error.code) error.stack = error.message;
    throw error;
  });
  return derived;
};
