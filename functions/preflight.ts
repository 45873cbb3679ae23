import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { kmsClient } from '../shared/aws/clients';
import { logger } from '../shared/aws/observability';
import { configFingerprint } from '../shared/config/expectedEncryption';
import { loadPreflightSettings } from '../shared/config/settings';
import { probeRuleKey, type KeyProbe } from '../shared/start/keyProbe';
import { createKeyProbeAdapters } from '../shared/start/keyProbeAdapters';

const settings = loadPreflightSettings();
const deps = createKeyProbeAdapters(kmsClient());
const identity = { arn: settings.roleArn, account: settings.roleArn.split(':')[4] ?? '' };

export interface PreflightResult {
  configFingerprint: string;
  identity: string;
  probes: KeyProbe[];
}

// `tkp check --deployed` invokes this with the start role's credentials, so key policies, SCPs
// and permission boundaries apply to the DryRun calls exactly as they will to real jobs.
export const handler = middy<unknown, PreflightResult, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async () => {
    const probes = await Promise.all(settings.config.rules.map((rule) => probeRuleKey(deps, rule, identity)));
    logger.info('preflight finished', { rules: probes.length, refused: probes.filter((p) => p.key?.ok === false || Object.values(p.dryRuns).some((c) => !c.ok)).length });
    return { configFingerprint: configFingerprint(settings.config.rules), identity: identity.arn, probes };
  });
