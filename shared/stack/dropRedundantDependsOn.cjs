/**
 * A Serverless Framework plugin (CommonJS, as serverless loads local plugins). For a function
 * with a `role:` of its own, serverless writes `DependsOn: [TheRole]` beside the
 * `Fn::GetAtt: [TheRole, Arn]` it already puts in `Role`, which cfn-lint reports as W3005 (a
 * dependency already enforced). CloudFormation orders resources by their Ref and GetAtt alone,
 * so this drops every DependsOn entry that the resource already references, leaving the
 * packaged template lint-clean. Nothing else changes: a DependsOn on a resource that is not
 * referenced stays.
 */
'use strict';

/** The logical IDs a template value references through Ref, Fn::GetAtt or Fn::Sub. */
function referencedIds(value, found = new Set()) {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, found);
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') found.add(inner);
      else if (key === 'Fn::GetAtt') found.add(Array.isArray(inner) ? inner[0] : String(inner).split('.')[0]);
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(inner) ? inner[0] : inner;
        for (const match of String(text).matchAll(/\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}/g)) found.add(match[1]);
        if (Array.isArray(inner)) referencedIds(inner[1], found);
      } else referencedIds(inner, found);
    }
  }
  return found;
}

/** The template's resources with each DependsOn cut to what the resource does not already reference. */
function dropRedundantDependsOn(resources) {
  for (const resource of Object.values(resources)) {
    if (!resource || resource.DependsOn === undefined) continue;
    const referenced = referencedIds(resource.Properties);
    const listed = [].concat(resource.DependsOn);
    const kept = listed.filter((id) => !referenced.has(id));
    if (kept.length === listed.length) continue;
    if (kept.length === 0) delete resource.DependsOn;
    else resource.DependsOn = Array.isArray(resource.DependsOn) ? kept : kept[0];
  }
  return resources;
}

class DropRedundantDependsOn {
  constructor(serverless) {
    this.hooks = {
      // After serverless.yml's own resources are merged in, before the template is written.
      'after:aws:package:finalize:mergeCustomProviderResources': () =>
        dropRedundantDependsOn(serverless.service.provider.compiledCloudFormationTemplate.Resources),
    };
  }
}

module.exports = DropRedundantDependsOn;
module.exports.dropRedundantDependsOn = dropRedundantDependsOn;
