#!/usr/bin/env sh
# Builds kindling/nodejs:local without a registry: this machine's Node.js, the libraries it
# loads and the action proxy, FROM scratch. Does nothing when the image is up to date.
# The Docker runtime's tests and `kindling up --runtime docker` call the same builder.
set -eu
cd "$(dirname "$0")/../.."
npx tsc -b packages/runtime-docker
node --input-type=module -e "
  import { ensureLocalNodeRuntimeImage } from '@kindling/runtime-docker';
  const image = await ensureLocalNodeRuntimeImage();
  console.log(image.built ? 'built' : 'up to date:', image.tag);
"
