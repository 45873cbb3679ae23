/**
 * An esbuild plugin for serverless-esbuild (`custom.esbuild.plugins`; CommonJS, as it loads
 * them). `serverless package` derives the stack (notifications, IAM, key statements) from the
 * file named by PIPELINE_CONFIG_PATH when it is set (serverlessVariables.cjs), while the
 * functions import `pipeline.config.json` (shared/config/settings.ts). Without this plugin a
 * stack packaged from another config would ship functions that judge by the repository's file.
 * With it, every bundle embeds the very file the stack was derived from.
 */
'use strict';
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');

/** The plugin for a config path (none: the bundles keep importing pipeline.config.json). */
function bundledConfigPlugin(configPath) {
  return {
    name: 'tkp-bundled-config',
    setup(build) {
      if (!configPath) return;
      const path = resolve(configPath);
      build.onResolve({ filter: /(^|[/\\])pipeline\.config\.json$/ }, () => ({ path, namespace: 'tkp-config' }));
      // Read as JSON whatever the file's extension.
      build.onLoad({ filter: /.*/, namespace: 'tkp-config' }, () => ({ contents: readFileSync(path, 'utf8'), loader: 'json' }));
    },
  };
}

module.exports = [bundledConfigPlugin(process.env.PIPELINE_CONFIG_PATH)];
module.exports.bundledConfigPlugin = bundledConfigPlugin;
