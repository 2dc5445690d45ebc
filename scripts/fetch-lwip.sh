#!/usr/bin/env bash
# Fetch lwIP's source from Debian's archive into third_party/ (ignored by git):
# `apt-get source` through a private deb-src list and private apt state, so the
# machine's own apt configuration is neither needed nor changed. Only the
# upstream tarball is unpacked; nothing of it is committed.
# Usage: fetch-lwip.sh [DEST]   (default: third_party/ beside this script's repo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/third_party}
[ -f "$dest/lwip/src/Filelists.cmake" ] && exit 0

apt_dir=$dest/.apt
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/state/lists/partial" \
         "$apt_dir/cache/archives/partial" "$dest/src"
cat > "$apt_dir/sources.list.d/lwip-src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
          -o "Dir::State=$apt_dir/state" -o "Dir::Cache=$apt_dir/cache"
          -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" -qq update
(cd "$dest/src" && apt-get "${apt_opts[@]}" -qq source --download-only lwip)
tarball=$(ls "$dest"/src/lwip_*.orig.tar.* | head -n1)
rm -rf "$dest/lwip.tmp" && mkdir -p "$dest/lwip.tmp"
tar -xf "$tarball" -C "$dest/lwip.tmp" --strip-components=1
rm -rf "$dest/lwip" && mv "$dest/lwip.tmp" "$dest/lwip"
echo "lwIP $(basename "$tarball") unpacked in $dest/lwip"
