"""Print NAME==VERSION with the sha256 of every file PyPI has for that release, as pip's hash-checking mode
reads it (scripts/lock.sh pins the packages installed with --no-deps this way).

    python scripts/pypi_hashes.py NAME VERSION
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request


def norm(name: str) -> str:
    """A distribution's name as wheel and sdist file names spell it (PEP 503 normalisation, with "_")."""
    return re.sub(r"[-_.]+", "_", name).lower()


def release_of(filename: str) -> str:
    """NAME-VERSION of a wheel or sdist file, normalised; "" for any other file."""
    if filename.endswith(".whl"):
        return norm("-".join(filename.split("-")[:2]))
    for ext in (".tar.gz", ".zip"):
        if filename.endswith(ext):
            return norm(filename.removesuffix(ext))
    return ""


def main(name: str, version: str) -> int:
    req = urllib.request.Request(f"https://pypi.org/simple/{name}/",
                                 headers={"Accept": "application/vnd.pypi.simple.v1+json"})  # PEP 691
    with urllib.request.urlopen(req, timeout=60) as reply:
        files = json.load(reply)["files"]
    mine = [f for f in files if release_of(f["filename"]) == norm(f"{name}-{version}")]
    if not mine:
        print(f"{name}=={version}: PyPI has no such release", file=sys.stderr)
        return 1
    print(f"{name}=={version} \\")
    print(" \\\n".join(f"    --hash=sha256:{f['hashes']['sha256']}" for f in mine))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
