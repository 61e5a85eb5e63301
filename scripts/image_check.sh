#!/usr/bin/env bash
# Build the container image from the Dockerfile and run FluffyMail from it, end to end.
#
#   scripts/image_check.sh          build, then check (what CI runs)
#   scripts/image_check.sh build    build only (`./dev image`)
#
# No Docker daemon is needed: the image is built with buildah (`--isolation chroot`, as root)
# and its processes run with `buildah run`. Where no container registry is reachable, the
# Dockerfile's base (python:3.11-slim) is stood in for by a Debian base with Python made by
# mmdebstrap from the mirrors this machine's apt already uses; it is kept as a local image
# for the ISO week, so reruns skip it. The machine's CA bundle is mounted into the build's RUN
# steps (never into the image), so pip and uv reach PyPI through an intercepting proxy.
#
# The check: `fluffymail db upgrade` into a fresh database on the machine's PostgreSQL, then
# `fluffymail web` and `fluffymail worker` from the image, sharing a data directory as a
# volume; a small mbox is uploaded through the web API, the worker syncs it and runs the jobs
# that follow (contacts, relationships) until the queue is drained; then the database and the
# web API must show the messages and scored contacts, the image's own HEALTHCHECK must pass
# in both containers, and both must stop on SIGTERM. Everything started is removed on exit.
#
# Settings (environment):
#   IMAGE         tag to build (default localhost/fluffymail:dev)
#   BASE_IMAGE    build on this image instead of the local Debian base (e.g. python:3.11-slim)
#   DATABASE_URL  the PostgreSQL server to create the check's database on
#                 (default postgresql://postgres@127.0.0.1:5432/postgres)
#   CA_BUNDLE     CA certificates for the build's downloads (default: the machine's)
#
# Exit status: 0 passed; 1 failed (the message says where, with the logs' last lines);
# 77 skipped: this machine cannot run buildah/mmdebstrap (the message says why).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${1:-check}"
IMAGE="${IMAGE:-localhost/fluffymail:dev}"
ADMIN_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
BASE_REPO=localhost/fluffymail-base
BASE_PACKAGES=(python3 python3-venv ca-certificates passwd)
SKIPPED=77
OWNER=owner@fluffymail-check.example.com
SHUTDOWN_GRACE=5

case "$MODE" in
  build | check) ;;
  *) sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

WORK=$(mktemp -d /tmp/fluffymail-image-check.XXXXXX)
TAG="fluffymail-check-$$"  # names of this run's containers and database
DATABASE="${TAG//-/_}"
CONTAINERS=()
PROCESSES=()   # the `buildah run` processes started in the background
web_pid=
worker_pid=
DB_CREATED=
LOGS=()        # the logs of the step in progress: their last lines are shown if it fails

say() { printf '[image] %s\n' "$*"; }

fail() {
  printf '[image] FAILED: %s\n' "$*" >&2
  for log in "${LOGS[@]}"; do
    [ -s "$log" ] || continue
    printf -- '--- last lines of %s ---\n' "$(basename "$log")" >&2
    tail -n 25 "$log" >&2
  done
  exit 1
}

skip() {
  printf '[image] SKIPPED: %s\n' "$*" >&2
  exit "$SKIPPED"
}

# ---- cleanup -------------------------------------------------------------------------------

descendants() {  # $1: pid; prints its descendants, deepest last
  local child
  for child in $(pgrep -P "$1" || true); do
    echo "$child"
    descendants "$child"
  done
}

