"""Which files the package ships (the rest of the metadata is in pyproject.toml).

The top-level templates/ and static/ folders stay at the root of the source tree; the build
maps them into the package as `app/templates` and `app/static`, where the installed app finds
them (app/assets.py).
"""

from setuptools import find_packages, setup

ASSETS = {"app.templates": "templates", "app.static": "static"}

setup(
    packages=[*find_packages(include=["app*"]), *ASSETS],
    package_dir=ASSETS,
    package_data={"app.migrations": ["script.py.mako"]} | {name: ["**/*"] for name in ASSETS},
)
