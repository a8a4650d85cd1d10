#!/usr/bin/env bash
# Idempotent installer for a single-node SLURM test cluster (Debian 12, run as root).
# Installs SLURM (slurmctld, slurmd, client), munge, MariaDB and slurmdbd.
# Exits 0 quickly when everything is already present.
set -euo pipefail

PACKAGES=(slurm-wlm slurm-client munge mariadb-server mariadb-client slurmdbd)
BINARIES=(slurmctld slurmd slurmdbd sbatch sacct sinfo munged mariadbd mariadb-install-db)

have_all() {
    local b
    for b in "${BINARIES[@]}"; do
        command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || return 1
    done
}

if have_all; then
    echo "install_slurm.sh: SLURM, munge, MariaDB and slurmdbd already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install_slurm.sh: must run as root to install ${PACKAGES[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Keep package scripts from trying to start services (no init system in containers/CI).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT

install() {
    apt-get install -y --no-install-recommends "${PACKAGES[@]}"
}

# apt-get update only when the package lists are missing or the install fails without it.
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || ! install; then
    apt-get update
    install
fi

have_all || { echo "install_slurm.sh: binaries still missing after install" >&2; exit 1; }
echo "install_slurm.sh: done"
