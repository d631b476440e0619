"""An environment in which SLURM's commands are not found, for Snakemake runs that are local by design (the tests,
the planning benchmark).

Snakemake builds every executor plugin's settings at start-up, and the SLURM plugin's run `scontrol show config`.
On a machine where SLURM is installed but no controller runs (this one between the SLURM tests' clusters) that call
waits 9-10 s for its timeout, in every `snakemake` process: minutes over the test suite, and a planning benchmark
that measures the wait instead of Snakemake. Without the commands the call fails at once, as on a machine without
SLURM."""

import functools
import os
import tempfile
from pathlib import Path

SLURM_COMMANDS = frozenset({"sbatch", "sacct", "squeue", "scancel", "scontrol", "sinfo", "srun", "salloc", "sacctmgr"})


@functools.cache
def environment_without_slurm() -> dict[str, str]:
    """os.environ with a PATH on which each folder holding a SLURM command is replaced by a folder of links to its
    other commands (made once per process). Other folders stay as they are, so a virtual environment's python is
    still found where it is (a link to it elsewhere would not find its pyvenv.cfg)."""
    links_root = Path(tempfile.mkdtemp(prefix="path-without-slurm-"))
    folders = []
    for index, folder in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        if not any((Path(folder) / command).exists() for command in SLURM_COMMANDS):
            folders.append(folder)
            continue
        links = links_root / str(index)
        links.mkdir()
        for command in Path(folder).iterdir():
            if command.name not in SLURM_COMMANDS:
                (links / command.name).symlink_to(command)
        folders.append(str(links))
    return {**os.environ, "PATH": os.pathsep.join(folders)}
