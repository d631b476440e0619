#!/usr/bin/env bash
# Stop the daemons that start-local-slurm.sh started (those named in $RUN_DIR/started-by-us), each by the
# PID in its PID file and only if that process still has the expected name: never by name (no pkill).
# Packages, configuration and accounting data stay, so the next start takes seconds.
set -uo pipefail

RUN_DIR="${SLURM_LOCAL_RUN_DIR:-/run/slurm-local}"
STARTED="$RUN_DIR/started-by-us"
status=0

pidfile_of() {
  case $1 in
    munged) echo /run/munge/munged.pid ;;
    mariadbd) echo /run/mysqld/mysqld.pid ;;
    *) echo "$RUN_DIR/$1.pid" ;;
  esac
}
# gone PID: no such process, or a zombie waiting for its parent
gone() { [ ! -r "/proc/$1/stat" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

[ -f "$STARTED" ] || { echo "stop-local-slurm: nothing was started (no $STARTED)"; exit 0; }

for name in slurmd slurmctld slurmdbd mariadbd munged; do
  grep -qx "$name" "$STARTED" || continue
  pid=$(tr -dc '0-9' 2>/dev/null < "$(pidfile_of "$name")")
  if [ -n "$pid" ] && ! gone "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
    echo "stop-local-slurm: stopping $name (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 150); do gone "$pid" && break; sleep 0.2; done
    if ! gone "$pid"; then
      echo "stop-local-slurm: $name (pid $pid) ignored SIGTERM for 30 s, sending SIGKILL" >&2
      kill -KILL "$pid"
      sleep 1
      gone "$pid" || { echo "stop-local-slurm: ERROR: could not stop $name (pid $pid)" >&2; status=1; continue; }
    fi
  else
    echo "stop-local-slurm: $name was not running"
  fi
  sed -i "/^$name\$/d" "$STARTED"
done
[ -s "$STARTED" ] || rm -f "$STARTED" "$RUN_DIR/pids.txt"
exit $status
