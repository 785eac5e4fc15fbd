#!/bin/sh
# Vendor socket.io-client's one browser build into the demo shop's static files (no CDN at run time).
# Run from the project root: scripts/vendor_socketio.sh [version]. Commit the result with its VERSION and LICENSE.
set -eu
VERSION="${1:-4.8.1}"
DEST="shop_api/static/vendor"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "socket.io-client@$VERSION" >/dev/null && tar -xzf socket.io-client-*.tgz)
mkdir -p "$DEST"
cp "$TMP/package/dist/socket.io.min.js" "$DEST/socket.io.min.js"
cp "$TMP/package/LICENSE" "$DEST/socket.io-client.LICENSE"
echo "socket.io-client $VERSION (npm), dist/socket.io.min.js" > "$DEST/socket.io-client.VERSION"
echo "vendored socket.io-client $VERSION into $DEST"
