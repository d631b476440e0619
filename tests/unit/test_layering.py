"""The package's layers: a module imports only from its own or earlier stages (pipeline order), and the Keras-free
core and the study import no Keras or TensorFlow, not even through another faceaudit module. Every import counts,
including those inside functions. A new subpackage or top-level module must be placed in STAGES."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "faceaudit"

# The Keras-free modules every stage may import (one stage: they may import each other).
CORE = {"__init__", "aif360_data", "catalog", "labels", "label_maps", "logs", "figures", "quiet_import"}
# Pipeline order: each stage imports only from itself and the stages before it.
STAGES = ["core", "study", "data", "models", "training", "evaluation", "external", "postprocessing", "report", "bench"]
# Stages that import no Keras or TensorFlow, directly or through the faceaudit modules they import.
KERAS_FREE = ["core", "study"]
KERAS = {"keras", "tensorflow", "tf_keras"}


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path) -> dict[str, Path]:
    """Every module of the package by its dotted name."""
    return {
        module_name(path, package): path for path in sorted(package.rglob("*.py")) if "__pycache__" not in path.parts
    }


def stage_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[1] in CORE):
        return "core"
    return parts[1]


def imports(path: Path, module: str, known: dict) -> list[tuple[int, str]]:
    """(line, imported name) of every import in a file, at any depth; `from faceaudit.x import y` names the module
    faceaudit.x.y where y is a module, else faceaudit.x. `importlib.import_module("...")` with a literal counts."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
            found += [(node.lineno, name) for name in submodules or [base]]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            first = node.args[0] if node.args else None
            if isinstance(first, ast.JoinedStr) and first.values:
                first = first.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return found


def with_parents(name: str) -> list[str]:
    """Importing faceaudit.a.b runs faceaudit/__init__.py and faceaudit/a/__init__.py first."""
    parts = name.split(".")
    return [".".join(parts[: end + 1]) for end in range(len(parts))]


def layering_violations(package: Path) -> list[str]:
    known = modules(package)
    order = {stage: position for position, stage in enumerate(STAGES)}
    violations = []
    for module, path in known.items():
        for line, name in imports(path, module, known):
            if name.split(".")[0] != package.name:
                continue
            here, there = stage_of(module), stage_of(name)
            if order[there] > order[here]:
                violations.append(
                    f"{path.relative_to(package.parent)}:{line} imports {name}: stage '{there}' comes after "
                    f"'{here}' (order: {', '.join(STAGES)})"
                )
    return violations


def keras_imports(package: Path) -> list[str]:
    """Each Keras-free module's Keras imports, with the chain of faceaudit imports that reaches them."""
    known = modules(package)
    edges = {module: imports(path, module, known) for module, path in known.items()}
    violations = []
    for start in sorted(module for module in known if stage_of(module) in KERAS_FREE):
        chains, seen = [[start]], {start}
        while chains:
            chain = chains.pop(0)
            for line, name in edges[chain[-1]]:
                where = f"{known[chain[-1]].relative_to(package.parent)}:{line}"
                if name.split(".")[0] in KERAS:
                    violations.append(f"{start} imports {name} ({where}, through {' -> '.join(chain)})")
                elif name.split(".")[0] == package.name:
                    for reached in with_parents(name):
                        if reached in known and reached not in seen:
                            seen.add(reached)
                            chains.append([*chain, reached])
    return violations


def test_every_subpackage_and_module_of_the_package_has_a_stage():
    on_disk = {path.stem for path in PACKAGE.glob("*.py")} | {
        path.name for path in PACKAGE.iterdir() if path.is_dir() and any(path.rglob("*.py"))
    }
    subpackages = on_disk - CORE
    unplaced, stale = sorted(subpackages - set(STAGES)), sorted(set(STAGES) - {"core"} - subpackages)
    assert not unplaced, f"place these in STAGES or CORE (tests/unit/test_layering.py): {unplaced}"
    assert not stale, f"STAGES names subpackages that are not on disk: {stale}"
    assert CORE <= on_disk, f"CORE names a module that is not on disk: {sorted(CORE - on_disk)}"
    assert set(KERAS_FREE) <= set(STAGES)


def test_modules_import_only_from_their_own_or_earlier_stages():
    violations = layering_violations(PACKAGE)
    assert not violations, "imports against the pipeline order:\n" + "\n".join(violations)


def test_the_core_and_the_study_import_no_keras_even_through_other_modules():
    violations = keras_imports(PACKAGE)
    assert not violations, "Keras in a Keras-free stage:\n" + "\n".join(violations)


@pytest.mark.parametrize(
    "source, expected",
    [
        (
            "from faceaudit.evaluation.metrics import compute_metrics\n",
            "faceaudit/study/late.py:2 imports faceaudit.evaluation.metrics: stage 'evaluation' comes after 'study'",
        ),
        (
            "def f():\n    import faceaudit.report\n",
            "faceaudit/study/late.py:3 imports faceaudit.report: stage 'report'",
        ),
    ],
)
def test_a_later_import_is_named_with_its_file_and_line(tmp_path, source, expected):
    package = tmp_path / "faceaudit"
    for path in ["__init__.py", "study/__init__.py", "evaluation/__init__.py", "evaluation/metrics.py"]:
        (package / path).parent.mkdir(parents=True, exist_ok=True)
        (package / path).write_text("")
    (package / "report").mkdir()
    (package / "report/__init__.py").write_text("import keras\n")
    (package / "study/late.py").write_text("import math\n" + source)
    [violation] = layering_violations(package)
    assert violation.startswith(expected), violation
    if "report" in source:
        [keras] = keras_imports(package)
        assert keras.startswith("faceaudit.study.late imports keras (faceaudit/report/__init__.py:1, through "), keras
