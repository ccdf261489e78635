#!/usr/bin/env bash
# Services the tests need besides PostgreSQL (run by .ci/run from the repo root). Idempotent and quiet.
# etcd v3 (Debian's etcd-server) for the failover lease tests; they skip with a message when it is missing.
set -euo pipefail

if ! command -v etcd >/dev/null 2>&1; then
  echo "installing etcd-server (failover lease tests)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq etcd-server >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq etcd-server >/dev/null 2>&1 || echo "etcd-server could not be installed: etcd tests will be skipped"
  fi
fi
# Debian starts no etcd service in a container; the tests start their own members on loopback ports.
command -v etcd >/dev/null 2>&1 && etcd --version | head -1 || true

# Debian's chromium for the dashboard's browser tests (playwright-core drives it); they skip with a
# message when it is missing.
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (dashboard browser tests)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq chromium >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq chromium >/dev/null 2>&1 || echo "chromium could not be installed: browser tests will be skipped"
  fi
fi
command -v chromium >/dev/null 2>&1 && chromium --version 2>/dev/null | head -1 || true
