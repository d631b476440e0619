"""`snakemake --lint` with two accepted findings; every other finding fails (exit 1).

- Rules name no conda environment or container: faceaudit's environment is one pinned virtualenv (requirements.txt +
  the Makefile's TensorFlow choice) shared by every rule, because TensorFlow must match the node's GPU driver; a
  per-rule conda environment would install TensorFlow several times and cannot pick the CUDA build per node.
- Rule files hold functions: each rule file starts with the input functions that only its rules use, then its rules
  (as the snakemake-workflows template's rule files read); common.smk keeps what several rule files share. One
  542-line common.smk of every input function was harder to read than the rule files it served.
"""

import re
import subprocess
import sys

from faceaudit.bench.without_slurm import environment_without_slurm

ACCEPTED = ("Specify a conda environment or container for each rule.", "Mixed rules and functions in same snakefile.")


def main() -> int:
    command = [sys.executable, "-m", "snakemake", "--lint"]
    result = subprocess.run(command, capture_output=True, text=True, env=environment_without_slurm())
    output = result.stdout + result.stderr
    findings = re.findall(r"^    \* (.+?):?$", output, flags=re.MULTILINE)
    if result.returncode not in (0, 1) or (result.returncode == 1 and not findings):
        print(output)
        print(f"snakemake --lint failed to run (exit {result.returncode})")
        return 1
    accepted = {text.rstrip(":") for text in ACCEPTED}
    other = sorted({finding for finding in findings if finding.rstrip(":") not in accepted})
    for finding in other:
        print(f"lint: {finding}")
    print(f"snakemake --lint: {len(findings)} findings, {len(other)} kinds other than the accepted ones")
    if other:
        print(output)
    return 1 if other else 0


if __name__ == "__main__":
    sys.exit(main())
