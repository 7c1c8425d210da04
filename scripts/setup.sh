#!/usr/bin/env bash
# Installs what RunSurge needs from Debian: bubblewrap (the default sandbox), a real python3 for tasks,
# OpenSSH server and client (the SSH executor and its tests), Chromium (the UI's browser tests, driven by
# playwright-core). Idempotent and quiet when all is present. `setup.sh runtime` (what `npm start` runs) installs
# only what a coordinator and its nodes need: no SSH server, no browser. `setup.sh bench` (what `npm run bench` runs)
# adds Debian's python3-distributed, so the speedup benchmark can compare with a Dask LocalCluster.
set -euo pipefail
tests=true
bench=false
[ "${1:-}" = runtime ] && tests=false
[ "${1:-}" = bench ] && { tests=false; bench=true; }

need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
[ -x /usr/bin/python3 ] || need+=(python3)
if $bench; then
  /usr/bin/python3 -c 'import distributed' >/dev/null 2>&1 || need+=(python3-distributed)
fi
if $tests; then
  [ -x /usr/sbin/sshd ] || need+=(openssh-server)
  command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
  [ -x /usr/bin/chromium ] || need+=(chromium)
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "runsurge setup: installing Debian packages: ${need[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "runsurge setup: not root and no sudo; install these packages yourself: ${need[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
