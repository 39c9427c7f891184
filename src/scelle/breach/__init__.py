"""Breach response: impact assessment, the supervisory-authority notice, letters, lockdown.

``service`` and ``repository`` run on the server host (``scelle breach assess``,
``scelle admin lockdown``); ``letters`` and ``notice`` are pure and also run on
a sending organisation's own machine (``scelle breach letters``).
"""