container_process() {  # $1: a background `buildah run`; prints the pid of the command it runs
  local pid=$1 child inside=
  while child=$(pgrep -P "$pid" | head -n 1) && [ -n "$child" ]; do
    pid=$child
    if [[ "$(ps -o args= -p "$pid" 2>/dev/null)" == buildah* ]]; then
      inside=1  # `buildah run`, buildah-chroot-runtime, buildah-chroot-exec: then the command
    elif [ -n "$inside" ]; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

stop_process() {  # $1: a background `buildah run`; $2: seconds to wait after $3 (SIGTERM)
  local runner=$1 main
  kill -0 "$runner" 2>/dev/null || return 0
  if main=$(container_process "$runner"); then
    kill -s "${3:-SIGTERM}" "$main" 2>/dev/null || true
  fi
  for _ in $(seq "$(( $2 * 5 ))"); do
    kill -0 "$runner" 2>/dev/null || return 0
    sleep 0.2
  done
  # shellcheck disable=SC2046  # pids, one word each
  kill -KILL $(descendants "$runner") "$runner" 2>/dev/null || true
  wait "$runner" 2>/dev/null || true
  return 1
}

cleanup() {
  local status=$? pid name
  trap - EXIT INT TERM
  for pid in "${PROCESSES[@]}"; do stop_process "$pid" 2 || true; done
  for name in "${CONTAINERS[@]}"; do buildah rm "$name" >/dev/null 2>&1 || true; done
  if [ -n "$DB_CREATED" ]; then
    psql "$ADMIN_URL" -qAtX -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null 2>&1 ||
      say "could not drop the database $DATABASE"
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

remove_leftovers() {  # of earlier runs that were killed before their cleanup
  local name pid
  for name in $(buildah containers --format '{{.ContainerName}}' 2>/dev/null); do
    [[ "$name" =~ ^fluffymail-check-([0-9]+)- ]] || continue
    pid=${BASH_REMATCH[1]}
    kill -0 "$pid" 2>/dev/null || buildah rm "$name" >/dev/null 2>&1 || true
  done
  for name in $(psql "$ADMIN_URL" -qAtX -c \
      "SELECT datname FROM pg_database WHERE datname ~ '^fluffymail_check_[0-9]+$'" 2>/dev/null); do
    kill -0 "${name##*_}" 2>/dev/null ||
      psql "$ADMIN_URL" -qAtX -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
  done
}

# ---- tools ---------------------------------------------------------------------------------

require_tools() {
  [ "$(id -u)" -eq 0 ] || skip "buildah --isolation chroot and mmdebstrap need root (run as root)"
  local missing=()
  command -v buildah >/dev/null 2>&1 || missing+=(buildah)
  command -v mmdebstrap >/dev/null 2>&1 || [ -n "${BASE_IMAGE:-}" ] || missing+=(mmdebstrap)
  if [ "$MODE" = check ]; then
    for tool in psql pg_isready curl python3; do
      command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (the check uses it)"
    done
    pg_isready -q -d "$ADMIN_URL" ||
      skip "no PostgreSQL server answers at $ADMIN_URL (set DATABASE_URL) to run the image against"
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || skip "${missing[*]} missing and no apt-get to install them"
  say "installing ${missing[*]} (Debian packages)"
  local apt=(apt-get -qq -o DPkg::Lock::Timeout=300)
  if ! { "${apt[@]}" update && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y \
      --no-install-recommends "${missing[@]}"; } >"$WORK/apt.log" 2>&1; then
    tail -n 5 "$WORK/apt.log" >&2
    skip "could not install ${missing[*]} with apt-get (see above)"
  fi
}

# ---- the base image ------------------------------------------------------------------------

debian_sources() {  # one-line apt sources for the machine's Debian release, from its apt config
  local codename=$1
  # shellcheck disable=SC2016  # apt's own $(FIELD) placeholders
  apt-get indextargets --format '$(ORIGIN)|$(REPO_URI)|$(RELEASE)|$(COMPONENT)' \
      'Created-By: Packages' 2>/dev/null |
    awk -F'|' -v c="$codename" \
      '$1 == "Debian" && ($3 == c || $3 == c "-updates" || $3 == c "-security") {
         print "deb " $2 " " $3 " " $4 }' |
    sort -u
}

make_base() {  # sets BASE to the local Debian base, making it unless this week's exists
  local codename sources key tag
  # shellcheck source=/dev/null
  codename=$(. /etc/os-release && [ "${ID:-}" = debian ] && echo "${VERSION_CODENAME:-}") ||
    skip "no Debian apt configuration here to make a base image from (set BASE_IMAGE instead)"
  sources=$(debian_sources "$codename")
  if [ -z "$sources" ]; then  # no package lists yet: apt has not read its mirrors
    apt-get -qq -o DPkg::Lock::Timeout=300 update >/dev/null 2>&1 || true
    sources=$(debian_sources "$codename")
  fi
  [ -n "$sources" ] || fail "apt knows no Debian mirror for $codename (apt-get indextargets)"
  key=$(printf '%s\n' "$sources" "${BASE_PACKAGES[@]}" | sha256sum | cut -c1-12)
  tag="$BASE_REPO:$codename-$(date -u +%GW%V)-$key"
  BASE=$tag
  if buildah inspect --type image "$tag" >/dev/null 2>&1; then
    say "base: $tag (made earlier this week)"
    return 0
  fi
  say "base: making $tag with mmdebstrap from:"
  local started=$SECONDS mirrors=()
  mapfile -t mirrors <<<"$sources"
  printf '    %s\n' "${mirrors[@]}"
  LOGS=("$WORK/mmdebstrap.log")
  timeout 600 mmdebstrap --variant=minbase --include="$(IFS=,; echo "${BASE_PACKAGES[*]}")" \
      --aptopt='Acquire::Retries "3"' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      "$codename" "$WORK/base.tar" "${mirrors[@]}" >"$WORK/mmdebstrap.log" 2>&1 ||
    fail "mmdebstrap could not make the $codename base"
  local container
  container=$(buildah from scratch)
  CONTAINERS+=("$container")
  buildah add --quiet "$container" "$WORK/base.tar" / >/dev/null
  rm -f "$WORK/base.tar"
  # uv ships its own CA roots and pip may use certifi's: both follow these to the system bundle
  # (which the build replaces with the machine's).
  buildah config --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    --env PIP_CERT=/etc/ssl/certs/ca-certificates.crt --cmd python3 "$container"
  buildah run --isolation chroot "$container" -- python3 -c \
    'import sys, venv; assert sys.version_info >= (3, 11), sys.version' ||
    fail "the base's python3 is older than 3.11"
  buildah commit --quiet --rm "$container" "$tag" >/dev/null
  # Older weeks' bases are no longer used.
  buildah images --format '{{.Name}}:{{.Tag}}' "$BASE_REPO" 2>/dev/null | grep -vxF "$tag" |
    xargs -r buildah rmi >/dev/null 2>&1 || true
  LOGS=()
  say "base: made in $((SECONDS - started)) s"
}

# ---- build ---------------------------------------------------------------------------------

build() {
  local ca="${CA_BUNDLE:-}" args=() started
  BASE="${BASE_IMAGE:-}"
  [ -n "$BASE" ] || make_base
  for candidate in "$ca" "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
    [ -n "$candidate" ] && [ -f "$candidate" ] && { ca=$candidate; break; }
  done
  [ -f "$ca" ] && args+=(--volume "$(realpath "$ca"):/etc/ssl/certs/ca-certificates.crt:ro")
  # Docker's predefined proxy build args: used by RUN steps, not kept in the image.
  for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -n "${!var:-}" ] && args+=(--build-arg "$var=${!var}")
  done
  say "build: $IMAGE from $BASE"
  LOGS=("$WORK/build.log")
  started=$SECONDS
  timeout 1200 buildah bud --isolation chroot --layers --force-rm --format docker \
      --build-arg "BASE_IMAGE=$BASE" "${args[@]}" -t "$IMAGE" -f Dockerfile . \
      >"$WORK/build.log" 2>&1 || fail "the image did not build (buildah bud)"
  LOGS=()
  say "build: done in $((SECONDS - started)) s"
  prune_older_builds
}

