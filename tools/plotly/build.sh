#!/bin/sh
# Build assess/static/vendor/plotly-VERSION-assess.min.js from entry.js (see README.md).
set -eu
cd "$(dirname "$0")"
npm install --no-audit --no-fund --no-save
version=$(node -p 'require("plotly.js/package.json").version')
out=../../assess/static/vendor/plotly-$version-assess.min.js
mkdir -p ../../assess/static/vendor
rm -f ../../assess/static/vendor/plotly-*-assess.min.*
# As plotly.js's own build (its esbuild-config.js) sets them; no CSS: only map traces,
# which assess does not draw, import one.
npx esbuild entry.js --bundle --minify --format=iife --global-name=Plotly --target=es2016 \
  --define:global=window --define:define.amd=false --define:process.env.NODE_DEBUG=false \
  --loader:.css=empty --legal-comments=eof --log-level=warning \
  --banner:js="/*! plotly.js v$version, traces: scatter bar box heatmap scatterpolar (assess's build, tools/plotly) | Copyright 2012-2026, Plotly, Inc. | MIT license */" \
  --outfile="$out"
ls -l "$out"
