"""Copy the front-end files hubsync serves from node_modules into app/ui/static/vendor.

Run after `npm ci`. Writes VENDORED.txt beside them (package, version, SHA-256
of each file) so a test can prove what is served matches the lock file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "app" / "ui" / "static" / "vendor"
FILES = {
    "htmx.org": ["dist/htmx.min.js"],
    "@picocss/pico": ["css/pico.min.css"],
    "swagger-ui-dist": ["swagger-ui-bundle.js", "swagger-ui.css"],
}


def main() -> int:
    """Copy every listed file and record its version and hash."""
    TARGET.mkdir(parents=True, exist_ok=True)
    lines = []
    for package, paths in FILES.items():
        package_dir = ROOT / "node_modules" / package
        if not package_dir.is_dir():
            sys.stderr.write(f"{package} is not installed; run `npm ci` first\n")
            return 1
        version = json.loads((package_dir / "package.json").read_text())["version"]
        for relative in paths:
            source = package_dir / relative
            destination = TARGET / source.name
            shutil.copyfile(source, destination)
            digest = hashlib.sha256(destination.read_bytes()).hexdigest()
            lines.append(f"{destination.name} {package} {version} sha256:{digest}")
    (TARGET / "VENDORED.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
