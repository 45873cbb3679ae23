import { build } from 'esbuild';
import { deflateRawSync } from 'node:zlib';
const r = await build({ entryPoints: [process.argv[2]], bundle: true, minify: true, write: false, target: 'node22', platform: 'node', format: 'cjs', mainFields: ['module','main'], alias: { '@aws-sdk/credential-provider-node': '/work/main/shared/aws/lambdaCredentials.ts' }, legalComments: 'none', logLevel: 'silent' });
const b = r.outputFiles[0].contents; console.log((b.length/1024).toFixed(1)+'KB raw', (deflateRawSync(b,{level:9}).length/1024).toFixed(1)+'KB deflated');
