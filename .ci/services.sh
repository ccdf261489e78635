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

# --- NATS JetStream (issue 19, events) ---
# The message-bus tests publish to NATS with JetStream on 127.0.0.1:4222 (unique stream names per test), and
# one test runs its own nats-server to stop and restart it. Debian's nats-server; started here in the
# background when nothing answers on 4222 (no service manager in the container). CI sets
# SLASHGUARD_REQUIRE_NATS=1 (.ci/run), so an unreachable server fails those tests instead of skipping them.
nats_up() { (exec 3<>/dev/tcp/127.0.0.1/4222 && head -c 4 <&3 | grep -q INFO) 2>/dev/null; }
if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
  echo "installing nats-server (message-bus tests)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq nats-server >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq nats-server >/dev/null 2>&1 || echo "nats-server could not be installed"
  fi
fi
if ! nats_up; then
  nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  if [ -x "$nats_bin" ]; then
    echo "starting nats-server with JetStream on 127.0.0.1:4222"
    mkdir -p /tmp/slashguard-ci-nats
    nohup "$nats_bin" -a 127.0.0.1 -p 4222 -js -sd /tmp/slashguard-ci-nats >/tmp/slashguard-ci-nats.log 2>&1 &
    for _ in $(seq 1 30); do nats_up && break; sleep 1; done
  fi
fi
if nats_up; then echo "NATS reachable on 127.0.0.1:4222"; else echo "NATS is NOT reachable on 127.0.0.1:4222: message-bus tests fail under SLASHGUARD_REQUIRE_NATS=1"; fi
# --- end NATS ---
