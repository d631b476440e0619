#!/usr/bin/env bash
# Start a real single-node SLURM cluster on this machine (Debian 12, slurm-wlm from apt) so that
# `snakemake --profile profiles/slurm` runs unchanged: partitions main (default) and gpu, account ciacct,
# fake GPUs as gres/gpu, accounting through slurmdbd + MariaDB (the plugin polls sacct).
#
# Needs root and apt. No systemd: each daemon is started directly with stdin/stdout/stderr on /dev/null
# (so it never holds the caller's pipes); its name is recorded in $RUN_DIR/started-by-us and its PID in
# $RUN_DIR/pids.txt. Stop with stop-local-slurm.sh (by PID, never by name). Idempotent: installs only
# missing packages and starts only daemons that are not running.
#
# Environment:
#   SLURM_LOCAL_FAKE_GPUS   gres/gpu on the node (default 1)
#   SLURM_LOCAL_PARTITIONS  partitions, the first is the default ("main gpu")
#   SLURM_LOCAL_ACCOUNT     account created for the current user ("ciacct")
#   SLURM_LOCAL_MEM_MB      node RealMemory (default 85% of the machine's)
set -euo pipefail

FAKE_GPUS="${SLURM_LOCAL_FAKE_GPUS:-1}"
PARTITIONS="${SLURM_LOCAL_PARTITIONS:-main gpu}"
ACCOUNT="${SLURM_LOCAL_ACCOUNT:-ciacct}"
CLUSTER=localci
STATE_DIR=/var/lib/slurm-local
RUN_DIR="${SLURM_LOCAL_RUN_DIR:-/run/slurm-local}"
LOG_DIR=/var/log/slurm-local
DB_PASS=slurmlocalci
MARKER="# Written by faceaudit tests/slurm/start-local-slurm.sh"
CONF_DIR=/etc/slurm
MYSQL_SOCK=/run/mysqld/mysqld.sock
MYSQL_PID=/run/mysqld/mysqld.pid

log() { echo "[start-local-slurm ${SECONDS}s] $*"; }
die() {
  echo "start-local-slurm: ERROR: $1" >&2
  if [ -n "${2:-}" ] && [ -f "$2" ]; then echo "---- last lines of $2 ----" >&2; tail -n 25 "$2" >&2; fi
  exit 1
}
[ "$(id -u)" = 0 ] || die "must run as root"
[[ "$FAKE_GPUS" =~ ^[0-9]+$ ]] || die "SLURM_LOCAL_FAKE_GPUS must be an integer, not '$FAKE_GPUS'"

