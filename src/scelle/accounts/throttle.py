"""Throttling of login, second factor, enrolment, token and patient-link use, across processes.

Counts live in the ``limits`` library's storage: in memory for one process (the
embedded default), in Redis when ``SCELLE_REDIS_URL`` is set, so that several
server processes share them. Each rule is a list of moving windows, checked
together; the tightest one that is exhausted gives the ``Retry-After``.

The lockout is soft, on purpose:

- per (account, IP) failures back off in tiers (minutes, then tens of minutes,
  then an hour at most): the one address that guesses is slowed the most;
- per account failures, from any address, only slow (short windows): a
  distributed attacker can delay a victim's login, never lock it for good;
- per IP attempts cap what one address can try across many accounts;
- per IP patient-link requests (``link``, no account involved) cap how many
  ids one address can try and how often it can fetch a ciphertext to guess
  its passphrase offline.

Keys are SHA-256 digests of the e-mail or address, so the store holds neither.
An unknown e-mail is counted exactly like a known one: a throttled answer says
nothing about whether the account exists.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from limits import RateLimitItem, parse, parse_many
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

if TYPE_CHECKING:
    from scelle.config import Settings

__all__ = ["ACTIONS", "SCOPES", "Throttle"]

ACTIONS = frozenset({"login", "mfa", "enrol", "token", "link"})
SCOPES = frozenset({"ip", "account", "account_ip"})
# At most one "throttled" audit event per key and minute, so an attack cannot flood the log.
_AUDIT_EVERY = parse("1/minute")


@dataclass(frozen=True)
class _Rule:
    action: str
    scope: str
    items: tuple[RateLimitItem, ...]


def _digest(value: str) -> str:
    return hashlib.sha256(b"scelle/v1/throttle\x00" + value.encode()).hexdigest()[:32]


class Throttle:
    """The counters of every throttling rule, in one ``limits`` storage."""

    def __init__(self, settings: Settings) -> None:
        storage: Storage
        if settings.redis_url:
            storage = RedisStorage(
                settings.redis_url, key_prefix=f"{settings.rate_limit_prefix}:limits"
            )
        else:
            storage = MemoryStorage()
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._rules: dict[tuple[str, str], _Rule] = {}
        configured = {
            ("login", "ip"): settings.throttle_login_ip,
            ("login", "account"): settings.throttle_login_account,
            ("login", "account_ip"): settings.throttle_login_account_ip,
            ("mfa", "account"): settings.throttle_mfa_account,
            ("enrol", "ip"): settings.throttle_enrol_ip,
            ("token", "ip"): settings.throttle_token_ip,
            ("token", "account"): settings.throttle_token_account,
            ("link", "ip"): settings.throttle_link_ip,
        }
        for (action, scope), text in configured.items():
            if text.strip():
                self._rules[action, scope] = _Rule(action, scope, tuple(parse_many(text)))

    def _identifiers(self, rule: _Rule, key: str) -> tuple[str, str, str]:
        return (rule.action, rule.scope, _digest(key))

    def retry_after(self, action: str, scope: str, key: str) -> int | None:
        """Seconds to wait when the rule is exhausted for ``key``; None when an attempt may go."""
        rule = self._rules.get((action, scope))
        if rule is None:
            return None
        waits = []
        for item in rule.items:
            ids = self._identifiers(rule, key)
            if not self._limiter.test(item, *ids):
                reset = self._limiter.get_window_stats(item, *ids).reset_time
                waits.append(max(1, math.ceil(reset - time.time())))
        return max(waits) if waits else None

    def hit(self, action: str, scope: str, key: str) -> int | None:
        """Count one attempt; the seconds to wait when this one went over, else None."""
        rule = self._rules.get((action, scope))
        if rule is None:
            return None
        ids = self._identifiers(rule, key)
        over = [item for item in rule.items if not self._limiter.hit(item, *ids)]
        if not over:
            return None
        return self.retry_after(action, scope, key) or 1

    def first_in_minute(self, action: str, scope: str, key: str) -> bool:
        """True at most once a minute per rule and key: when a throttling is worth auditing."""
        return self._limiter.hit(_AUDIT_EVERY, "audit", action, scope, _digest(key))

    def reset(self) -> None:
        """Forget every count (tests and operators; Redis keys under the prefix only)."""
        self.storage.reset()
