# shellcheck shell=bash
# Shared by scripts/test.sh and scripts/dev.sh: finds, installs and starts
# the Postgres and Redis that Alexus needs, saying what it does as it goes.
# Source it; it defines functions only.

say() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ALEXUS_INSTALL_HINT='Install them with
  Debian/Ubuntu: sudo apt-get install -y postgresql-15 redis-server
  macOS:         brew install postgresql@15 redis'

# can_root: whether this script may run commands as root.
can_root() { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1; }

# as_root CMD...: runs CMD as root, through sudo when we are not root.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

# apt_install PKG...: installs Debian packages when apt-get and root are at
# hand; returns non-zero otherwise.
apt_install() {
	command -v apt-get >/dev/null 2>&1 || return 1
	can_root || return 1
	say "installing $* with apt-get"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
		warn "apt-get update failed; trying the install with the package lists at hand"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

# install_postgres_package: Debian 12 ships postgresql-15; other releases
# ship another major version under the plain name, which works as well.
install_postgres_package() {
	apt_install postgresql-15 || apt_install postgresql
}

# pg_bindir: prints the folder holding the postgres and initdb server
# programs (PATH first, then the newest distribution install); fails when
# there is none. Debian keeps them off PATH.
pg_bindir() {
	local p d
	if p=$(command -v postgres 2>/dev/null) && [ -x "$(dirname "$p")/initdb" ]; then
		dirname "$p"
		return 0
	fi
	while IFS= read -r d; do
		if [ -x "$d/postgres" ] && [ -x "$d/initdb" ]; then
			printf '%s\n' "$d"
			return 0
		fi
	done < <(printf '%s\n' /usr/lib/postgresql/*/bin /usr/pgsql-*/bin \
		/opt/homebrew/opt/postgresql@*/bin /usr/local/opt/postgresql@*/bin | sort -rV)
	return 1
}

# url_host_port URL DEFAULT_PORT: prints "host port" of a postgres:// or
# redis:// URL.
url_host_port() {
	local rest=${1#*://} host port
	rest=${rest#*@}
	rest=${rest%%[/?]*}
	host=${rest%:*}
	port=${rest##*:}
	if [ "$host" = "$rest" ]; then
		port=$2
	fi
	printf '%s %s\n' "${host:-127.0.0.1}" "${port:-$2}"
}

# is_local_default URL PORT: whether URL names this machine's server on its
# standard port, the only one these scripts may start or install.
is_local_default() {
	local host port
	read -r host port < <(url_host_port "$1" "$2")
	case $host in
	127.0.0.1 | localhost | ::1 | '[::1]') [ "$port" = "$2" ] ;;
	*) return 1 ;;
	esac
}

# redact URL: the URL without its password, for printing.
redact() { printf '%s\n' "$1" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#'; }

# tcp_open HOST PORT: whether something accepts TCP connections there.
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_until SECONDS WHAT CMD...: polls CMD until it succeeds or the time is up.
wait_until() {
	local limit=$1 what=$2 i
	shift 2
	for ((i = 0; i < limit * 5; i++)); do
		if "$@"; then
			return 0
		fi
		sleep 0.2
	done
	die "$what did not become ready within ${limit}s"
}

pg_ready() {
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -d "$1"
	else
		local host port
		read -r host port < <(url_host_port "$1" 5432)
		tcp_open "$host" "$port"
	fi
}

redis_ready() {
	if command -v redis-cli >/dev/null 2>&1; then
		[ "$(redis-cli -u "$1" ping 2>/dev/null)" = PONG ]
	else
		local host port
		read -r host port < <(url_host_port "$1" 6379)
		tcp_open "$host" "$port"
	fi
}

# pg_trust_loopback VERSION: lets 127.0.0.1 and ::1 connect without a
# password, as the test URLs expect. Applied only to a cluster this script
# has just installed or created, never to one that was already there.
pg_trust_loopback() {
	local hba=/etc/postgresql/$1/main/pg_hba.conf
	say "postgres: trusting loopback connections in $hba (fresh test cluster)"
	as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
}

# ensure_postgres URL: makes the server at URL answer, starting (and, on a
# machine without it, installing) the local cluster when URL is the local
# default; then checks that URL can log in.
ensure_postgres() {
	local url=$1 fresh=0 ver
	if pg_ready "$url"; then
		say "postgres: running at $(redact "$url")"
	else
		is_local_default "$url" 5432 ||
			die "postgres at $(redact "$url") does not answer; start it, or unset ALEXUS_TEST_POSTGRES_URL to let this script manage the local one"
		if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! pg_bindir >/dev/null; then
			say "postgres: not installed"
			install_postgres_package ||
				die "postgres is not installed and could not be installed. $ALEXUS_INSTALL_HINT"
			fresh=1
		fi
		command -v pg_ctlcluster >/dev/null 2>&1 ||
			die "postgres is installed but not as a Debian cluster; start it yourself (macOS: brew services start postgresql@15) and rerun"
		ver=$(find /etc/postgresql -mindepth 2 -maxdepth 2 -name main -printf '%h\n' 2>/dev/null | xargs -r -n1 basename | sort -V | tail -n1)
		if [ -z "$ver" ]; then
			ver=$(basename "$(dirname "$(pg_bindir)")")
			say "postgres: creating cluster $ver/main"
			as_root pg_createcluster "$ver" main
			fresh=1
		fi
		if [ "$fresh" = 1 ]; then
			pg_trust_loopback "$ver"
		fi
		say "postgres: starting cluster $ver/main"
		# A cluster that started on its own during the install only needs
		# to reread pg_hba.conf; "already running" is not an error here.
		as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start ||
			as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload ||
			true
		wait_until 60 "postgres at $(redact "$url")" pg_ready "$url"
		say "postgres: running at $(redact "$url")"
	fi
	if command -v psql >/dev/null 2>&1 && ! psql "$url" -Atqc 'SELECT 1' >/dev/null; then
		die "postgres answers at $(redact "$url") but refuses the login; let 127.0.0.1 connect with trust in pg_hba.conf, or put the password in ALEXUS_TEST_POSTGRES_URL"
	fi
}

# ensure_redis URL: makes the server at URL answer, starting (and, when
# missing, installing) a local one without persistence when URL is the
# local default.
ensure_redis() {
	local url=$1
	if redis_ready "$url"; then
		say "redis: running at $(redact "$url")"
		return 0
	fi
	is_local_default "$url" 6379 ||
		die "redis at $(redact "$url") does not answer; start it, or unset ALEXUS_TEST_REDIS_URL to let this script manage the local one"
	if ! command -v redis-server >/dev/null 2>&1; then
		say "redis: not installed"
		apt_install redis-server ||
			die "redis-server is not installed and could not be installed. $ALEXUS_INSTALL_HINT"
	fi
	if ! redis_ready "$url"; then
		say "redis: starting redis-server on 127.0.0.1:6379 (no persistence)"
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 \
			--save "" --appendonly no --dir "${TMPDIR:-/tmp}" >/dev/null
	fi
	wait_until 30 "redis at $(redact "$url")" redis_ready "$url"
	say "redis: running at $(redact "$url")"
}

# ensure_server_binaries: for `alexus dev`, which starts private servers
# itself, only the programs must exist; system services may stay stopped.
# alexus dev starts both private servers unless both ALEXUS_POSTGRES_URL and
# ALEXUS_REDIS_URL are set, so both programs are checked unless both are.
ensure_server_binaries() {
	if [ -n "${ALEXUS_POSTGRES_URL:-}" ] && [ -n "${ALEXUS_REDIS_URL:-}" ]; then
		return 0
	fi
	local need_pg=0 need_redis=0
	if ! pg_bindir >/dev/null; then
		need_pg=1
	fi
	if ! command -v redis-server >/dev/null 2>&1; then
		need_redis=1
	fi
	if [ "$need_pg" = 0 ] && [ "$need_redis" = 0 ]; then
		say "postgres: server programs in $(pg_bindir)"
		say "redis: $(command -v redis-server)"
		return 0
	fi
	local missing=()
	[ "$need_pg" = 0 ] || missing+=("postgres/initdb")
	[ "$need_redis" = 0 ] || missing+=("redis-server")
	say "missing: ${missing[*]}"
	if command -v apt-get >/dev/null 2>&1 && can_root; then
		if [ "$need_pg" = 1 ]; then
			install_postgres_package || die "could not install postgres. $ALEXUS_INSTALL_HINT"
		fi
		if [ "$need_redis" = 1 ]; then
			apt_install redis-server || die "could not install redis-server. $ALEXUS_INSTALL_HINT"
		fi
		return 0
	fi
	die "alexus dev needs ${missing[*]} to start its private servers. $ALEXUS_INSTALL_HINT
or set ALEXUS_POSTGRES_URL and ALEXUS_REDIS_URL to servers you already run."
}
