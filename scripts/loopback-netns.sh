#!/usr/bin/env bash
# Run a command in a network namespace of its own whose only interface is loopback, when
# this machine allows it (root: `unshare -n`; otherwise an unprivileged user namespace:
# `unshare -rn`); else run it as it is. The end-to-end tests use it so that WebRTC in
# Chromium can only gather loopback candidates: every byte stays on 127.0.0.1 / ::1.
#
#   bash scripts/loopback-netns.sh node --test tests/e2e/
set -euo pipefail
inner='ip link set lo up && exec "$@"'
if ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
  echo "loopback-netns: unshare or ip missing; running on the host's loopback" >&2
  exec "$@"
elif [ "$(id -u)" = 0 ] && unshare -n ip link set lo up 2>/dev/null; then
  exec unshare -n bash -c "$inner" bash "$@"
elif unshare -rn ip link set lo up 2>/dev/null; then
  exec unshare -rn bash -c "$inner" bash "$@"
else
  echo "loopback-netns: no network namespace here; running on the host's loopback" >&2
  exec "$@"
fi
