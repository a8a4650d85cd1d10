"""A real single-node SLURM cluster on 127.0.0.1 for tests.

``SlurmCluster(workdir)`` starts munged (default socket, reused when one already
answers), MariaDB (own datadir under ``workdir``), slurmdbd, slurmctld and slurmd,
each in the foreground with ``subprocess.Popen``; configuration and logs live under
``workdir``. ``/etc/slurm/slurm.conf`` is pointed at the harness's file because the
Snakemake jobstep plugin strips ``SLURM_CONF`` before its inner ``srun``; any file
already there is backed up and restored on exit. Every daemon started is stopped
by its PID on exit (SIGTERM, then SIGKILL).

Needs root and the packages from ``tests/support/install_slurm.sh``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from tests.support.processes import signal_dispositions

SBIN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
ETC_SLURM_CONF = Path("/etc/slurm/slurm.conf")
MUNGE_SOCKET = Path("/run/munge/munge.socket.2")
LOCK_FILE = Path("/run/genre-factor-slurm-cluster.lock")
REQUIRED_BINARIES = (
    "munged",
    "munge",
    "mariadbd",
    "mariadb-install-db",
    "mariadb",
    "slurmdbd",
    "slurmctld",
    "slurmd",
    "sbatch",
    "srun",
    "sacct",
    "sacctmgr",
    "sinfo",
    "squeue",
    "scancel",
)
CONF_MARKER = "# Written by tests/support/slurm_cluster.py"
SACCT_FIELDS = ("JobID", "JobName", "State", "ExitCode", "Partition", "AllocCPUS", "Start", "End", "Comment")


def _path_env() -> str:
    return f"{os.environ.get('PATH', '')}:{SBIN_PATH}"


def _which(name: str) -> str | None:
    return shutil.which(name, path=_path_env())


def slurm_unavailable_reason() -> str | None:
    """Return why a test cluster cannot start here, or ``None`` when it can."""
    if os.name != "posix" or not hasattr(os, "geteuid"):
        return "SLURM test cluster needs Linux"
    if os.geteuid() != 0:
        return "SLURM test cluster needs root (daemons, /etc/slurm/slurm.conf, /run/munge)"
    missing = [b for b in REQUIRED_BINARIES if _which(b) is None]
    if missing:
        return f"SLURM test cluster binaries missing: {', '.join(missing)} (run tests/support/install_slurm.sh)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"  <{path}: {exc}>"
    return "\n".join(f"  {line}" for line in text[-lines:])


class SlurmCluster:
    """Context manager running a one-node SLURM cluster with accounting.

    Attributes after ``__enter__``: ``hostname``, ``cpus``, ``partition``,
    ``env`` (environment for client commands), ``etc``/``logs`` directories.
    """

    partition = "debug"
    cluster_name = "genrefactor"

    def __init__(self, workdir: Path, start_timeout: float = 60.0, stop_grace: float = 10.0) -> None:
        self.workdir = Path(workdir).resolve()
        self.etc = self.workdir / "etc"
        self.logs = self.workdir / "logs"
        self.state = self.workdir / "state"
        self.start_timeout = start_timeout
        self.stop_grace = stop_grace
        self.hostname = socket.gethostname().split(".")[0]
        self.cpus = os.cpu_count() or 1
        self.env: dict[str, str] = {}
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logfiles: list[IO[bytes]] = []
        self._lock: IO[str] | None = None
        self._etc_backup: Path | None = None
        self._etc_linked = False

    # -- public helpers ---------------------------------------------------------
    def run(self, *args: str, check: bool = True, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run a SLURM client command with the cluster's environment."""
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True, check=check, timeout=timeout)

    @property
    def pids(self) -> dict[str, int]:
        """PIDs of the daemons this harness started."""
        return {name: p.pid for name, p in self._procs.items()}

    def daemon_logs(self, lines: int = 25, first: tuple[str, ...] = ()) -> str:
        """Tails of every daemon log, for error messages; logs of daemons in ``first`` lead."""
        logs = sorted(self.logs.glob("*.log"), key=lambda p: (not p.name.startswith(first), p.name))
        return "\n".join(f"--- {log.name} ---\n{_tail(log, lines)}" for log in logs)

    # -- context manager --------------------------------------------------------
    def __enter__(self) -> SlurmCluster:
        reason = slurm_unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop()

    # -- start ------------------------------------------------------------------
    def _start(self) -> None:
        self._lock = open(LOCK_FILE, "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RuntimeError(f"another SlurmCluster holds {LOCK_FILE}") from exc
        for d in (self.etc, self.logs, self.state / "ctld", self.state / "slurmd", self.workdir / "mysql"):
            d.mkdir(parents=True, exist_ok=True)
        ports = {k: _free_port() for k in ("mysql", "dbd", "ctld", "slurmd")}
        self.env = {**os.environ, "PATH": _path_env(), "SLURM_CONF": str(self.etc / "slurm.conf")}
        self._start_munge()
        self._start_mariadb(ports["mysql"])
        self._write_configs(ports)
        self._link_etc_conf()
        self._spawn("slurmdbd", ["slurmdbd", "-D"])
        self._wait_port(ports["dbd"], "slurmdbd")
        self._spawn("slurmctld", ["slurmctld", "-D", "-i"])
        self._spawn("slurmd", ["slurmd", "-D", "-N", self.hostname])
        self._wait_ready()

    def _spawn(self, name: str, argv: list[str], **kwargs: object) -> None:
        log = open(self.logs / f"{name}.out.log", "wb")
        self._logfiles.append(log)
        # Default dispositions for the signals the harness sends, whatever the suite inherited.
        kwargs.setdefault("preexec_fn", signal_dispositions())
        self._procs[name] = subprocess.Popen(  # type: ignore[call-overload]
            argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kwargs
        )

    def _munge_works(self) -> bool:
        r = subprocess.run("munge -n | unmunge", shell=True, env={**os.environ, "PATH": _path_env()}, capture_output=True)
        return r.returncode == 0

    def _start_munge(self) -> None:
        if MUNGE_SOCKET.exists() and self._munge_works():
            return  # a munged already serves the default socket: share it
        key = Path("/etc/munge/munge.key")
        if not key.exists():
            subprocess.run(["mungekey", "--create", "--keyfile", str(key)], env=self.env, check=True, capture_output=True)
        for d in (key.parent, MUNGE_SOCKET.parent, Path("/var/lib/munge"), Path("/var/log/munge")):
            d.mkdir(parents=True, exist_ok=True)
            shutil.chown(d, "munge", "munge")
        shutil.chown(key, "munge", "munge")
        key.chmod(0o600)
        MUNGE_SOCKET.parent.chmod(0o755)
        self._spawn("munged", ["munged", "--foreground", "--force"], user="munge", group="munge")
        self._wait(lambda: self._munge_works(), "munged answering on " + str(MUNGE_SOCKET), 15)

    def _start_mariadb(self, port: int) -> None:
        base = self.workdir / "mysql"
        data, sock = base / "data", base / "mysqld.sock"
        self.mysql_socket = sock
        if not (data / "mysql").exists():
            subprocess.run(
                [
                    "mariadb-install-db",
                    "--no-defaults",
                    f"--datadir={data}",
                    "--user=root",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ],
                env=self.env,
                check=True,
                capture_output=True,
                timeout=120,
            )
        self._spawn(
            "mariadbd",
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={sock}",
                f"--port={port}",
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--user=root",
                f"--pid-file={base / 'mysqld.pid'}",
                f"--log-error={self.logs / 'mariadbd.log'}",
                "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=0",
            ],
        )
        self.mysql_port = port
        sql = (
            "CREATE DATABASE IF NOT EXISTS slurm_acct_db;"
            "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';"
            "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';"
            "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
            "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
        )
        cmd = ["mariadb", "--no-defaults", f"--socket={sock}", "-uroot", "-e", sql]
        self._wait(
            lambda: subprocess.run(cmd, env=self.env, capture_output=True).returncode == 0, "MariaDB accepting the slurm user/database", 30
        )

    def _write_configs(self, ports: dict[str, int]) -> None:
        mem_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
        real_mem = max(256, int(mem_mb * 0.9))
        st, lg = self.state, self.logs
        slurm_conf = f"""\
{CONF_MARKER}
ClusterName={self.cluster_name}
SlurmctldHost={self.hostname}(127.0.0.1)
SlurmctldPort={ports["ctld"]}
SlurmdPort={ports["slurmd"]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={st / "ctld"}
SlurmdSpoolDir={st / "slurmd"}
SlurmctldPidFile={st / "slurmctld.pid"}
SlurmdPidFile={st / "slurmd.pid"}
SlurmctldLogFile={lg / "slurmctld.log"}
SlurmdLogFile={lg / "slurmd.log"}
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
SchedulerParameters=sched_interval=2
InactiveLimit=0
KillWait=5
# slurmstepd drains the node when a signalled step outlives this (default 60 s); a loaded
# machine can take longer to end a job's processes
UnkillableStepTimeout=180
Waittime=0
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={ports["dbd"]}
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
PlugStackConfig={self.etc / "plugstack.conf"}
NodeName={self.hostname} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={real_mem} State=UNKNOWN
PartitionName={self.partition} Nodes={self.hostname} Default=YES MaxTime=INFINITE State=UP
"""
        dbd_conf = f"""\
# Written by tests/support/slurm_cluster.py
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort={ports["dbd"]}
SlurmUser=root
LogFile={lg / "slurmdbd.log"}
PidFile={st / "slurmdbd.pid"}
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={ports["mysql"]}
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
"""
        (self.etc / "slurm.conf").write_text(slurm_conf)
        (self.etc / "cgroup.conf").write_text("# not used: proctrack/linuxproc, task/none\nCgroupAutomount=no\n")
        (self.etc / "plugstack.conf").write_text("")
        dbd = self.etc / "slurmdbd.conf"
        dbd.write_text(dbd_conf)
        dbd.chmod(0o600)

    def _link_etc_conf(self) -> None:
        ETC_SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        if _is_stale_harness_conf(ETC_SLURM_CONF):
            ETC_SLURM_CONF.unlink()  # left by a harness that was killed: nothing to restore
        if ETC_SLURM_CONF.exists() or ETC_SLURM_CONF.is_symlink():
            self._etc_backup = ETC_SLURM_CONF.with_name(f"slurm.conf.bak-{os.getpid()}")
            os.replace(ETC_SLURM_CONF, self._etc_backup)
        ETC_SLURM_CONF.symlink_to(self.etc / "slurm.conf")
        self._etc_linked = True

    # -- waiting ----------------------------------------------------------------
    def _check_alive(self, what: str) -> None:
        dead = {n: p.returncode for n, p in self._procs.items() if p.poll() is not None}
        if dead:
            logs = self.daemon_logs(first=tuple(f"{n}." for n in dead))
            raise RuntimeError(f"while waiting for {what}: daemon(s) exited {dead}\n{logs}")

    def _wait(self, ok: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive(what)
            if ok():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.daemon_logs()}")
            time.sleep(0.3)

    def _wait_port(self, port: int, what: str) -> None:
        def is_open() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        self._wait(is_open, f"{what} listening on 127.0.0.1:{port}", self.start_timeout)

    def _wait_ready(self) -> None:
        def node_idle() -> bool:
            r = self.run("sinfo", "-h", "-N", "-o", "%N %t", check=False)
            return r.returncode == 0 and f"{self.hostname} idle" in r.stdout

        def sacct_ok() -> bool:
            r = self.run("sacct", "-n", "-X", "-a", "-S", "now-1hours", check=False)
            c = self.run("sacctmgr", "-n", "-P", "list", "cluster", "format=cluster", check=False)
            return r.returncode == 0 and self.cluster_name in c.stdout

        self._wait(node_idle, f"node {self.hostname} idle in sinfo", self.start_timeout)
        self._wait(sacct_ok, "sacct answering and cluster registered in slurmdbd", self.start_timeout)

    # -- stop -------------------------------------------------------------------
    def _stop(self) -> None:
        if "slurmctld" in self._procs and self._procs["slurmctld"].poll() is None:
            self.run("scancel", "--full", "--quiet", "-u", "root", check=False)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.run("squeue", "-h", check=False).stdout.strip():
                time.sleep(0.3)
        errors: list[str] = []
        for name in ("slurmd", "slurmctld", "slurmdbd", "mariadbd", "munged"):
            proc = self._procs.get(name)
            if proc is None:
                continue
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(self.stop_grace)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            if proc.poll() is None or _pid_alive(proc.pid):
                errors.append(f"{name} (pid {proc.pid}) still running")
        self._procs.clear()
        for f in self._logfiles:
            f.close()
        self._logfiles.clear()
        if self._etc_linked:
            ETC_SLURM_CONF.unlink(missing_ok=True)
            self._etc_linked = False
        if self._etc_backup is not None:
            os.replace(self._etc_backup, ETC_SLURM_CONF)
            self._etc_backup = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        if errors:
            raise RuntimeError("SlurmCluster could not stop: " + "; ".join(errors))


def _is_stale_harness_conf(path: Path) -> bool:
    """True for a symlink left by a killed harness: dangling, or to a file this module wrote."""
    if not path.is_symlink():
        return False
    try:
        return path.read_text().startswith(CONF_MARKER)
    except OSError:
        return True


def _pid_alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def sacct_jobs(cluster: SlurmCluster, steps: bool = False, job_ids: list[str] | None = None) -> list[dict[str, str]]:
    """SLURM's accounting records as dicts, keys from ``SACCT_FIELDS`` lower-cased.

    Only allocations (whole jobs) unless ``steps`` is true, in which case the
    ``.batch``/``.0``/``.1`` step rows follow their job. ``job_ids`` filters.
    """
    args = ["sacct", "--parsable2", "--noheader", "-a", "-S", "now-1days", "--format=" + ",".join(SACCT_FIELDS)]
    if not steps:
        args.append("--allocations")
    if job_ids:
        args.append("--jobs=" + ",".join(job_ids))
    out = cluster.run(*args).stdout
    keys = [f.lower() for f in SACCT_FIELDS]
    # Comment is the last field: a "|" inside it stays in it.
    return [dict(zip(keys, line.split("|", len(keys) - 1), strict=True)) for line in out.splitlines() if line.strip()]