prune_older_builds() {  # untagged images this build neither made nor reused: stale layer cache
  local made
  made=$(grep -oE '^--> (Using cache )?[0-9a-f]{11}' "$WORK/build.log" | grep -oE '[0-9a-f]{11}$')
  buildah images -a --format '{{.ID}} {{.Name}}' |
    awk '$2 == "<none>" { print substr($1, 1, 11) }' | grep -vxF -e "$made" |
    xargs -r buildah rmi >/dev/null 2>&1 || true
}

# ---- run -----------------------------------------------------------------------------------

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

new_container() {  # $1: role; the working container is named $TAG-<role>
  buildah from --quiet --pull=never --name "$TAG-$1" "$IMAGE" >/dev/null ||
    fail "could not create a container from $IMAGE"
  CONTAINERS+=("$TAG-$1")
}

in_container() {  # $1: time limit (s), $2: role, then `buildah run` options, `--`, the command
  local limit=$1 role=$2 options=()
  shift 2
  while [ "$1" != -- ]; do options+=("$1"); shift; done
  timeout --kill-after=10 "$limit" buildah run --isolation chroot --network host \
    "${ENV_ARGS[@]}" "${options[@]}" "$TAG-$role" "$@"
}

start() {  # $1: role, then the command; runs in the background, logging to $WORK/<role>.log
  local role=$1
  shift
  new_container "$role"
  LOGS+=("$WORK/$role.log")
  in_container 900 "$role" --volume "$WORK/data:/app/data" -- "$@" >"$WORK/$role.log" 2>&1 &
  PROCESSES+=("$!")
  printf -v "${role}_pid" '%s' "$!"
}

