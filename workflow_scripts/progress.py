"""Where a run stands, from Snakemake's own log: jobs done, running and failed per rule, the grid
search's rate and time left from its finished jobs' own durations.

Run it beside `snakemake` (another terminal or tmux pane), in the workflow's directory::

    python -m workflow_scripts.progress            # refreshes every 5 s; Ctrl-C to stop
    python -m workflow_scripts.progress --once     # print once and exit

It reads the newest ``.snakemake/log/*.snakemake.log`` (written whatever ``--logger`` is in use),
so it needs nothing from the run and cannot disturb it.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

GRID_RULES = ("hpo_combination", "hpo_family")
_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
_RULE = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
_JOBID = re.compile(r"^\s+jobid: (\d+)$")
_FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")
_ERROR = re.compile(r"^Error in rule (\w+):$")
_LOGLINE = re.compile(r"^\s+log: (.+?)(?: \(check log file\(s\) for error details\))?$")
_STEPS = re.compile(r"^(\d+) of (\d+) steps \(")
_COMMAND = re.compile(r"^\s+Command: (.*)$")


@dataclass
class Failure:
    rule: str
    jobid: int | None = None
    log: str | None = None


@dataclass
class Progress:
    """What a Snakemake log says so far."""

    planned: dict[str, int] = field(default_factory=dict)
    started: dict[int, tuple[str, datetime | None]] = field(default_factory=dict)
    finished: dict[int, tuple[str, float | None]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    steps: tuple[int, int] | None = None
    first_stamp: datetime | None = None
    last_stamp: datetime | None = None
    complete: bool = False
    quiet: bool = False  # started with --quiet: Snakemake then logs no job records

    def running(self) -> dict[int, str]:
        failed = {f.jobid for f in self.failures}
        return {j: rule for j, (rule, _) in self.started.items() if j not in self.finished and j not in failed}

    def per_rule(self) -> list[tuple[str, int, int, int, int]]:
        """(rule, done, running, failed, planned) in the order of the log's job table."""
        running = list(self.running().values())
        done = [rule for rule, _ in self.finished.values()]
        failed = [f.rule for f in self.failures]
        rules = list(self.planned) + sorted({*running, *done, *failed} - set(self.planned))
        return [(r, done.count(r), running.count(r), failed.count(r), self.planned.get(r, 0)) for r in rules]

    def grid_durations(self) -> list[float]:
        return [s for rule, s in self.finished.values() if rule in GRID_RULES and s is not None]


def parse(lines: Iterable[str]) -> Progress:
    """Read a Snakemake 9 log (the text of ``.snakemake/log/*.snakemake.log``)."""
    progress = Progress()
    stamp: datetime | None = None
    rule: str | None = None
    failure: Failure | None = None
    in_stats = False
    for raw in lines:
        line = raw.rstrip("\n")
        if in_stats:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                if parts[0] != "total":
                    progress.planned[parts[0]] = int(parts[1])
                continue
            if line.startswith("---") or line.startswith("job "):
                continue
            in_stats = False
        if line.startswith("Job stats:") and not progress.planned:
            in_stats = True
        elif m := _STAMP.match(line):
            stamp = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
            progress.first_stamp = progress.first_stamp or stamp
            progress.last_stamp = stamp
        elif m := _RULE.match(line):
            rule, failure = m.group(1), None
        elif m := _ERROR.match(line):
            failure, rule = Failure(m.group(1)), None
            progress.failures.append(failure)
        elif m := _JOBID.match(line):
            jobid = int(m.group(1))
            if failure is not None:
                failure.jobid = jobid
            elif rule is not None:
                progress.started[jobid] = (rule, stamp)
                rule = None
        elif (m := _LOGLINE.match(line)) and failure is not None:
            failure.log = m.group(1)
        elif m := _FINISHED.match(line):
            jobid = int(m.group(1))
            began = progress.started.get(jobid, (None, None))[1]
            seconds = (stamp - began).total_seconds() if stamp and began else None
            progress.finished[jobid] = (m.group(2), seconds)
        elif m := _STEPS.match(line):
            progress.steps = (int(m.group(1)), int(m.group(2)))
        elif line.startswith("Complete log(s):"):
            progress.complete = True
        elif m := _COMMAND.match(line):
            progress.quiet = bool({"-q", "--quiet"} & set(m.group(1).split()))
    return progress


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def peak_grid_jobs(progress: Progress) -> int:
    """The most grid jobs that ran at once (finished ones, from their start and end)."""
    events = []
    for jobid, (rule, seconds) in progress.finished.items():
        began = progress.started.get(jobid, (None, None))[1]
        if rule in GRID_RULES and began is not None and seconds is not None:
            events += [(began.timestamp() + seconds, -1), (began.timestamp(), 1)]
    peak = current = 0
    for _, step in sorted(events):
        current += step
        peak = max(peak, current)
    return peak


