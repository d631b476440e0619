"""`snakemake --lint` with one accepted finding: rules name no conda environment or container.

faceaudit's environment is one pinned virtualenv (requirements.txt + the Makefile's TensorFlow choice) shared by every
rule, because TensorFlow must match the node's GPU driver; a per-rule conda environment would install TensorFlow
several times and cannot pick the CUDA build per node. Every other finding fails (exit 1).
"""

import re
import subprocess
import sys

ACCEPTED = "Specify a conda environment or container for each rule."


def main() -> int:
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], capture_output=True, text=True)
    output = result.stdout + result.stderr
    findings = re.findall(r"^    \* (.+?):?$", output, flags=re.MULTILINE)
    if result.returncode not in (0, 1) or (result.returncode == 1 and not findings):
        print(output)
        print(f"snakemake --lint failed to run (exit {result.returncode})")
        return 1
    other = sorted({finding for finding in findings if finding.rstrip(":") != ACCEPTED.rstrip(":")})
    for finding in other:
        print(f"lint: {finding}")
    print(f"snakemake --lint: {len(findings)} findings, {len(other)} kinds other than the accepted one")
    if other:
        print(output)
    return 1 if other else 0


if __name__ == "__main__":
    sys.exit(main())