healthcheck_argv() {  # the image's own HEALTHCHECK command, one word a line
  buildah inspect --type image "$IMAGE" | python3 -c '
import json, sys
check = (json.load(sys.stdin)["Docker"]["config"] or {}).get("Healthcheck") or {}
test = check.get("Test") or []
if test[:1] != ["CMD"]:
    sys.exit(f"the image has no exec-form HEALTHCHECK: {test!r}")
print("\n".join(test[1:]))'
}

wait_healthy() {  # $1: role, $2: env for the health check; 90 s at most
  local role=$1 env=$2 pid_var="${1}_pid"
  for _ in $(seq 90); do
    kill -0 "${!pid_var}" 2>/dev/null || fail "$role exited before it was healthy"
    if in_container 30 "$role" --env "$env" -- "${HEALTH[@]}" >"$WORK/health-$role.log" 2>&1
    then
      say "$role: healthy ($(cat "$WORK/health-$role.log"))"
      return 0
    fi
    sleep 1
  done
  LOGS+=("$WORK/health-$role.log")
  fail "$role: the image's HEALTHCHECK did not pass within 90 s"
}

sql() { psql "$DB_URL" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }

day() { date -u -R -d "-$1 days"; }

write_mbox() {  # $1: path; five messages: two people the owner writes to, and a newsletter
  cat >"$1" <<EOF
From $OWNER Mon Jan  1 00:00:00 2024
From: Casey Owner <$OWNER>
To: Alice Archer <alice@archer-labs.example.org>
Subject: Kickoff next week
Date: $(day 20)
Message-ID: <kickoff@check.example.com>

Alice, shall we meet on Tuesday to plan the launch?

From alice@archer-labs.example.org Mon Jan  1 00:00:00 2024
From: Alice Archer <alice@archer-labs.example.org>
To: Casey Owner <$OWNER>
Subject: Re: Kickoff next week
Date: $(day 19)
Message-ID: <kickoff-reply@archer-labs.example.org>
In-Reply-To: <kickoff@check.example.com>

Tuesday works. I will bring the plan.

Alice Archer
Head of Product, Archer Labs

From $OWNER Mon Jan  1 00:00:00 2024
From: Casey Owner <$OWNER>
To: Bob Brook <bob@brook.example.net>
Cc: Alice Archer <alice@archer-labs.example.org>
Subject: Introduction: Bob, meet Alice
Date: $(day 10)
Message-ID: <intro@check.example.com>

Bob, meet Alice; Alice, meet Bob. You should talk about the launch.

From bob@brook.example.net Mon Jan  1 00:00:00 2024
From: Bob Brook <bob@brook.example.net>
To: Casey Owner <$OWNER>
Subject: Re: Introduction: Bob, meet Alice
Date: $(day 9)
Message-ID: <intro-reply@brook.example.net>
In-Reply-To: <intro@check.example.com>

Thanks Casey, glad to meet you Alice.

From news@mailer.example.com Mon Jan  1 00:00:00 2024
From: Weekly Digest <news@mailer.example.com>
To: $OWNER
Subject: This week's digest
Date: $(day 2)
Message-ID: <digest-1@mailer.example.com>
List-Unsubscribe: <mailto:unsubscribe@mailer.example.com>
Precedence: bulk

The news of the week.
EOF
}

