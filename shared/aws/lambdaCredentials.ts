/**
 * Stands in for `@aws-sdk/credential-provider-node` in the deployed bundles only (an esbuild
 * alias in serverless.yml). Lambda always hands a function its role's credentials in the
 * environment, so the full provider chain (profiles, SSO, web identity, IMDS, and the STS and
 * SSO clients behind them) is dead weight: about 90 KB of minified code parsed at every cold
 * start. Tests and the local mode do not use the alias and keep the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
