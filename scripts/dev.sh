#!/usr/bin/env bash
# The run command: `alexus dev` with every plane in one process. alexus dev
# starts private Postgres and Redis servers itself (in .alexus, or
# ALEXUS_DATA_DIR), so this script needs only their programs installed, not
# any system service running. Arguments go to alexus dev (e.g. --demo).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
. scripts/lib/services.sh

ensure_server_binaries
say "go run ./cmd/alexus dev $*"
exec go run ./cmd/alexus dev "$@"