wait_drained() {  # until no job is due or running, twice in a row; 240 s at most
  local quiet=0 pending
  for _ in $(seq 240); do
    kill -0 "$worker_pid" 2>/dev/null || fail "the worker exited while jobs were pending"
    # (the connection's next sync, in 15 minutes, is not due)
    pending=$(sql "SELECT count(*) FROM queue.job WHERE state IN ('created', 'retry', 'active')
                   AND start_after < now() + interval '1 minute'")
    if [ "$pending" -eq 0 ] && [ "$(sql 'SELECT count(*) FROM crm.messages')" -gt 0 ]; then
      quiet=$((quiet + 1))
      [ "$quiet" -ge 2 ] && return 0
    else
      quiet=0
    fi
    sleep 1
  done
  fail "the queue was not drained within 240 s: $(sql "SELECT string_agg(name || ' ' || state,
    ', ') FROM queue.job WHERE state IN ('created', 'retry', 'active')")"
}

check() {
  local started=$SECONDS web_port metrics_port secret key
  web_port=$(free_port)
  metrics_port=$(free_port)
  secret=$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')
  psql "$ADMIN_URL" -qAtX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DATABASE" >/dev/null ||
    fail "could not create a database on $ADMIN_URL"
  DB_CREATED=1
  DB_URL="${ADMIN_URL%%\?*}"
  DB_URL="${DB_URL%/*}/$DATABASE"
  ENV_ARGS=(--env "DATABASE_URL=$DB_URL" --env "FLUFFYMAIL_SECRET_KEY=$secret"
            --env FLUFFYMAIL_MIGRATE_ON_START=false
            --env "FLUFFYMAIL_SHUTDOWN_GRACE=$SHUTDOWN_GRACE"
            # one burst of mail: no point batching it before enrichment and analysis (as the demo)
            --env FLUFFYMAIL_ENRICH_DEBOUNCE=1 --env FLUFFYMAIL_ANALYZE_DEBOUNCE=1)
  mapfile -t HEALTH < <(healthcheck_argv)
  [ ${#HEALTH[@]} -gt 0 ] || fail "the image has no exec-form HEALTHCHECK"

  # The release step, as every platform runs it, and an account for the API.
  new_container release
  LOGS=("$WORK/release.log")
  in_container 120 release -- fluffymail db upgrade >"$WORK/release.log" 2>&1 ||
    fail "fluffymail db upgrade failed in the image"
  say "migrate: $(tail -n 1 "$WORK/release.log")"
  in_container 60 release -- fluffymail users create "$OWNER" --name "Casey Owner" \
    --password "image-check-$$" >>"$WORK/release.log" 2>&1 || fail "fluffymail users create failed"
  key=$(in_container 60 release -- fluffymail users token "$OWNER" 2>>"$WORK/release.log" |
    tail -n 1) || fail "fluffymail users token failed"
  LOGS=()

  # The two processes, sharing the data directory (uploads) as a volume, as web and worker
  # containers must.
  mkdir -p "$WORK/data"
  chown 10001:10001 "$WORK/data"
  start web fluffymail web --host 127.0.0.1 --port "$web_port"
  start worker fluffymail worker --metrics-port "$metrics_port"
  wait_healthy web "PORT=$web_port"
  wait_healthy worker "HEALTHCHECK_URL=http://127.0.0.1:$metrics_port/healthz"
  local api="http://127.0.0.1:$web_port"
  curl -fsS --max-time 10 "$api/readyz" >/dev/null || fail "web: /readyz does not answer 200"

  # A mailbox uploaded through the API; the worker does the rest.
  write_mbox "$WORK/check.mbox"
  local upload
  upload=$(curl -sS --max-time 30 -w '\n%{http_code}' -H "Authorization: Bearer $key" \
    -F "file=@$WORK/check.mbox" -F display_name=check "$api/api/connections/upload") ||
    fail "web: the upload request failed"
  [ "$(tail -n 1 <<<"$upload")" = 201 ] || fail "web: upload answered $upload"
  say "upload: accepted, a sync-emails job is queued"
  wait_drained

  local messages failed contacts
  messages=$(sql 'SELECT count(*) FROM crm.messages')
  failed=$(sql "SELECT count(*) FROM queue.job WHERE state = 'failed'")
  [ "$messages" -eq 5 ] || fail "expected the 5 messages of the mbox in crm.messages, found $messages"
  [ "$failed" -eq 0 ] || fail "$failed job(s) failed: $(sql "SELECT string_agg(name || ': ' ||
    coalesce(output->>'message', ''), '; ') FROM queue.job WHERE state = 'failed'")"
  contacts=$(curl -fsS --max-time 10 -H "Authorization: Bearer $key" "$api/api/contacts") ||
    fail "web: GET /api/contacts failed"
  python3 - "$contacts" <<'EOF' || fail "the contacts the web API lists are not the expected ones"
import json, sys
page = json.loads(sys.argv[1])
found = {item["primary_address"]: item for item in page["items"]}
print("[image] contacts: " + ", ".join(
    f"{i['name']} <{a}> score {i['score']}" for a, i in sorted(found.items())))
expected = {"alice@archer-labs.example.org", "bob@brook.example.net"}
assert expected <= set(found), f"missing {expected - set(found)}"
assert "news@mailer.example.com" not in found, "a newsletter sender became a contact"
unscored = [a for a in expected if found[a]["score"] is None]
assert not unscored, f"not scored (analyze-relationships did not run): {unscored}"
EOF
  say "sync: $messages messages, $(sql 'SELECT count(*) FROM crm.contacts') contacts," \
    "$(sql 'SELECT count(*) FROM queue.job') jobs, none failed"

  # A platform stops a container with the image's STOPSIGNAL, then waits a while.
  local signal
  signal=$(buildah inspect --type image --format '{{.Docker.Config.StopSignal}}' "$IMAGE")
  if ! { stop_process "$worker_pid" $((SHUTDOWN_GRACE + 10)) "$signal" &&
          grep -q '"action": "worker.stopped"' "$WORK/worker.log"; }; then
    fail "the worker did not drain and stop on $signal"
  fi
  if ! { stop_process "$web_pid" $((SHUTDOWN_GRACE + 10)) "$signal" &&
          grep -q 'Finished server process' "$WORK/web.log"; }; then
    fail "the web app did not shut down on $signal"
  fi
  say "stop: web and worker shut down cleanly on $signal"
  say "run: done in $((SECONDS - started)) s"
}

require_tools
[ "$MODE" = build ] || remove_leftovers
build
[ "$MODE" = build ] && { say "built $IMAGE"; exit 0; }
check
say "passed: $IMAGE builds, migrates, serves, syncs a mailbox through its worker, and is healthy"
