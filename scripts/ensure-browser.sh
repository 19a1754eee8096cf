#!/usr/bin/env bash
# Install Debian's headless Chromium for the dashboard test when it is missing and apt can
# install it (root, Debian). Never fails: without a browser that test skips with a reason.
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium for the dashboard browser test (apt)…"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
    || echo "could not install chromium; the dashboard browser test will be skipped"
fi
exit 0
