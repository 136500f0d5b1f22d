#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests (Playwright drives
# it); install it with apt-get when it is missing. The tests fail, not skip, without it in CI.
set -u
browser=${KNOTWORK_CHROMIUM:-/usr/bin/chromium}
[ -x "$browser" ] && exit 0
echo "ensure-chromium: $browser not found; installing chromium with apt-get" >&2
run() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
run apt-get update -qq && DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq chromium >/dev/null
[ -x "$browser" ] && exit 0
echo "ensure-chromium: could not install $browser; the browser tests will fail" >&2
exit 1
