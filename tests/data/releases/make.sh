#!/usr/bin/env bash
# Makes the state database of one release of the bridge, as that release's own `demo` leaves it
# (one request received over SOAP, built, sent, acknowledged; its lotes, attempt and audit),
# plus a dashboard account added with that release's `user add`. The upgrade tests
# (tests/integration/test_upgrades.py) run today's `db upgrade` on a copy of each.
#
#   bash tests/data/releases/make.sh COMMIT NAME     # e.g. 86357f6 r1-0002
#
# It runs the release's code from a git worktree on the current virtual environment's
# packages (their versions satisfy every release's pins so far), on 127.0.0.1 only.
set -euo pipefail
commit="$1" name="$2"
here="$(cd "$(dirname "$0")" && pwd)"
tree="$(mktemp -d)"
git -C "$here" worktree add --detach --force "$tree" "$commit" >/dev/null
trap 'git -C "$here" worktree remove --force "$tree"' EXIT
cd "$tree"
out="$(env -u UGPP_BRIDGE_DATABASE_URL -u UGPP_BRIDGE_SOURCE_URL PYTHONPATH="$tree" \
  python -m ugpp_bridge demo 2>&1)"
folder="$(printf '%s\n' "$out" | grep -o '/tmp/ugpp-bridge-demo-[A-Za-z0-9_]*' | head -n 1)"
printf 'clave-de-prueba-larga-1\n' | env UGPP_BRIDGE_DATABASE_URL="sqlite:///$folder/state.db" \
  PYTHONPATH="$tree" python -m ugpp_bridge user add operadora --role operator --password-stdin >/dev/null
cp "$folder/state.db" "$here/$name.db"
# A single file in rollback-journal mode: opening it never leaves -wal/-shm files beside it.
python -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=DELETE'); c.close()" "$here/$name.db"
rm -rf "$folder"
echo "$here/$name.db from $commit"
