import { DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { KeyProbeDependencies } from './keyProbe';

/**
 * The KMS calls behind a key probe, for whichever client the caller holds: the preflight
 * function's (the start role) or the CLI's (the operator's identity).
 */
export function createKeyProbeAdapters(kms: KMSClient): KeyProbeDependencies {
  return {
    describeKey: async (keyId) => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata,
    dryRun: async (operation, keyArn, encryptionContext) => {
      const context = encryptionContext && { EncryptionContext: encryptionContext };
      if (operation === 'GenerateDataKey') await kms.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: 'AES_256', DryRun: true, ...context }));
      else await kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: new Uint8Array([0]), DryRun: true, ...context }));
    },
  };
}
