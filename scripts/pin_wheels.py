"""Pin a lock's packages to the wheel files of a bundle: NAME==VERSION with each wheel's own sha256.

The lock's hashes are those of the files on PyPI; a package that PyPI has only as source was checked
against its source's hash when scripts/bundle.sh built it, and its wheel, built there, is pinned here.

    python scripts/pin_wheels.py LOCK WHEEL_DIR > WHEEL_DIR/LOCK
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

from pypi_hashes import norm  # scripts/ is this script's import path


def main(lock: str, wheel_dir: str) -> int:
    wheels = {}
    for path in Path(wheel_dir).glob("*.whl"):
        name, version = path.name.split("-")[:2]
        wheels[(norm(name), version)] = path
    missing = []
    for line in Path(lock).read_text().splitlines():
        found = re.match(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", line)
        if not found:
            continue
        name, version = found.groups()
        path = wheels.get((norm(name), version))
        if path is None:
            missing.append(f"{name}=={version}")
            continue
        print(f"{name}=={version} --hash=sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}")
    if missing:
        print(f"pin_wheels: no wheel in {wheel_dir} for {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
