"""Build the frozen one-folder app: ``python packaging/build.py`` (dist/c360/).

1. Writes the plugin registry the frozen app reads instead of package metadata
   (c360_desktop.plugin_api.FROZEN_REGISTRY), from this environment's first-party entry points,
   and on Windows the version resource from pyproject's version (pyinstaller-versionfile).
2. Runs PyInstaller on packaging/c360.spec.
3. Lists every file of the bundle with its size (dist/c360-files.txt), and fails when a file on
   the deny list is in it or the bundle is over its budget (bundle_rules.py).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
from bundle_rules import BUDGET_MB, DENY  # noqa: E402

FIRST_PARTY = ("c360_desktop.", "plugins.")


def write_registry(build: Path) -> dict[str, str]:
    found = {ep.name: ep.value for ep in entry_points(group="c360_desktop.plugins")
             if ep.value.startswith(FIRST_PARTY) and not ep.value.startswith("plugins.example")}
    build.mkdir(exist_ok=True)
    (build / "frozen_plugins.json").write_text(json.dumps(found, indent=2, sort_keys=True), "utf-8")
    return found


def write_version(build: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    if sys.platform != "win32":
        return
    import pyinstaller_versionfile

    pyinstaller_versionfile.create_versionfile(
        output_file=str(build / "version_info.txt"), version=version + ".0" * (3 - version.count(".")),
        company_name="C360", file_description="C360 Desktop", internal_name="c360-desktop",
        legal_copyright="C360", original_filename="c360-desktop.exe", product_name="C360 Desktop")


def inventory(bundle: Path, listing: Path) -> tuple[int, int, list[str]]:
    files = sorted(p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink())  # a link: counted once
    total = 0
    denied = []
    with listing.open("w", encoding="utf-8") as out:
        for p in files:
            size = p.stat().st_size
            total += size
            rel = "/" + p.relative_to(bundle).as_posix()
            out.write(f"{size:>12}  {rel}\n")
            if any(d in rel for d in DENY):
                denied.append(rel)
    return total, len(files), denied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dist", default=str(ROOT / "dist"))
    parser.add_argument("--skip-pyinstaller", action="store_true", help="only check an existing bundle")
    args = parser.parse_args(argv)
    build, dist = ROOT / "build", Path(args.dist)
    plugins = write_registry(build)
    write_version(build)
    print(f"plugin registry: {len(plugins)} plugins")
    started = time.perf_counter()
    if not args.skip_pyinstaller:
        r = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                            "--distpath", str(dist), "--workpath", str(build / "pyinstaller"),
                            str(ROOT / "packaging" / "c360.spec")], cwd=ROOT)
        if r.returncode:
            print("PyInstaller failed", file=sys.stderr)
            return r.returncode
    total, count, denied = inventory(dist / "c360", dist / "c360-files.txt")
    mb = total / 1e6
    print(f"bundle: {count:,} files, {mb:,.0f} MB unpacked (budget {BUDGET_MB} MB), "
          f"built in {time.perf_counter() - started:.0f} s; list in {dist / 'c360-files.txt'}")
    problems = []
    if denied:
        problems.append(f"{len(denied)} denied files, e.g. {', '.join(denied[:5])}")
    if mb > BUDGET_MB:
        problems.append(f"over budget: {mb:,.0f} MB > {BUDGET_MB} MB")
    for p in problems:
        print(f"bundle check failed: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
