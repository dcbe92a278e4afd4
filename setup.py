"""Package discovery plus one mapping: the top-level resources/ folder ships as c360_desktop.resources.

Everything else about the build lives in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["c360_desktop*", "server_sync*", "plugins*"])
    + ["c360_desktop.resources"],
    package_dir={"c360_desktop.resources": "resources"},
)
