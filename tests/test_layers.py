"""The apps depend one way: a lower layer never imports a higher one (README, "Layers").

Read from the code itself: every import statement of every module, lazy ones inside functions
included, and every model relation named by a string ("app.Model"). A lower layer that needs a higher
one to act announces it with a signal (catalogue/signals.py, contributions/signals.py,
animation/signals.py) and the higher layer listens (its receivers.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Lowest first. A module may import its own layer and the layers before it, never one after it.
LAYERS = [
    "animation.engine",  # Django-free: the painting, the voice, the film
    "core",  # storage, media responses, request parameters, counters: no app
    "accounts",
    "catalogue",  # events, paintings, passages
    "contributions",  # consents, recordings, their moderation
    "animation",  # alignments, films, the film gate
    "gallery",  # the live public gallery, curation pages, test films
    "health",
    "config",  # settings, URLs, ASGI, middleware: the project itself
]

RELATION_CALLS = {"ForeignKey", "OneToOneField", "ManyToManyField"}

# The only dependencies upward, each justified (the README's "Layers" repeats this list).
JUSTIFIED = {
    # ModerationDecision is the one audit log of every moderation decision, about recordings and about
    # films alike; its nullable `animation` column names the film by string. Contributions never reads
    # it: the film gate (animation.services, animation.api) writes and reads those rows. Moving the
    # decisions into a moderation layer above animation would remove this line.
    ("contributions/models.py", "animation"),
}


def _layer_of(module: str) -> int | None:
    """The index of the layer MODULE (a dotted name) belongs to; None for anything outside the project."""
    best = None
    for index, prefix in enumerate(LAYERS):
        inside = module == prefix or module.startswith(prefix + ".")
        if inside and (best is None or len(prefix) > len(LAYERS[best])):
            best = index
    return best


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # "from animation import services" names a module too
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in RELATION_CALLS and node.args and isinstance(node.args[0], ast.Constant):
                target = node.args[0].value
                if isinstance(target, str) and "." in target:
                    found.append((node.lineno, target.split(".")[0].lower()))
    return found


def product_modules() -> list[Path]:
    roots = ["core", "accounts", "catalogue", "contributions", "animation", "gallery", "health", "config"]
    return [
        path
        for root in roots
        for path in sorted((REPO / root).rglob("*.py"))
        if "migrations" not in path.parts and "tests" not in path.parts
    ]


def upward_imports() -> list[str]:
    problems = []
    for path in product_modules():
        module = _module_name(path)
        own = _layer_of(module)
        assert own is not None, module
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, target in _imported(tree, module, path.name == "__init__.py"):
            other = _layer_of(target)
            if other is not None and other > own:
                if (str(path.relative_to(REPO)), LAYERS[other]) in JUSTIFIED:
                    continue
                problems.append(f"{path.relative_to(REPO)}:{line} ({LAYERS[own]}) imports {target} ({LAYERS[other]})")
    return sorted(set(problems))


def test_no_layer_imports_a_layer_above_it():
    assert upward_imports() == []


def test_the_engine_and_core_know_nothing_of_the_apps_and_the_engine_nothing_of_django():
    for path in product_modules():
        module = _module_name(path)
        if not module.startswith("animation.engine"):
            continue
        tree = ast.parse(path.read_text())
        frameworks = {
            target.split(".")[0]
            for _line, target in _imported(tree, module, path.name == "__init__.py")
            if target.split(".")[0] in {"django", "rest_framework", "channels", "celery"}
        }
        assert not frameworks, f"{module} imports {frameworks}"


def test_the_checker_sees_lazy_imports_and_string_relations():
    """The test above would pass on nothing: show it catches what it is meant to."""
    source = (
        "def later():\n"
        "    from gallery import events\n"
        "class Passage:\n"
        "    painting = models.ForeignKey('animation.Animation')\n"
    )
    found = {target for _line, target in _imported(ast.parse(source), "catalogue.models", False)}
    assert "gallery.events" in found and "animation" in found
    assert _layer_of("animation.engine.render") == 0 and _layer_of("animation.tasks") == LAYERS.index("animation")
