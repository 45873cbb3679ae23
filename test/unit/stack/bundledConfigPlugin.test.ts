import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { bundledConfigPlugin, withoutComments } = require('../../../shared/stack/bundledConfigPlugin.cjs') as {
  bundledConfigPlugin(configPath: string | undefined): Plugin;
  withoutComments(value: unknown): unknown;
};

/** Bundles a module that imports ./pipeline.config.json, as shared/config/settings.ts does, and returns what it embeds. */
async function embedded(configPath: string | undefined): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'tkp-plugin-'));
  writeFileSync(join(dir, 'pipeline.config.json'), JSON.stringify({ $comment: 'the repository file', rules: [{ prefix: 'repo/' }] }));
  writeFileSync(join(dir, 'entry.js'), "import config from './pipeline.config.json'; module.exports = config;");
  const out = await build({ entryPoints: [join(dir, 'entry.js')], bundle: true, write: false, format: 'cjs', platform: 'node', plugins: [bundledConfigPlugin(configPath)] });
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', out.outputFiles[0]!.text)(module, module.exports, require);
  return module.exports;
}

describe('bundledConfigPlugin', () => {
  it('embeds the file PIPELINE_CONFIG_PATH names instead of the repository one, whatever its extension', async () => {
    const theirs = join(mkdtempSync(join(tmpdir(), 'tkp-theirs-')), 'theirs.cfg');
    writeFileSync(theirs, JSON.stringify({ $comment: 'theirs', rules: [{ prefix: "Zoë's calls/", kmsKey: 'alias/zoe', $comment: 'a note' }] }));
    expect(await embedded(theirs)).toEqual({ rules: [{ prefix: "Zoë's calls/", kmsKey: 'alias/zoe' }] });
  });

  it('embeds a file saved with a byte order mark, as Windows PowerShell writes UTF-8', async () => {
    const theirs = join(mkdtempSync(join(tmpdir(), 'tkp-bom-')), 'theirs.json');
    writeFileSync(theirs, `\uFEFF${JSON.stringify({ rules: [{ prefix: 'win/', kmsKey: 'alias/win' }] })}`);
    expect(await embedded(theirs)).toEqual({ rules: [{ prefix: 'win/', kmsKey: 'alias/win' }] });
  });

  it('embeds the repository file without PIPELINE_CONFIG_PATH, less its $comment notes', async () => {
    expect(await embedded(undefined)).toEqual({ rules: [{ prefix: 'repo/' }] });
  });

  it('drops $comment at any depth and nothing else', () => {
    expect(withoutComments({ $comment: 'x', a: [{ $comment: 'y', b: 1 }, 'c', null], d: { e: { $comment: 'z', f: false } } })).toEqual({ a: [{ b: 1 }, 'c', null], d: { e: { f: false } } });
  });
});
