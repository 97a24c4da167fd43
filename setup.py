"""Which files the package ships (the rest of the metadata is in pyproject.toml).

The top-level templates/ and static/ folders stay at the root of the source tree; the build
maps them, subfolders included, into the package as `app/templates` and `app/static`, where
the installed app finds them (app/assets.py).
"""

from setuptools import find_namespace_packages, find_packages, setup


def data_packages(package: str, folder: str) -> dict[str, str]:
    """Map a data folder and each of its subfolders to a package under `app`."""
    subfolders = find_namespace_packages(where=folder)
    return {package: folder} | {
        f"{package}.{sub}": f"{folder}/{sub.replace('.', '/')}" for sub in subfolders
    }


ASSETS = data_packages("app.templates", "templates") | data_packages("app.static", "static")

setup(
    packages=[*find_packages(include=["app*"]), *ASSETS],
    package_dir=ASSETS,
    package_data={"app.migrations": ["script.py.mako"], "app.web": ["locales/*.json"]}
    | {name: ["*"] for name in ASSETS},
)
