"""The central side's deployment files, checked offline: hadolint on the Dockerfile,
kubernetes-validate on the manifests (both from PyPI), every c360-server command line they hold
parsed by c360-server's own parser, and the server commands run on the image's dependency list.

No container engine runs on these machines, so the image itself is not built here: the nearest
real path is running each server command against the real PostgreSQL with every library the
image leaves out (Qt, the analytics and desktop libraries) blocked from import."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))


def tool(name):
    path = BIN / name
    assert path.exists(), f"{name} is missing: it comes with the test extra (pip install -e '.[all]')"
    return str(path)


def test_hadolint_passes_the_dockerfile_and_catches_a_bad_one(tmp_path):
    r = subprocess.run([tool("hadolint"), str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install c360\nCMD c360-server\n")
    r = subprocess.run([tool("hadolint"), str(bad)], capture_output=True, text=True)
    assert r.returncode != 0 and "DL3007" in r.stdout  # the linter really reads what it is given


def test_kubernetes_validate_passes_every_manifest_and_catches_a_bad_one(tmp_path):
    assert {p.name for p in MANIFESTS} >= {"configmap.yaml", "migrate-job.yaml", "kafka-init-job.yaml", "publisher.yaml"}
    r = subprocess.run([tool("kubernetes-validate"), "--strict", *map(str, MANIFESTS)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    broken = tmp_path / "publisher.yaml"
    broken.write_text((DEPLOY / "k8s" / "publisher.yaml").read_text().replace("replicas: 1", "replicas: one"))
    r = subprocess.run([tool("kubernetes-validate"), "--strict", str(broken)], capture_output=True, text=True)
    assert r.returncode != 0


def _documents():
    return [d for p in MANIFESTS for d in yaml.safe_load_all(p.read_text()) if d]


def _config():
    (cm,) = [d for d in _documents() if d["kind"] == "ConfigMap"]
    return cm["data"]


def _containers():
    for d in _documents():
        if d["kind"] in ("Deployment", "Job"):
            yield d, d["spec"]["template"]["spec"]["containers"]
        elif d["kind"] == "CronJob":
            yield d, d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]


def test_every_server_command_in_the_manifests_parses_and_secrets_are_referenced():
    from server_sync.cli import build_parser

    config = _config()
    seen = set()
    for doc, containers in _containers():
        for c in containers:
            args = [re.sub(r"\$\((\w+)\)", lambda m: config[m.group(1)], a) for a in c["args"]]
            parsed = build_parser().parse_args(args)  # exits (fails the test) on a bad line
            seen.add(parsed.command)
            assert c["image"].endswith(":0.1.0") and c["securityContext"]["readOnlyRootFilesystem"] is True
            assert "limits" in c["resources"] and "requests" in c["resources"]
            for env in c.get("env", []):
                assert "value" not in env or "PASS" not in env["name"], f"{doc['metadata']['name']}: an inlined secret"
                if env["name"] == "PGPASSWORD":
                    assert env["valueFrom"]["secretKeyRef"]["name"] == "c360-central-app"
            probe = c.get("readinessProbe", {}).get("exec")
            if probe:
                line = probe["command"][-1].replace('"$C360_CENTRAL_URL"', config["C360_CENTRAL_URL"]).replace(
                    '"$C360_KAFKA_BOOTSTRAP"', config["C360_KAFKA_BOOTSTRAP"])
                argv = shlex.split(line)
                assert argv[0] == "c360-server" and build_parser().parse_args(argv[1:]).command == "health"
    assert seen == {"init", "kafka-init", "publish-changes", "retention"}
    kinds = {d["kind"] for d in _documents()}
    assert {"Deployment", "Job", "CronJob", "ConfigMap", "PodDisruptionBudget", "Service"} <= kinds
    assert "StatefulSet" not in kinds  # PostgreSQL and Kafka are existing services, not ours


def test_compose_pins_images_reads_secrets_from_files_and_orders_the_jobs():
    from server_sync.cli import build_parser

    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "kafka", "migrate", "kafka-init", "publisher"}
    for name, s in services.items():
        image = s["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: unpinned image {image}"
        for key in s.get("environment") or {}:
            assert "PASSWORD" not in key or key.endswith("_FILE"), f"{name}: {key} inlined"
        if image.startswith("c360-server"):
            assert build_parser().parse_args(s["command"]).command in ("init", "kafka-init", "publish-changes")
    assert services["kafka"]["image"].startswith("apache/kafka:") and "KAFKA_PROCESS_ROLES" in services["kafka"]["environment"]
    assert services["publisher"]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"},
                                                  "kafka-init": {"condition": "service_completed_successfully"}}
    assert compose["secrets"]["pg_password"]["file"] == "./secrets/pg_password.txt"


def test_the_image_pins_lie_within_the_ranges_ci_tests():
    import tomllib

    from packaging.requirements import Requirement

    ranges = {Requirement(r).name.lower(): Requirement(r).specifier
              for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    pins = [Requirement(line) for line in (DEPLOY / "requirements-server.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    checked = 0
    for pin in pins:
        (version,) = [s.version for s in pin.specifier]
        if pin.name.lower() in ranges:
            assert ranges[pin.name.lower()].contains(version), f"{pin} is outside pyproject's {ranges[pin.name.lower()]}"
            checked += 1
    assert checked >= 6


BLOCKER = """
import importlib.abc, sys
LEFT_OUT = {%s}
class LeftOut(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in LEFT_OUT:
            raise ImportError(f"{name} is not in the server image")
sys.meta_path.insert(0, LeftOut())
from server_sync.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_server_commands_run_on_the_image_dependencies_alone(pg, tmp_path):
    pinned = {line.split("==")[0].lower().replace("-", "_") for line in
              (DEPLOY / "requirements-server.txt").read_text().splitlines() if "==" in line}
    left_out = ["PySide6", "numpy", "pandas", "sklearn", "xgboost", "scipy", "statsmodels", "duckdb", "pyarrow",
                "rapidfuzz", "openpyxl", "xlsxwriter", "reportlab", "folium", "keyring", "phonenumbers", "holidays",
                "pyodbc"]
    assert not pinned & {m.lower() for m in left_out}
    script = tmp_path / "server_only.py"
    script.write_text(BLOCKER % ", ".join(repr(m) for m in left_out))
    url = pg.create_database("deploy_check")
    secret = tmp_path / "pg_password"
    secret.write_text("unused-by-trust-auth\n")
    env = {**os.environ, "PGPASSWORD_FILE": str(secret)}
    env.pop("PGPASSWORD", None)

    def run(*args):
        return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=env,
                              cwd=ROOT, timeout=120)

    r = run("init", "--url", url)
    assert r.returncode == 0 and "central schema at revision" in r.stdout, r.stderr
    r = run("health", "--url", url, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert '"status": "amber"' in r.stdout  # the publisher has not run yet; nothing red
    r = run("publish-changes", "--url", url, "--bootstrap", "127.0.0.1:1", "--once")
    assert r.returncode == 0 and "published 0 change events" in r.stdout, r.stderr  # nothing changed yet
    r = run("retention", "run", "--url", url, "--dry-run")
    assert r.returncode == 0 and "would remove 0 rows in all" in r.stdout, r.stderr


# -- the Windows installer and its workflow (Windows only runs them; checked here as text) ---------

WORKFLOW = ROOT / ".github" / "workflows" / "windows.yml"
ISS = ROOT / "packaging" / "windows" / "c360.iss"


def test_the_windows_workflow_is_a_valid_workflow_and_a_broken_one_is_caught(tmp_path):
    """actionlint's PyPI package has no wheel and fetches its binary from GitHub while it
    installs, which this network refuses; the workflow is checked against SchemaStore's GitHub
    workflow schema, which check-jsonschema carries, instead."""
    check = [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
    r = subprocess.run([*check, str(WORKFLOW)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    broken = tmp_path / "windows.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: windows-latest", "runs_on: windows-latest", 1))
    assert subprocess.run([*check, str(broken)], capture_output=True, text=True).returncode != 0


def test_the_workflow_builds_installs_checks_and_uninstalls_in_two_stages():
    flow = yaml.safe_load(WORKFLOW.read_text())
    build, verify = flow["jobs"]["build"], flow["jobs"]["verify"]
    assert verify["needs"] == "build" and build["runs-on"] == verify["runs-on"] == "windows-latest"
    build_text = " ".join(s.get("run", "") for s in build["steps"])
    verify_text = " ".join(s.get("run", "") for s in verify["steps"])
    assert "python packaging/build.py" in build_text and "--smoke-test" in build_text
    assert "ISCC.exe" in build_text and "packaging\\windows\\c360.iss" in build_text
    assert "WINDOWS_SIGNING_CERT" in json.dumps(build) and "not signed" in build_text
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in build["steps"])
    for needed in ("/VERYSILENT", "Start Menu", "ProductVersion", "--smoke-test", "unins000.exe", "keep-me.txt"):
        assert needed in verify_text, needed


def test_the_installer_script_installs_what_the_build_makes_per_user_by_default():
    iss = ISS.read_text()
    settings = dict(re.findall(r"^(\w+)=(.*)$", iss, re.M))
    assert settings["PrivilegesRequired"] == "lowest"  # no administrator rights by default
    assert "commandline" in settings["PrivilegesRequiredOverridesAllowed"]  # /ALLUSERS for IT
    assert re.fullmatch(r"\{\{[0-9A-F-]{36}\}", settings["AppId"])  # one id: upgrades in place
    assert 'Source: "..\\..\\dist\\c360\\*"' in iss  # what packaging/build.py writes
    spec = (ROOT / "packaging" / "c360.spec").read_text()
    assert 'name="c360-desktop"' in spec and '#define AppExe "c360-desktop.exe"' in iss
    assert 'name="c360"' in spec.split("COLLECT(")[1]
    assert "{autoprograms}" in iss and "desktopicon" in iss and "Flags: unchecked" in iss
    assert "UninstallSilent()" in iss and "PURGE" in iss  # user data stays unless asked
