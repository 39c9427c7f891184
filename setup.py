"""The one thing pyproject.toml does not declare: the scanner's C inner loop.

``src/scelle/subjects/_fastscan.c`` is compiled when the package is installed
(``make setup`` does it); where it is not built, ``scelle scan`` runs its
Python path, with the same counts.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "scelle.subjects._fastscan",
            sources=["src/scelle/subjects/_fastscan.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Werror"],
        )
    ]
)
