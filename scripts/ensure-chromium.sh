#!/bin/sh
# The browser test drives Debian's Chromium through Playwright; it never downloads
# a browser of its own. Install Chromium when we can, else say how.
set -eu
browser="${CRM_TEST_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    exit 0
fi
echo "error: no Chromium at $browser; run 'sudo apt-get install chromium' or set CRM_TEST_CHROMIUM" >&2
exit 1
