/**
 * A Serverless Framework plugin (CommonJS, as serverless loads local plugins). serverless-esbuild
 * (1.57.2, the latest) stages each function's zip in a directory under the OS temp directory,
 * named `<function>-<pid>-<ms>-<8 hex>`, and never removes it: its release calls a
 * non-recursive remove on a directory it has just filled, and swallows the ENOTEMPTY
 * (floydspace/serverless-esbuild#589, closed unmerged). So every `serverless package` or deploy
 * left one copy of each bundle behind, five per run, for good. This removes exactly those:
 * the directories of this process's functions, named with this process's ID, once the artifacts
 * are made. Nothing else in the temp directory is touched.
 */
'use strict';
const { readdirSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const escaped = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The entries of a temp directory that serverless-esbuild staged for these functions in process `pid`. */
function zipStagingDirs(entries, functionNames, pid) {
  if (functionNames.length === 0) return [];
  const staged = new RegExp(`^(?:${functionNames.map(escaped).join('|')})-${pid}-\\d+-[0-9a-f]{8}$`);
  return entries.filter((entry) => staged.test(entry));
}

class RemoveZipStaging {
  constructor(serverless) {
    const remove = () => {
      const dir = tmpdir();
      let entries;
      try {
        entries = readdirSync(dir);
      } catch {
        return;
      }
      for (const entry of zipStagingDirs(entries, serverless.service.getAllFunctions(), process.pid)) {
        rmSync(join(dir, entry), { recursive: true, force: true });
      }
    };
    this.hooks = { 'after:package:createDeploymentArtifacts': remove, 'after:deploy:function:packageFunction': remove };
  }
}

module.exports = RemoveZipStaging;
module.exports.zipStagingDirs = zipStagingDirs;
