"""The functions' dependencies as deployed: what `sam build` puts in each function's zip.

`sam build` installs functions/requirements.txt with pip into the build directory, with every
dependency pip resolves: pip does not know that the Lambda Python runtime already has boto3 and
botocore, so a requirement that depends on botocore (the X-Ray SDK does) ships a second copy.
The closure is resolved from the installed distributions of this interpreter (extras and markers
honoured), and each distribution's size is the sum of the files its RECORD lists, unzipped,
without __pycache__ (compiled on first import, not shipped by `sam build`) and without scripts
outside site-packages. The wheels are this machine's (x86_64 or whatever it is); Lambda's arm64
wheels of the compiled packages (pydantic-core) differ in size by a few percent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from benchmarks.coldstart import closure

TARGET_MB = 15.0
SECOND_BOTOCORE = "botocore"  # in the runtime already: in the zip, it is a second copy


@dataclass
class Dist:
    name: str
    version: str
    size: int  # bytes, unzipped


@dataclass
class Package:
    requirements: list[str]
    dists: list[Dist]  # largest first

    @property
    def size(self) -> int:
        return sum(d.size for d in self.dists)

    @property
    def mb(self) -> float:
        return self.size / 1e6

    @property
    def botocore(self) -> bool:
        return any(_key(d.name) == SECOND_BOTOCORE for d in self.dists)

    @property
    def target_met(self) -> bool:
        return self.mb <= TARGET_MB and not self.botocore


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def measure(requirements: list[str]) -> Package:
    dists = []
    for dist in closure(requirements).values():
        size = 0
        for f in dist.files or []:
            if not f.parts or f.parts[0] == ".." or "__pycache__" in f.parts:
                continue
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                size += path.stat().st_size
        dists.append(Dist(dist.metadata["Name"], dist.version, size))
    return Package(requirements, sorted(dists, key=lambda d: -d.size))
