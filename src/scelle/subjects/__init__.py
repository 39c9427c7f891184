"""Data subjects: identifier detection (NIR, INS, phone, e-mail...) in files, on the sender's side.

Pure and client-safe: nothing here imports server code (an import-linter
contract holds it), so ``scelle scan`` and ``scelle send`` use it on the
sender's device before anything is encrypted.
"""
