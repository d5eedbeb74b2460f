"""Building images with no registry in reach (`netra deploy build --offline`, the tests).

Base images come from Debian packages (`mmdebstrap` into a tarball, `podman import`);
the locked dependencies are downloaded as wheels on the host, for the image's own
interpreter, and mounted into a `--network=none` build. Both are cached per machine
under ~/.cache/netra, keyed by what they are made from. Two facts of this kind of host
are handled here: crun refuses hybrid cgroups (so runc), and a container's ulimits must
not exceed the host's hard limits (so a containers.conf of our own via CONTAINERS_CONF).
"""

from __future__ import annotations

import hashlib
import json
import re
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from netra.deploy.image import REPO, BuildRequest, ImageError, build, find_builder
from netra.settings.process import tool_environment

SUITE = "bookworm"
MIRRORS = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
# Documentation, manuals and translations: nothing that runs.
SLIM = tuple(
    f"--dpkgopt=path-exclude=/usr/share/{part}/*" for part in ("doc", "man", "info", "locale")
)
WHEELS_IN_BUILD = "/wheels"


def cache_dir() -> Path:
    root = tool_environment().get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "netra"


def _run(argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    done = subprocess.run(  # noqa: S603 (fixed programs, arguments built here)
        list(argv),
        capture_output=True,
        text=True,
        env=tool_environment(**(env or {})),
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-10:]
        shown = " ".join(argv[:3])
        raise ImageError(f"`{shown} ...` exited {done.returncode}:\n" + "\n".join(tail))
    return done.stdout


def containers_conf() -> Path:
    """A containers.conf for podman/buildah on this host (pass it as CONTAINERS_CONF;
    /etc is never edited): runc, and ulimits within the host's hard limits."""
    limits = []
    for name, which in (("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
        hard = resource.getrlimit(which)[1]
        # Some margin below the hard limit: runc was refused nproc=65536 under 96368 here.
        value = 16384 if hard == resource.RLIM_INFINITY else min(hard, 16384)
        limits.append(f'"{name}={value}:{value}"')
    text = (
        "# Written by netra.deploy.offline; see its docstring.\n"
        f"[containers]\ndefault_ulimits = [{', '.join(limits)}]\n\n"
        '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
    )
    path = cache_dir() / "containers" / "containers.conf"
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path


def container_env() -> dict[str, str]:
    """The environment podman, buildah and podman-compose need here."""
    return {"CONTAINERS_CONF": str(containers_conf())}


@dataclass(frozen=True)
class DebianImage:
    """An image made from Debian packages: `packages`, `files` (path in the image, its
    text; made executable), `hooks` (mmdebstrap customize hooks, run with the tree at
    "$1", after the files) and `changes` (Containerfile instructions)."""

    name: str
    packages: tuple[str, ...]
    changes: tuple[str, ...] = ()
    hooks: tuple[str, ...] = ()
    files: tuple[tuple[str, str], ...] = ()

    @property
    def tag(self) -> str:
        material = json.dumps(
            [SUITE, MIRRORS, SLIM, self.packages, self.changes, self.hooks, self.files]
        )
        return f"localhost/netra-{self.name}:{hashlib.sha256(material.encode()).hexdigest()[:12]}"


PYTHON_BASE = DebianImage("base", ("python3", "python3-venv"), ('CMD ["python3"]',))


def debian_image(image: DebianImage) -> str:
    """The image's tag, made once per machine (podman keeps it)."""
    env = container_env()
    exists = subprocess.run(  # noqa: S603
        [_need("podman"), "image", "exists", image.tag], env=tool_environment(**env), check=False
    )
    if exists.returncode == 0:
        return image.tag
    with tempfile.TemporaryDirectory(prefix="netra-mmdebstrap-") as tmp:
        tarball = Path(tmp) / f"{image.name}.tar"
        hooks = []
        for number, (inside, text) in enumerate(image.files):
            outside = Path(tmp) / f"file-{number}"
            outside.write_text(text)
            hooks += [f"--customize-hook=upload {outside} {inside}"]
            hooks += [f'--customize-hook=chmod 0755 "$1{inside}"']
        hooks += [f"--customize-hook={hook}" for hook in image.hooks]
        _run(
            [
                _need("mmdebstrap"),
                "--variant=minbase",
                f"--include={','.join(image.packages)}",
                *SLIM,
                *hooks,
                SUITE,
                str(tarball),
                *MIRRORS,
            ]
        )
        changes = [arg for change in image.changes for arg in ("--change", change)]
        _run([_need("podman"), "import", *changes, str(tarball), image.tag], env=env)
    return image.tag


_INTERPRETER = """
import json, platform, sys
print(json.dumps({"version": platform.python_version(), "machine": platform.machine(),
    "glibc": platform.libc_ver()[1], "abi": sys.implementation.cache_tag}))
"""


def interpreter(base: str) -> dict[str, str]:
    """The image's Python: version, machine, glibc and ABI tag (cpython-311)."""
    argv = [_need("podman"), "run", "--rm", "--network=none", base, "python3", "-c", _INTERPRETER]
    found: dict[str, str] = json.loads(_run(argv, env=container_env()))
    return found


def uv_version(containerfile: Path) -> str:
    match = re.search(r"^ARG UV_VERSION=(\S+)$", containerfile.read_text(), re.MULTILINE)
    if not match:
        raise ImageError(f"{containerfile} names no UV_VERSION")
    return match.group(1)


def wheels(base: str, repo: Path = REPO) -> Path:
    """Every wheel the image's build installs, for the image's interpreter, downloaded
    once per (uv.lock, Containerfile, interpreter). pip would evaluate the lock's
    markers against the host's Python (bookworm's 3.11.2 needs async-timeout, a newer
    3.11 does not), so uv selects the requirements for the image's version first."""
    python = interpreter(base)
    material = (repo / "uv.lock").read_bytes() + (repo / "Containerfile").read_bytes()
    key = hashlib.sha256(material + json.dumps(python).encode()).hexdigest()[:16]
    directory = cache_dir() / "image-wheels" / key  # not wheels/: install-local-llm's
    if (directory / ".complete").exists():
        return directory
    uv = _need("uv")
    machine, glibc = python["machine"], python["glibc"].replace(".", "_")
    # pip takes the platforms literally: every manylinux this glibc runs, newest first.
    newest = int(glibc.split("_")[1])
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in range(newest, 4, -1)]
    with tempfile.TemporaryDirectory(prefix="netra-wheels-") as tmp:
        exported, selected = Path(tmp) / "exported.txt", Path(tmp) / "selected.txt"
        export = [uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes"]
        _run([*export, "--quiet", "--directory", str(repo), "--output-file", str(exported)])
        compile_for = ["--python-version", python["version"]]
        compile_for += ["--python-platform", f"{machine}-manylinux_{glibc}"]
        compile_ = [uv, "pip", "compile", "--quiet", "--no-deps", "--no-header", "--no-annotate"]
        _run([*compile_, *compile_for, str(exported), "--output-file", str(selected)])
        tools = [f"uv=={uv_version(repo / 'Containerfile')}", "hatchling"]
        abi = python["abi"].replace("cpython-", "cp")
        target = ["--only-binary=:all:", "--python-version", python["version"]]
        target += ["--implementation", "cp", "--abi", abi, "--abi", "abi3", "--abi", "none"]
        target += [f"--platform={name}" for name in platforms]
        target += ["--dest", str(directory)]
        pip = [uv, "tool", "run", "--quiet", "pip", "download", "--quiet"]
        _run([*pip, "--no-deps", "-r", str(selected), *target])
        _run([*pip, *tools, *target])
    (directory / ".complete").write_text(key)
    return directory


def build_offline(tags: Sequence[str], repo: Path = REPO, log: Path | None = None) -> str:
    """The root Containerfile on the Debian base, with no network: its digest."""
    base = debian_image(PYTHON_BASE)
    found = wheels(base, repo)
    request = BuildRequest(
        tags,
        context=repo,
        build_args={"BASE": base, "WHEELS": WHEELS_IN_BUILD},
        volumes=[f"{found}:{WHEELS_IN_BUILD}:ro"],
        network_none=True,
        env=container_env(),
    )
    return build(find_builder("podman"), request, log)


def _need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise ImageError(
            f"{program} is not installed: `apt-get install podman buildah runc mmdebstrap` "
            "(scripts/build-image does it)"
        )
    return path
