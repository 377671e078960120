"""The built wheel on its own: installed into a new environment, it serves the widget's files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import REPO, free_port

WEB = REPO / "web"
WEB_FILES = sorted(path.relative_to(WEB).as_posix() for path in WEB.rglob("*") if path.is_file())
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
# What a checkout holds besides its source: never part of a build.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", ".dateline", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "out"
)


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip builds from a copy of the checkout, offline (the build reuses this
    environment's setuptools); the copy keeps the build's leftovers out of the checkout."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=_NOT_SOURCE)
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--quiet",
        "--wheel-dir",
        root / "dist",
        source,
        cwd=root,
    )
    (built,) = (root / "dist").glob("dateline-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment holding the wheel alone; its dependencies are this
    environment's, reached through a .pth line, which adds folders but runs none of their .pth
    files (so not an editable install of the checkout)."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    _run(sys.executable, "-m", "venv", venv, cwd=venv.parent)
    python = venv / "bin" / "python"
    _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel, cwd=venv)
    site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=venv
        ).strip()
    )
    ours = sysconfig.get_paths()
    (site / "dateline-dependencies.pth").write_text(f"{ours['purelib']}\n{ours['platlib']}\n")
    return venv


def _outside_the_checkout() -> dict[str, str]:
    """The environment of a user's shell: no PYTHONPATH, offline."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return env


@pytest.fixture
def wheel_server(installed: Path, tmp_path: Path) -> Iterator[str]:
    """``dateline serve`` from the new environment, started in an empty folder."""
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [installed / "bin" / "dateline", "serve", "--port", str(port), "--data-dir", "data"],
            cwd=tmp_path,
            env=_outside_the_checkout(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_wheel_carries_the_web_files(wheel: Path) -> None:
    assert {"widget.js", "widget/element.js", "widget/widget.css"} <= set(WEB_FILES)
    with zipfile.ZipFile(wheel) as archive:
        for name in WEB_FILES:
            assert archive.read(f"qa/web/{name}") == (WEB / name).read_bytes()


def test_the_installed_package_reads_its_own_web_files(installed: Path, tmp_path: Path) -> None:
    where = _run(
        installed / "bin" / "python",
        "-c",
        "import qa, qa.api.routes as r; print(qa.__file__, r.WEB_DIR, qa.__version__)",
        cwd=tmp_path,
        env=_outside_the_checkout(),
    ).split()
    site = installed / "lib"
    assert all(Path(path).resolve().is_relative_to(site.resolve()) for path in where[:2]), where
    assert not Path(where[1]).is_symlink()
    assert where[2] == VERSION


def test_the_installed_server_serves_the_widget_and_the_demo_page(wheel_server: str) -> None:
    parts = [
        (f"/widget/{VERSION}/{part.name}", f"widget/{part.name}")
        for part in (WEB / "widget").iterdir()
    ]
    for path, name in (
        ("/widget.js", "widget.js"),
        *parts,
        ("/", "index.html"),
        ("/static/demo.css", "demo.css"),
    ):
        response = httpx.get(f"{wheel_server}{path}", timeout=10)
        assert response.status_code == 200, path
        assert response.content == (WEB / name).read_bytes(), path