def grid_estimate(progress: Progress) -> str:
    """The grid search's rate and time left: median job duration over the jobs running at once."""
    planned = sum(progress.planned.get(r, 0) for r in GRID_RULES)
    if not planned:
        return "grid search: no grid jobs in this run"
    done = sum(1 for rule, _ in progress.finished.values() if rule in GRID_RULES)
    left = planned - done - sum(1 for f in progress.failures if f.rule in GRID_RULES)
    durations = progress.grid_durations()
    text = f"grid search: {done} of {planned} jobs done"
    if not durations:
        return text + " (rate: after the first grid job finishes)"
    running = sum(1 for rule in progress.running().values() if rule in GRID_RULES)
    median = statistics.median(durations)
    at_once = max(running or peak_grid_jobs(progress), 1)
    rate = at_once / median * 3600
    text += f"; median job {median:.0f} s, {at_once} at once: {rate:.0f} jobs/h"
    return text + (f", about {_duration(left * median / at_once)} left" if left > 0 else ", none left")


def render(progress: Progress, source: Path | str, now: datetime | None = None) -> str:
    """The view as text lines: a table per rule, the grid estimate, the failures."""
    rows = progress.per_rule()
    width = max([len("rule"), *(len(r[0]) for r in rows)])
    state = "finished" if progress.complete else "running"
    if progress.complete and progress.failures:
        state = "stopped with failures"
    head = f"{source}: {state}"
    if progress.steps:
        head += f", {progress.steps[0]} of {progress.steps[1]} steps done"
    if progress.first_stamp:
        end = progress.last_stamp if progress.complete or now is None else now
        head += f", {_duration(((end or progress.first_stamp) - progress.first_stamp).total_seconds())} elapsed"
    lines = [head, "", f"{'rule':<{width}}  {'done':>6} {'running':>7} {'failed':>6} {'planned':>7}"]
    for rule, done, running, failed, planned in rows:
        lines.append(f"{rule:<{width}}  {done:>6} {running:>7} {failed:>6} {planned:>7}")
    if progress.quiet and not progress.planned:
        lines += ["", "this run was started with --quiet: Snakemake logs no jobs then; start it without --quiet to watch it"]
    lines += ["", grid_estimate(progress)]
    if progress.failures:
        lines += ["", f"{len(progress.failures)} failed:"]
        lines += [f"  {f.rule} (job {f.jobid}): {f.log or 'no log'}" for f in progress.failures[-10:]]
    return "\n".join(lines)


def newest_log(directory: Path) -> Path:
    logs = sorted((directory / ".snakemake" / "log").glob("*.snakemake.log"))
    if not logs:
        raise FileNotFoundError(
            f"no Snakemake log under {directory / '.snakemake' / 'log'}: start the run first, "
            "or pass --directory (the workflow's working directory) or --log"
        )
    return logs[-1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflow_scripts.progress", description=__doc__.split("\n\n")[0])
    parser.add_argument("--directory", type=Path, default=Path("."), help="the workflow's working directory (default: .)")
    parser.add_argument("--log", type=Path, help="a Snakemake log to read (default: the newest under .snakemake/log)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between refreshes (default: 5)")
    parser.add_argument("--once", action="store_true", help="print once and exit")
    args = parser.parse_args(argv)
    try:
        while True:
            path = args.log or newest_log(args.directory)
            view = render(parse(path.read_text(errors="replace").splitlines()), path, now=datetime.now())
            if args.once:
                print(view)
                return 0
            sys.stdout.write("\x1b[H\x1b[2J" + view + "\n")
            sys.stdout.flush()
            time.sleep(args.interval)
    except FileNotFoundError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, BrokenPipeError):
        return 0


if __name__ == "__main__":
    sys.exit(main())
