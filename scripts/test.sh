#!/usr/bin/env bash
# The test command: what the README tells you to run and what CI (.ci/run)
# runs. It makes sure Postgres and Redis are up (starting or installing
# them), then runs every check CI enforces, stopping at the first failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
. scripts/lib/services.sh

current=""
started=$SECONDS
step() {
	current=$1
	printf '\n==> [%s] %s\n' "$((SECONDS - started))s" "$1"
}
report() {
	local rc=$?
	if [ "$rc" -ne 0 ]; then
		printf '\nFAILED: %s (exit %s)\n' "$current" "$rc" >&2
	fi
}
trap report EXIT

export ALEXUS_TEST_POSTGRES_URL="${ALEXUS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
export ALEXUS_TEST_REDIS_URL="${ALEXUS_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

step "services: postgres and redis"
ensure_postgres "$ALEXUS_TEST_POSTGRES_URL"
ensure_redis "$ALEXUS_TEST_REDIS_URL"

# buf needs buf/validate/validate.proto, which is printed, not committed.
step "print third_party/proto (validateproto)"
go run ./tools/validateproto

step "go vet"
go vet ./...

step "buf lint"
go tool buf lint

step "codegen is up to date (buf generate, then no diff in gen/)"
go tool buf generate
git diff --exit-code -- gen/
if [ -n "$(git status --porcelain --untracked-files=all -- gen/)" ]; then
	git status --short --untracked-files=all -- gen/ >&2
	die "buf generate made files under gen/ that are not committed"
fi

step "gofmt"
unformatted=$(git ls-files -z --cached --others --exclude-standard -- '*.go' ':(exclude)gen/' | xargs -0 -r gofmt -l)
if [ -n "$unformatted" ]; then
	printf '%s\n' "$unformatted" >&2
	die "these files need gofmt -w"
fi

step "go test -race"
go test -race -count=1 ./...

current=""
printf '\n==> all checks passed in %ss\n' "$((SECONDS - started))"
