"""The layout keeps the call path readable: the protocol layer stands alone, no import circle,
and a stage never reaches up into the stages that use it (docs/architecture.md).

Imports are read from the source (AST), at module level and inside functions, so a late
``import`` that hides a circle still counts; ``if TYPE_CHECKING:`` imports do not (they never
run)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("callbot", "telephony", "asr_models")

# Lower number = lower stage. A module may import its own stage and lower ones only.
STAGES = {
    "telephony": 0,
    "asr_models": 0,
    "callbot.runtime": 0,  # interpreter settings for serving processes: stdlib only
    "callbot.speech": 1,
    "callbot.nlu": 1,
    "callbot.tickets": 1,
    "callbot.call": 2,
    "ivr": 3,  # the city's script, written in the dialog's vocabulary
    "callbot.simulation": 4,
    "callbot.web": 4,
    "callbot.channels": 4,  # text channels: the dialog by web chat and Zalo (issue 19)
    "callbot.loadtest": 5,
}
# callbot.config sits beside every stage (each reads its own section of the settings);
# the entry points (cli, server, workers, demo, chat, outbox_cli) sit on top.
TOP = 6


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    found = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    found["ivr"] = ROOT / "ivr.py"
    return {name: path for name, path in found.items() if "__pycache__" not in str(path)}


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def runtime_imports(path: Path, modules: dict[str, Path], this: str | None = None) -> set[str]:
    """The project modules ``path`` (module ``this``) imports when it runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = set()
    for node in ast.walk(tree):
        if _type_checking_only(node):
            skipped |= {id(child) for child in ast.walk(node)}
    if this is None:
        this = module_name(path) if path.name != "ivr.py" else "ivr"
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[: len(parent) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                names.add(full if full in modules else base)
    return {n for n in names if n in modules and n != this}


def graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: runtime_imports(path, modules) for name, path in modules.items()}


def stage_of(module: str) -> int:
    matching = [p for p in STAGES if module == p or module.startswith(p + ".")]
    return STAGES[max(matching, key=len)] if matching else TOP


def test_the_graph_is_read():
    edges = graph()
    assert "callbot.call.dialog" in edges["ivr"]
    assert "telephony.audiosocket_protocol" in edges["callbot.call.session"]
    assert "callbot.speech.pieces" in edges["callbot.speech.prompts"]


def test_the_protocol_layer_imports_nothing_from_the_app():
    offenders = {
        (module, target)
        for module, targets in graph().items()
        if module.startswith("telephony")
        for target in targets
        if target.startswith("callbot") or target == "ivr"
    }
    assert offenders == set()


def test_no_import_circle():
    edges = graph()
    # Tarjan's strongly connected components: any component of two or more is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert circles == []


def test_lower_stages_never_import_higher_ones():
    upward = sorted(
        f"{module} → {target}"
        for module, targets in graph().items()
        for target in targets
        if target != "callbot.config"
        and not module.startswith("callbot.config")
        and stage_of(target) > stage_of(module)
    )
    assert upward == []


def test_the_checker_sees_a_circle_and_an_upward_import(tmp_path):
    """The checks above can fail: a module that imports upward is seen as such."""
    modules = all_modules()
    fake = tmp_path / "callbot" / "speech" / "oops.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from callbot.call.session import CallSession\n")
    found = runtime_imports(fake, modules, "callbot.speech.oops")
    assert found == {"callbot.call.session"}
    assert stage_of("callbot.call.session") > stage_of("callbot.speech.oops")


def test_no_module_over_the_size_a_reader_can_hold():
    """~400 lines a module where a seam exists; the ones listed are reviewed exceptions."""
    allowed = {"callbot.tickets.store.migrations.0006_dashboard"}
    big = {
        name: n
        for name, path in all_modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 450 and name not in allowed
    }
    assert big == {}
