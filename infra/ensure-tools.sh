#!/usr/bin/env bash
# Installs what the offline AWS tests need when it is missing: the pinned npm packages of infra/ and a
# Java runtime for DynamoDB Local. Safe to run repeatedly; prints what it does.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "ensure-tools: Node.js and npm are required (apt-get install -y nodejs npm)" >&2
  exit 1
fi
if [ -f "$here/package-lock.json" ] && { [ ! -d "$here/node_modules" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; }; then
  echo "ensure-tools: installing pinned npm packages in infra/"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ -f "$here/conformance/package-lock.json" ] && { [ ! -d "$here/conformance/node_modules" ] || [ "$here/conformance/package-lock.json" -nt "$here/conformance/node_modules/.package-lock.json" ]; }; then
  echo "ensure-tools: installing pinned npm packages in infra/conformance/ (the real @wix/sdk)"
  (cd "$here/conformance" && npm ci --no-audit --no-fund --loglevel=error)
fi

if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tools: installing Java 17 for DynamoDB Local"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "ensure-tools: Java 17+ is required for DynamoDB Local; install it (e.g. apt-get install openjdk-17-jre-headless)" >&2
    exit 1
  fi
fi
