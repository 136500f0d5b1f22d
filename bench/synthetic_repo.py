"""A large, realistic synthetic git history for the memory benchmark (``git fast-import``).

``build(path, commits)`` creates a bare repository whose ``HEAD`` (``main``) has exactly
``commits`` commits: about 300 people with names and email addresses (a few prolific, most
occasional; maintainers commit others' patches), a tree of a few thousand files in component
folders, commits that change one to five files of one area with small line edits (now and then
adding or deleting a file), messages with ``Signed-off-by``, ``Reviewed-by``, ``Acked-by``,
``Tested-by``, ``Reported-by`` and ``Fixes`` trailers, and a merge of a topic branch every
2,000 commits. The same seed gives the same repository.

Run it alone to build one: ``python bench/synthetic_repo.py /tmp/synthetic.git 100000``.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path


def _words(text: str) -> list[str]:
    return text.split()


VERSION = 1  # bump when the generator changes, so that cached repositories are rebuilt

FIRST = _words(
    "Maria Tomasz Aiko Jean-Luc Priya Olusegun Hannah Diego Wei Fatima Lars Anika Pavel Chen "
    "Yuki Rahul Sofia Mateo Ingrid Kofi Elena Dmitri Amara Jonas Leila Marek Nadia Ravi Ines "
    "Bruno Zhang Sven Keiko Omar Lucia Viktor Ana Arjun Freya Hiroshi Carmen Pieter Mei Ahmed "
    "Julia Stefan Ngozi Luis Greta Ivan Sara Kenji Chloe Andrzej Noor Thomas Ewa Gaëtan Jérôme "
    "Björn Zoë"
)
LAST = _words(
    "Lindqvist Kowalczyk Tanaka Moreau Raman Adeyemi Becker Fernández Li Haddad Nilsson Schmidt "
    "Novak Wang Sato Sharma Rossi García Berg Mensah Popescu Ivanov Okafor Weber Karimi Dvořák "
    "Petrova Iyer Silva Costa Zhao Johansson Yamamoto Hassan Romero Kuznetsov Pereira Patel "
    "Olsen Nakamura Ortega Jansen Lin Mahmoud Meyer Horvat Eze Morales Fischer Smirnov Rahman "
    "Suzuki Dubois Nowak Chowdhury Müller Kaminska Lefèvre Andersson Brun"
)
DOMAINS = _words(
    "intel.com nvidia.com arm.com redhat.com huawei.com marvell.com broadcom.com amd.com "
    "microsoft.com 6wind.com ericsson.com linaro.org canonical.com suse.com oracle.com "
    "netronome.com napatech.com cisco.com gmail.com outlook.com"
)
ZONES = ("+0000", "+0100", "+0200", "+0530", "+0800", "+0900", "-0500", "-0700", "+0300")
AREAS = _words(
    "lib/eal lib/mbuf lib/mempool lib/ring lib/hash lib/lpm lib/acl lib/ethdev lib/cryptodev "
    "lib/eventdev lib/vhost lib/pipeline lib/sched lib/meter lib/timer lib/net lib/ip_frag "
    "lib/kni lib/pdump lib/bpf drivers/net/ixgbe drivers/net/i40e drivers/net/ice "
    "drivers/net/mlx5 drivers/net/bnxt drivers/net/virtio drivers/net/ena drivers/net/hns3 "
    "drivers/net/sfc drivers/net/nfp drivers/crypto/qat drivers/crypto/aesni_mb "
    "drivers/crypto/openssl drivers/event/dlb2 drivers/event/sw drivers/bus/pci drivers/bus/vdev "
    "drivers/common/mlx5 drivers/common/cnxk drivers/mempool/bucket app/test app/testpmd "
    "app/test-crypto-perf app/proc-info examples/l2fwd examples/l3fwd examples/ipsec-secgw "
    "doc/guides/nics doc/guides/prog_guide doc/guides/rel_notes buildtools devtools "
    "config usertools"
)
WORDS = _words(
    "queue port flow burst packet offload rss vlan mtu stats link counter descriptor ring "
    "buffer lock timer memory socket lcore device driver config table entry hash key crypto "
    "session event tunnel checksum filter mirror meter policy pool cache thread interrupt"
)
VERBS = _words("fix add remove support refactor improve simplify update rework enable disable")
SUFFIXES = (".c", ".c", ".c", ".h", ".h", ".rst", ".py", ".yaml")


def _people(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """``count`` distinct (name, email, time zone)."""
    names: set[str] = set()
    people: list[tuple[str, str, str]] = []
    while len(people) < count:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last}"
        if name in names:
            continue
        names.add(name)
        local = rng.choice(
            [f"{first}.{last}", f"{first[0]}{last}", first, f"{first}{rng.randrange(100)}"]
        )
        ascii_local = local.lower().encode("ascii", "ignore").decode().replace(" ", "")
        people.append((name, f"{ascii_local}@{rng.choice(DOMAINS)}", rng.choice(ZONES)))
    return people


def _line(rng: random.Random) -> str:
    word = rng.choice(WORDS)
    return f"\t{word}_{rng.randrange(1000)} = {rng.choice(WORDS)}_get(dev, {rng.randrange(64)});"


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


class _Tree:
    """The files of ``main``, by area, with their current lines."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.files: dict[str, list[str]] = {}
        self.by_area: dict[str, list[str]] = {area: [] for area in AREAS}
        self.serial = 0

    def new_path(self, area: str) -> str:
        self.serial += 1
        suffix = self.rng.choice(SUFFIXES)
        stem = f"{area.rsplit('/', 1)[-1]}_{self.rng.choice(WORDS)}_{self.serial}"
        return f"{area}/{stem}{suffix}"

    def add(self, area: str) -> tuple[str, bytes]:
        path = self.new_path(area)
        lines = [f"/* {path} */", *(_line(self.rng) for _ in range(self.rng.randint(8, 40)))]
        self.files[path] = lines
        self.by_area[area].append(path)
        return path, self.content(path)

    def edit(self, path: str) -> bytes:
        lines, rng = self.files[path], self.rng
        for _ in range(rng.randint(1, 3)):
            spot = rng.randrange(1, len(lines) + 1)
            action = rng.random()
            if action < 0.5 and spot < len(lines):
                lines[spot] = _line(rng)
            elif action < 0.8 or len(lines) < 6:
                lines.insert(spot, _line(rng))
            else:
                del lines[min(spot, len(lines) - 1)]
        return self.content(path)

    def delete(self, path: str) -> None:
        del self.files[path]
        self.by_area[path.rsplit("/", 1)[0]].remove(path)

    def content(self, path: str) -> bytes:
        return ("\n".join(self.files[path]) + "\n").encode()


