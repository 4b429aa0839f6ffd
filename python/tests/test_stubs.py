"""The type stubs describe the extension as it is: `mypy.stubtest` finds no difference, every
public name and method of `_core` is in `_core.pyi` with the same parameters, and the pure-Python
package type-checks against them."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import commonground
from commonground import _core

STUB = Path(commonground.__file__).with_name("_core.pyi")
REPO = Path(__file__).resolve().parents[2]


def _stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text(encoding="utf-8"))


def test_package_ships_stubs_and_the_typed_marker():
    assert STUB.is_file()
    assert STUB.with_name("py.typed").is_file()


def test_stubtest_finds_no_difference():
    pytest.importorskip("mypy")
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "commonground._core"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert result.returncode == 0, result.stdout


def test_the_package_and_the_example_type_check():
    pytest.importorskip("mypy")
    # The source tree, not the installed copy: mypy refuses to check files inside site-packages.
    targets = [str(REPO / "python" / "commonground"), str(REPO / "examples" / "analyze_vtaiwan.py")]
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--ignore-missing-imports", "--no-incremental", *targets],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_every_runtime_name_is_in_the_stub_and_back():
    tree = _stub_tree()
    stub_names = {node.name for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    stub_names |= {t.id for node in tree.body if isinstance(node, (ast.AnnAssign, ast.Assign)) for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}
    runtime = {name for name in dir(_core) if not name.startswith("_")} | {"__version__", "__all__"}
    public_stub = {name for name in stub_names if not name.startswith("_")} | {"__version__", "__all__"}
    assert runtime == public_stub
    # The one private function: pickle's way back to an Analysis.
    assert set(_core.__all__) - {"_analysis_from_state"} == runtime - {"__all__"}


def test_every_method_has_the_stub_parameters():
    classes = {node.name: node for node in _stub_tree().body if isinstance(node, ast.ClassDef)}
    for class_name in ["Conversation", "Analysis"]:
        stub_class, runtime_class = classes[class_name], getattr(_core, class_name)
        stub_members = {f.name: f for f in stub_class.body if isinstance(f, ast.FunctionDef)}
        runtime_members = {n for n in vars(runtime_class) if not n.startswith("_")}
        assert runtime_members == {n for n in stub_members if not n.startswith("_")}, class_name
        for name, function in stub_members.items():
            if name.startswith("_") or any(isinstance(d, ast.Name) and d.id == "property" for d in function.decorator_list):
                continue
            stub_parameters = [a.arg for a in function.args.posonlyargs + function.args.args + function.args.kwonlyargs]
            if stub_parameters and stub_parameters[0] == "self":
                stub_parameters = stub_parameters[1:]
            runtime_parameters = [p for p in inspect.signature(getattr(runtime_class, name)).parameters if p != "self"]
            assert runtime_parameters == stub_parameters, f"{class_name}.{name}"
