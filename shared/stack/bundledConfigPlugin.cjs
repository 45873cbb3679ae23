/**
 * An esbuild plugin for serverless-esbuild (`custom.esbuild.plugins`; CommonJS, as it loads
 * them). `serverless package` derives the stack (notifications, IAM, key statements) from the
 * file named by PIPELINE_CONFIG_PATH when it is set (serverlessVariables.cjs), while the
 * functions import `pipeline.config.json` (shared/config/settings.ts). Without this plugin a
 * stack packaged from another config would ship functions that judge by the repository's file.
 * With it, every bundle embeds the very file the stack was derived from, less its `$comment`
 * notes, which are for people and which no function reads.
 */
'use strict';
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');

/** The config without any `$comment` member, at any depth. */
function withoutComments(value) {
  if (Array.isArray(value)) return value.map(withoutComments);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== '$comment').map(([key, inner]) => [key, withoutComments(inner)]));
}

/** The plugin; `configPath` (PIPELINE_CONFIG_PATH) replaces the imported pipeline.config.json when set. */
function bundledConfigPlugin(configPath) {
  return {
    name: 'tkp-bundled-config',
    setup(build) {
      build.onResolve({ filter: /(^|[/\\])pipeline\.config\.json$/ }, (args) => ({
        path: configPath ? resolve(configPath) : resolve(args.resolveDir, args.path),
        namespace: 'tkp-config',
      }));
      // Read as JSON whatever the file's extension.
      build.onLoad({ filter: /.*/, namespace: 'tkp-config' }, (args) => ({
        // Less a byte order mark, which Windows PowerShell writes into UTF-8 files.
        contents: JSON.stringify(withoutComments(JSON.parse(readFileSync(args.path, 'utf8').replace(/^\uFEFF/, '')))),
        loader: 'json',
      }));
    },
  };
}

module.exports = [bundledConfigPlugin(process.env.PIPELINE_CONFIG_PATH)];
module.exports.bundledConfigPlugin = bundledConfigPlugin;
module.exports.withoutComments = withoutComments;