# alive PIDFILE NAME: the PID file names a live, non-zombie process called NAME
alive() {
  local pid
  pid=$(tr -dc '0-9' 2>/dev/null < "$1") || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  [ "$(awk '{print $3}' "/proc/$pid/stat")" != Z ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}
# wait_for SECONDS WHAT COMMAND...: poll COMMAND every 0.2 s
wait_for() {
  local end=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.2
  done
  log "$what ready"
}
mark_started() { grep -qx "$1" "$RUN_DIR/started-by-us" 2>/dev/null || echo "$1" >> "$RUN_DIR/started-by-us"; }

# ---------------------------------------------------------------- packages
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
MISSING=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || MISSING+=("$package")
done
if [ ${#MISSING[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "apt-get not found: cannot install ${MISSING[*]}"
  log "installing ${MISSING[*]}"
  # Keep the packages' postinst scripts from starting services: we start the daemons ourselves.
  ADDED_POLICY=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && ADDED_POLICY=1
  fi
  APT_OK=1
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${MISSING[@]}"; } \
    > /tmp/start-local-slurm-apt.log 2>&1 || APT_OK=0
  [ $ADDED_POLICY = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $APT_OK = 1 ] || die "apt-get install failed" /tmp/start-local-slurm-apt.log
  log "packages installed"
fi

# ---------------------------------------------------------------- directories, munge key
install -d -m 755 -o slurm -g slurm "$STATE_DIR" "$STATE_DIR/slurmctld" "$LOG_DIR" "$RUN_DIR"
install -d -m 755 "$STATE_DIR/slurmd" "$CONF_DIR"
install -d -m 755 -o munge -g munge /run/munge
install -d -m 700 -o munge -g munge /etc/munge /var/lib/munge /var/log/munge
install -d -m 755 -o mysql -g mysql /run/mysqld
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key --force
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi

# ---------------------------------------------------------------- configuration
# `slurmd -C` prints the node's geometry, e.g. "NodeName=vm CPUs=2 Boards=1 ... RealMemory=24105".
HARDWARE=$(slurmd -C | head -n1)
hardware() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<< "$HARDWARE"; }
MEM_MB="${SLURM_LOCAL_MEM_MB:-$(($(hardware RealMemory) * 85 / 100))}"

# A gres/gpu needs File= naming a character device (else slurmd drops it and the node goes INVAL):
# /dev/null for one, for more extra device nodes with /dev/null's numbers. Nothing opens them.
NODE_GRES=""
GRES_CONF="AutoDetect=off"
if [ "$FAKE_GPUS" -gt 0 ]; then
  install -d -m 755 "$STATE_DIR/fake-gpu"
  for ((index = 0; index < FAKE_GPUS; index++)); do
    device="$STATE_DIR/fake-gpu/nvidia$index"
    [ -c "$device" ] || { rm -f "$device"; mknod -m 666 "$device" c 1 3; }
  done
  NODE_GRES=" Gres=gpu:$FAKE_GPUS"
  GRES_CONF+=$'\n'"Name=gpu File=$STATE_DIR/fake-gpu/nvidia[0-$((FAKE_GPUS - 1))]"
fi
PARTITION_LINES=""
DEFAULT=YES
for partition in $PARTITIONS; do
  PARTITION_LINES+="PartitionName=$partition Nodes=localhost Default=$DEFAULT MaxTime=INFINITE State=UP"$'\n'
  DEFAULT=NO
done

# TaskPlugin=task/affinity (task/none makes srun complain about CPU binding); DefMemPerCPU, else a job
# without --mem takes the whole node; MinJobAge keeps finished jobs visible to squeue for 5 minutes.
SLURM_CONF="$MARKER
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
ReturnToService=2
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmdSpoolDir=$STATE_DIR/slurmd
StateSaveLocation=$STATE_DIR/slurmctld
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
MinJobAge=300
InactiveLimit=0
KillWait=5
Waittime=0
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(hardware CPUs) Boards=$(hardware Boards) SocketsPerBoard=$(hardware SocketsPerBoard) CoresPerSocket=$(hardware CoresPerSocket) ThreadsPerCore=$(hardware ThreadsPerCore) RealMemory=$MEM_MB$NODE_GRES State=UNKNOWN
$PARTITION_LINES"
SLURMDBD_CONF="$MARKER
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
PidFile=$RUN_DIR/slurmdbd.pid
LogFile=$LOG_DIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db"

if [ -f "$CONF_DIR/slurm.conf" ] && ! grep -q "^$MARKER" "$CONF_DIR/slurm.conf"; then
  die "$CONF_DIR/slurm.conf exists and was not written by this script: this machine has its own SLURM set-up"
fi
CHANGED=0
write_if_changed() { # FILE CONTENT MODE OWNER
  printf '%s\n' "$2" | cmp -s - "$1" && return 0
  printf '%s\n' "$2" > "$1.tmp" && chmod "$3" "$1.tmp" && chown "$4" "$1.tmp" && mv "$1.tmp" "$1"
  CHANGED=1
}
write_if_changed "$CONF_DIR/slurm.conf" "$SLURM_CONF" 644 root:root
write_if_changed "$CONF_DIR/gres.conf" "$MARKER"$'\n'"$GRES_CONF" 644 root:root
write_if_changed "$CONF_DIR/slurmdbd.conf" "$SLURMDBD_CONF" 600 slurm:slurm
if [ $CHANGED = 1 ] && { alive "$RUN_DIR/slurmctld.pid" slurmctld || alive "$RUN_DIR/slurmd.pid" slurmd; }; then
  die "the configuration changed while slurmctld/slurmd run: run stop-local-slurm.sh first"
fi

# ---------------------------------------------------------------- daemons
if ! alive /run/munge/munged.pid munged; then
  runuser -u munge -- /usr/sbin/munged < /dev/null > /dev/null 2>&1 || die "munged failed to start" /var/log/munge/munged.log
  mark_started munged
  wait_for 15 munged bash -c 'munge -n | unmunge' || die "munge round trip fails" /var/log/munge/munged.log
fi

if ! alive "$MYSQL_PID" mariadbd; then
  if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql > /tmp/start-local-slurm-mariadb.log 2>&1 \
      || die "mariadb-install-db failed" /tmp/start-local-slurm-mariadb.log
  fi
  # Unix socket only, no TCP port.
  setsid /usr/sbin/mariadbd --user=mysql --skip-networking --socket="$MYSQL_SOCK" --pid-file="$MYSQL_PID" \
    --log-error=/var/lib/mysql/slurm-local.err --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900 \
    < /dev/null > /dev/null 2>&1 &
  mark_started mariadbd
  wait_for 60 mariadbd mariadb-admin --socket="$MYSQL_SOCK" ping || die "mariadbd did not start" /var/lib/mysql/slurm-local.err
fi
mariadb --socket="$MYSQL_SOCK" -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;" || die "could not create the database user"

if ! alive "$RUN_DIR/slurmdbd.pid" slurmdbd; then
  slurmdbd < /dev/null > /dev/null 2>&1 || die "slurmdbd failed to start" "$LOG_DIR/slurmdbd.log"
  mark_started slurmdbd
  wait_for 60 slurmdbd timeout 5 sacctmgr -n list cluster || die "slurmdbd does not answer" "$LOG_DIR/slurmdbd.log"
fi

if ! alive "$RUN_DIR/slurmctld.pid" slurmctld; then
  slurmctld < /dev/null > /dev/null 2>&1 || die "slurmctld failed to start" "$LOG_DIR/slurmctld.log"
  mark_started slurmctld
  wait_for 60 slurmctld bash -c 'scontrol ping | grep -q UP' || die "slurmctld does not answer" "$LOG_DIR/slurmctld.log"
fi
if ! alive "$RUN_DIR/slurmd.pid" slurmd; then
  # -N localhost: the node's name does not depend on the machine's hostname.
  slurmd -N localhost < /dev/null > /dev/null 2>&1 || die "slurmd failed to start" "$LOG_DIR/slurmd.log"
  mark_started slurmd
fi
end=$((SECONDS + 60))
until [[ "$(sinfo -h -n localhost -o %T 2>/dev/null)" =~ ^(idle|mixed|allocated|completing)$ ]]; do
  alive "$RUN_DIR/slurmd.pid" slurmd || die "slurmd exited" "$LOG_DIR/slurmd.log"
  [ "$SECONDS" -lt "$end" ] || { sinfo -R >&2; die "node localhost not ready after 60 s" "$LOG_DIR/slurmctld.log"; }
  sleep 0.2
done
log "node localhost ready"

# ---------------------------------------------------------------- account
wait_for 30 "cluster $CLUSTER in slurmdbd" bash -c "sacctmgr -n -P list cluster format=cluster | grep -qx $CLUSTER" \
  || die "cluster $CLUSTER not registered in slurmdbd" "$LOG_DIR/slurmctld.log"
USER_NAME=$(id -un)
sacctmgr -n -P list account "$ACCOUNT" format=account | grep -qx "$ACCOUNT" \
  || sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" > /dev/null
sacctmgr -n -P list assoc user="$USER_NAME" account="$ACCOUNT" format=account | grep -qx "$ACCOUNT" \
  || sacctmgr -i add user "$USER_NAME" account="$ACCOUNT" cluster="$CLUSTER" > /dev/null

# ---------------------------------------------------------------- PIDs
for pair in munged:/run/munge/munged.pid mariadbd:$MYSQL_PID slurmdbd:$RUN_DIR/slurmdbd.pid \
  slurmctld:$RUN_DIR/slurmctld.pid slurmd:$RUN_DIR/slurmd.pid; do
  name=${pair%%:*} pidfile=${pair#*:}
  if alive "$pidfile" "$name"; then echo "$name $(tr -dc '0-9' < "$pidfile")"; fi
done > "$RUN_DIR/pids.txt"
log "cluster up: $(sinfo --version), gpus=$FAKE_GPUS, partitions: $PARTITIONS, account: $ACCOUNT; PIDs in $RUN_DIR/pids.txt"