def _message(
    rng: random.Random,
    area: str,
    author: tuple[str, str, str],
    committer: tuple[str, str, str],
    people: list[tuple[str, str, str]],
    serial: int,
) -> bytes:
    component = area.rsplit("/", 1)[-1]
    subject = f"{component}: {rng.choice(VERBS)} {rng.choice(WORDS)} {rng.choice(WORDS)} handling"
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 60)))
    wrapped = textwrap.fill(body, 72)
    trailers = []
    if rng.random() < 0.1:
        trailers.append(f'Fixes: {rng.getrandbits(48):012x} ("{component}: earlier change")')
        trailers.append("Cc: stable@dpdk.org")
    if rng.random() < 0.05:
        trailers.append("Reported-by: {} <{}>".format(*rng.choice(people)[:2]))
    trailers.append(f"Signed-off-by: {author[0]} <{author[1]}>")
    for kind, chance in (("Reviewed-by", 0.4), ("Acked-by", 0.25), ("Tested-by", 0.1)):
        if rng.random() < chance:
            trailers.append("{}: {} <{}>".format(kind, *rng.choice(people)[:2]))
    if committer != author:
        trailers.append(f"Signed-off-by: {committer[0]} <{committer[1]}>")
    return f"{subject}\n\n{wrapped}\n\nChange {serial}.\n\n" + "\n".join(trailers) + "\n"


