#!/usr/bin/env bash
# The system packages the suite, the benchmarks and the platform need, installed from Debian's packages.
# Shared by `make test`, `make bench` and .ci/run, so a newcomer following the README gets what CI gets.
# Installs only what is missing; where it cannot install (not root, no apt-get), it stops with one line
# that says what to install.
set -euo pipefail

# command -> Debian package
declare -A NEEDED=(
  [chromium]=chromium            # browser tests, through Playwright with executable_path (never `playwright install`)
  [espeak-ng]=espeak-ng          # synthetic speech with known boundaries for the alignment tests
  [nginx]=nginx                  # the reverse proxy of the multi-process deployment and its test
  [fc-list]=fontconfig           # fonts for the browser and the CJK subset
)
# Files that are not commands -> Debian package
declare -A NEEDED_FILES=(
  [/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc]=fonts-noto-cjk   # serif CJK face for the poems
  [/usr/sbin/rabbitmq-server]=rabbitmq-server   # the AMQP broker test starts a private node when none runs
)

missing=()
for command in "${!NEEDED[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${NEEDED[$command]}")
done
for file in "${!NEEDED_FILES[@]}"; do
  [ -e "$file" ] || missing+=("${NEEDED_FILES[$file]}")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "${EUID}" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: run 'sudo apt-get install ${missing[*]}' (Debian/Ubuntu), then try again" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
# nginx from Debian starts a server on port 80 when run under systemd; the project starts its own.
for command in "${!NEEDED[@]}"; do
  command -v "$command" >/dev/null 2>&1 || { echo "installing ${NEEDED[$command]} did not provide $command" >&2; exit 1; }
done
