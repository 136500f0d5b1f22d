"""Build real git repositories for tests with ``git fast-import``: fast, deterministic, and able
to write what porcelain refuses (dates before 1990, invalid UTF-8 in names).

>>> import tempfile, pathlib
>>> repo = pathlib.Path(tempfile.mkdtemp()) / "r"
>>> build_history(repo, commits=5)
5
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

PEOPLE = [
    ("Maria Lindqvist", "maria.lindqvist@example.org"),
    ("Tomasz Kowalczyk", "tomasz@kowalczyk.dev"),
    ("Aiko Tanaka", "aiko.tanaka@example.jp"),
    ("Jean-Luc Moreau", "jlmoreau@example.fr"),
    ("Priya Raman", "priya.raman@example.in"),
    ("Olusegun Adeyemi", "olu@example.ng"),
    ("Hannah Becker", "hbecker@example.de"),
    ("Diego Fernández", "diego.fernandez@example.es"),
]
AREAS = ["drivers/net", "drivers/crypto", "lib/eal", "lib/mbuf", "doc/guides", "app/test"]
ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
}


def git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    """Run git in ``repo`` with a clean configuration; return its output."""
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        input=input,
        capture_output=True,
        check=True,
        env={**os.environ, **ENV},
    ).stdout


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


def build_history(repo: Path, commits: int, *, seed: int = 7, start: int = 1_262_304_000) -> int:
    """Create ``repo`` (a work tree) with ``commits`` commits on ``main``; return the count.

    Commits are spread over people and areas, about one every six hours from ``start``, with
    Signed-off-by, Reviewed-by and Acked-by trailers, and touch one to three files.
    """
    rng = random.Random(seed)
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    files = [f"{area}/file{n}.c" for area in AREAS for n in range(12)]
    stream = bytearray()
    for index in range(commits):
        name, email = rng.choice(PEOPLE)
        reviewer = rng.choice([p for p in PEOPLE if p[1] != email])
        moment = start + index * 21_600
        message = f"{rng.choice(AREAS).split('/')[-1]}: change number {index}\n\n"
        message += f"Explain change {index} in a sentence or two.\n\n"
        message += f"Signed-off-by: {name} <{email}>\n"
        message += f"Reviewed-by: {reviewer[0]} <{reviewer[1]}>\n"
        if index % 5 == 0:
            acker = rng.choice(PEOPLE)
            message += f"Acked-by: {acker[0]} <{acker[1]}>\n"
        stream += b"commit refs/heads/main\n"
        stream += f"author {name} <{email}> {moment} +0000\n".encode()
        stream += f"committer {name} <{email}> {moment} +0000\n".encode()
        stream += _data(message.encode())
        for path in rng.sample(files, rng.randint(1, 3)):
            body = f"/* {path} at change {index} */\nint v{index} = {rng.randint(0, 9999)};\n"
            stream += f"M 100644 inline {path}\n".encode() + _data(body.encode())
        stream += b"\n"
    git(repo, "fast-import", "--quiet", input=bytes(stream))
    git(repo, "checkout", "-q", "main")
    return commits
