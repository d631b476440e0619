"""A SavedModel is a program: its serving function runs TensorFlow ops on the audit machine, and TensorFlow has ops
that write files (WriteFile, SaveV2), read them (ReadFile, MatchingFiles), call back into Python (PyFunc,
EagerPyFunc) or print to any stream (PrintV2). Before a SavedModel folder is loaded, every op that its serving
signature can reach (the signature's call, and every function that call reaches, through calls, conditionals and
loops) is checked: ops that TensorFlow declares stateful are refused except reading the model's own variables, and
so are the stateless ops that touch files; the message names the op and the function it sits in. An op TensorFlow
does not know here is refused too (it could be anything). The functions that save and restore the model's variables,
which the serving signature does not reach, are not run by an audit and are not checked."""

from pathlib import Path

# Stateful ops a model's inference needs: reading its variables, and calling its own functions or branching and
# looping through them (TensorFlow marks a call, If or While stateful when its functions are; their ops are checked).
ALLOWED_STATEFUL_OPS = frozenset(
    {"VarHandleOp", "ReadVariableOp", "StatefulPartitionedCall", "PartitionedCall", "If", "While", "Case"}
)
# Stateless ops that still reach outside the model: files read or memory-mapped, directories listed.
FILE_OPS = frozenset({"ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst", "FixedLengthRecordReaderV2"})


class UnsafeModelError(ValueError):
    """A SavedModel whose serving function would run an op with side effects."""


def check_saved_model_graph(path: Path, key: str) -> None:
    """Raise UnsafeModelError naming the op, its function and `key` where the serving signature of the SavedModel
    folder at `path` reaches an op with side effects (see the module's docstring); ValueError where the file cannot be
    read as a SavedModel with a serving_default signature."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    try:
        saved.ParseFromString((Path(path) / "saved_model.pb").read_bytes())
    except Exception as error:  # a protobuf DecodeError, or a file that is not one
        raise ValueError(f"{key}: {path}/saved_model.pb is not a SavedModel file: {error}") from error
    for graph in saved.meta_graphs:
        if "serving_default" in graph.signature_def:
            check_serving_ops(graph, path, key)
            return
    raise ValueError(f"{key}: {path} has no serving_default signature")


def check_serving_ops(graph, path: Path, key: str) -> None:
    from tensorflow.python.framework import op_def_registry

    for function_name, op in reachable_ops(graph):
        definition = op_def_registry.get(op)
        if definition is None or op in FILE_OPS or (definition.is_stateful and op not in ALLOWED_STATEFUL_OPS):
            reason = "an op TensorFlow does not know here" if definition is None else "an op with side effects"
            raise UnsafeModelError(
                f"{key}: the serving function of the SavedModel {path} runs {op} ({reason}, in {function_name}). A "
                "model file is a program: faceaudit runs only models whose serving function computes from the image "
                "and the model's own variables (no file, network, Python or printing ops). Export the model without "
                "that op, or audit its predictions instead (`model: imported`)"
            )


def reachable_ops(graph) -> list[tuple[str, str]]:
    """(function, op) of every node the serving signature's outputs depend on in the main graph, and of every node of
    every library function those nodes call, directly or through other functions."""
    nodes = {node.name: node for node in graph.graph_def.node}
    functions = {function.signature.name: function for function in graph.graph_def.library.function}
    signature = graph.signature_def["serving_default"]
    pending = [tensor.name.split(":")[0].lstrip("^") for tensor in signature.outputs.values()]
    seen_nodes, called = set(), []
    found = []
    while pending:
        name = pending.pop()
        if name in seen_nodes or name not in nodes:
            continue
        seen_nodes.add(name)
        node = nodes[name]
        found.append(("the main graph", node.op))
        called += called_functions(node)
        pending += [source.split(":")[0].lstrip("^") for source in node.input]
    seen_functions = set()
    while called:
        name = called.pop()
        if name in seen_functions:
            continue
        seen_functions.add(name)
        if name not in functions:
            found.append((name, f"a call of a function the SavedModel does not hold ({name})"))
            continue
        for node in functions[name].node_def:
            found.append((name, node.op))
            called += called_functions(node)
    return found


def called_functions(node) -> list[str]:
    """The functions a node calls: its function-valued attributes (calls, If/While branches and bodies)."""
    names = []
    for value in node.attr.values():
        if value.HasField("func"):
            names.append(value.func.name)
        if value.HasField("list"):
            names += [function.name for function in value.list.func]
    return names