def _stream(commits: int, seed: int) -> Iterator[bytes]:
    """The fast-import stream of the history (a few hundred MB in all), in pieces."""
    rng = random.Random(seed)
    people = _people(rng, 300)
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(people))]
    maintainers = people[:10]
    tree = _Tree(rng)
    out: list[bytes] = []
    moment = 1_262_304_000  # 2010-01-01
    ident = "{} <{}> {} {}"

    first = people[0]
    out.append(b"commit refs/heads/main\nmark :1\n")
    out.append(f"author {ident.format(*first[:2], moment, first[2])}\n".encode())
    out.append(f"committer {ident.format(*first[:2], moment, first[2])}\n".encode())
    out.append(_data(f"Initial import\n\nSigned-off-by: {first[0]} <{first[1]}>\n".encode()))
    for area in AREAS:
        for _ in range(rng.randint(15, 45)):
            path, content = tree.add(area)
            out.append(f"M 100644 inline {path}\n".encode() + _data(content))
    out.append(b"\n")

    mark, main_marks, made = 1, [1], 1
    while made < commits:
        moment += int(rng.expovariate(1 / 4000)) + 1
        author = rng.choices(people, weights)[0]
        committer = rng.choice(maintainers) if rng.random() < 0.7 else author
        area = rng.choice(AREAS)
        text = _message(rng, area, author, committer, people, made)
        authored = ident.format(*author[:2], moment, author[2])
        committed = ident.format(*committer[:2], moment + rng.randrange(0, 864_000), committer[2])
        topic = made % 2000 == 1000 and made + 2 <= commits
        if topic:
            # A topic branch forked 20 commits back, adding one file, merged right after.
            mark += 1
            blob = mark
            path, content = tree.add(area)
            out.append(b"blob\nmark :%d\n" % blob + _data(content))
            mark += 1
            side = mark
            out.append(b"commit refs/heads/topic\nmark :%d\n" % side)
            out.append(f"author {authored}\ncommitter {authored}\n".encode())
            out.append(_data(text.encode()))
            out.append(b"from :%d\n" % main_marks[-20])
            out.append(f"M 100644 :{blob} {path}\n\n".encode())
            made += 1
            mark += 1
            out.append(b"commit refs/heads/main\nmark :%d\n" % mark)
            out.append(f"author {committed}\ncommitter {committed}\n".encode())
            merge = (
                f"Merge branch 'next-{area}'\n\nSigned-off-by: {committer[0]} <{committer[1]}>\n"
            )
            out.append(_data(merge.encode()))
            out.append(b"from :%d\nmerge :%d\n" % (main_marks[-1], side))
            out.append(f"M 100644 :{blob} {path}\n\n".encode())
        else:
            mark += 1
            out.append(b"commit refs/heads/main\nmark :%d\n" % mark)
            out.append(f"author {authored}\ncommitter {committed}\n".encode())
            out.append(_data(text.encode()))
            out.append(b"from :%d\n" % main_marks[-1])
            touched: set[str] = set()
            for _ in range(rng.randint(1, 5)):
                chance = rng.random()
                if chance < 0.01 or not tree.by_area[area]:
                    path, content = tree.add(area)
                elif chance < 0.013 and len(tree.by_area[area]) > 5:
                    gone = rng.choice(tree.by_area[area])
                    tree.delete(gone)
                    out.append(f"D {gone}\n".encode())
                    continue
                else:
                    path = rng.choice(tree.by_area[area])
                    if path in touched:
                        continue
                    content = tree.edit(path)
                touched.add(path)
                out.append(f"M 100644 inline {path}\n".encode() + _data(content))
            out.append(b"\n")
        main_marks.append(mark)
        made += 1
        if len(out) > 10_000:
            yield b"".join(out)
            out.clear()
    yield b"".join(out)


def build(path: Path, commits: int = 100_000, *, seed: int = 42) -> None:
    """Create the bare repository ``path`` with ``commits`` commits reachable from ``HEAD``."""
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}

    def git(*args: str, data: bytes | None = None) -> bytes:
        return subprocess.run(
            ["git", "-C", str(path), *args], input=data, capture_output=True, check=True, env=env
        ).stdout

    path.mkdir(parents=True)
    git("init", "-q", "--bare")
    with subprocess.Popen(
        ["git", "-C", str(path), "fast-import", "--quiet"], stdin=subprocess.PIPE, env=env
    ) as importer:
        assert importer.stdin is not None
        for piece in _stream(commits, seed):
            importer.stdin.write(piece)
        importer.stdin.close()
    if importer.returncode != 0:
        raise RuntimeError(f"git fast-import failed ({importer.returncode})")
    git("symbolic-ref", "HEAD", "refs/heads/main")
    git("update-ref", "-d", "refs/heads/topic")
    count = int(git("rev-list", "--count", "HEAD"))
    if count != commits:
        raise RuntimeError(f"built {count} commits, wanted {commits}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python bench/synthetic_repo.py PATH [COMMITS]")
    build(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) == 3 else 100_000)
