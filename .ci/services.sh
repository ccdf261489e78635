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

# --- deploy tools (issue 21) ---
# Debian's prometheus (promtool and the server) for the alerting-rule tests, and systemd-analyze (package
# systemd) for the units in deploy/systemd. No Prometheus service is started (there is no systemd here,
# and policy-rc.d refuses service starts): the tests run their own server on a loopback port. CI sets
# SLASHGUARD_REQUIRE_DEPLOY_TOOLS=1 (.ci/run), so a tool that could not be installed fails its tests.
for pair in promtool:prometheus systemd-analyze:systemd; do
  tool=${pair%%:*}
  pkg=${pair#*:}
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "installing $pkg ($tool)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null 2>&1; then
      apt-get update -qq >/dev/null 2>&1 || true
      apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null 2>&1 || echo "$pkg could not be installed"
    fi
  fi
done
command -v prometheus >/dev/null 2>&1 && prometheus --version 2>&1 | head -1 || true
command -v systemd-analyze >/dev/null 2>&1 && systemd-analyze --version | head -1 || true
# --- end deploy tools ---

# --- PKCS#11 (issue 19) ---
# Debian's SoftHSM2 for the PKCS#11 key source tests (test/e2e/hsm, the CometBFT and Substrate signers
# with their keys in a token); they skip with a message when it is missing (CI: SLASHGUARD_REQUIRE_SOFTHSM=1 fails them).
if ! command -v softhsm2-util >/dev/null 2>&1; then
  echo "installing softhsm2 (PKCS#11 tests)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq softhsm2 >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq softhsm2 >/dev/null 2>&1 || echo "softhsm2 could not be installed: PKCS#11 tests will be skipped"
  fi
fi
command -v softhsm2-util >/dev/null 2>&1 && softhsm2-util --version | sed 's/^/softhsm2 /' || true
# --- end PKCS#11 ---
