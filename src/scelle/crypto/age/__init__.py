"""age v1 (https://age-encryption.org/v1) on pyca ``cryptography`` primitives.

Modules: ``header`` (stanzas, header encoding and MAC), ``stream`` (the 64 KiB
STREAM payload), ``armor`` (ASCII armor), ``recipients`` (public side: wrap a
file key), ``identity`` (private side: unwrap), ``encrypt`` and ``decrypt``.
The server imports ``encrypt``/``recipients`` at most, never ``decrypt`` or
``identity`` (import-linter enforces it).
"""
