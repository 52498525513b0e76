"""Seeded random faults for the test API server (`--faults RATE --seed N`).

A share RATE of the requests that match gets one fault, picked by weight
among the kinds that apply to that request:

  500     answered 500 InternalError; the request is not carried out
  503     answered 503 ServiceUnavailable; not carried out
  429     answered 429 TooManyRequests with Retry-After; not carried out
  409     (PUT, PATCH) answered 409 Conflict; not carried out
  410     (a watch from a resourceVersion) the stream opens, then says
          410 Gone ("too old resource version") and ends
  cut     (a watch) the stream is closed mid-way, without its last chunk
  slow    the request is carried out, its answer held back `slow_ms` (past
          the client's timeout)
  reset   the request is carried out, half of its answer sent, then the
          connection is reset (TCP RST)

The kinds that carry a request out and lose its answer (slow, reset) are the
ones a client must not repeat blindly.  A fine spec (`mix`) gives each kind a
weight, `KIND:WEIGHT,...`; a kind left out never happens.  `match` is a
regular expression the request path must match (default: every resource
path, no discovery), `methods` the HTTP methods faults apply to (default:
all), `watch_rate` the share of watch requests that get one (default:
RATE; a client opens few watches, so a soak raises it), `users` the
identities faults apply to (NAME* a prefix; default:
all), `count` how
many more faults may happen (default: no limit; tests use
1 for exactly one).  Every fault is counted; the audit log names it.
"""

import random
import re
import threading

KINDS = ("500", "503", "429", "409", "410", "cut", "slow", "reset")
DEFAULT_MIX = "500:2,503:2,429:3,409:3,410:2,cut:2,slow:1,reset:2"
RESOURCE_PATH = re.compile(r"^/(api/v1|apis/[^/]+/[^/]+)/.+")


def parse_mix(text):
    """{kind: weight} from "KIND:WEIGHT,..." (ValueError naming what is wrong)."""
    mix = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        kind, _, w = part.partition(":")
        kind = kind.strip()
        if kind not in KINDS:
            raise ValueError("unknown fault kind %r (known: %s)" % (kind, ", ".join(KINDS)))
        try:
            weight = float(w) if w.strip() else 1.0
        except ValueError:
            raise ValueError("fault %s: weight %r is not a number" % (kind, w))
        if weight < 0:
            raise ValueError("fault %s: weight must not be negative" % kind)
        mix[kind] = weight
    return mix


class Chaos:
    def __init__(self, rate=0.0, seed=0, mix=DEFAULT_MIX, match="", slow_ms=12000,
                 retry_after=1):
        self.lock = threading.Lock()
        self.counts = {k: 0 for k in KINDS}
        self.rng = random.Random(seed)
        self.rate, self.seed, self.slow_ms, self.retry_after = 0.0, seed, slow_ms, retry_after
        self.mix, self.match, self.methods, self.left, self.users = {}, None, None, None, None
        self.watch_rate = None
        self.set({"rate": rate, "mix": mix, "match": match})

    def set(self, d):
        """Applies settings (ValueError on a bad one; nothing is changed then)."""
        rate = d.get("rate", self.rate)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError("rate: must be a number from 0 to 1")
        mix = parse_mix(d["mix"]) if "mix" in d else self.mix
        match = self.match
        if "match" in d:
            if not isinstance(d["match"], str):
                raise ValueError("match: must be a string")
            match = re.compile(d["match"]) if d["match"] else None
        slow = d.get("slow_ms", self.slow_ms)
        if isinstance(slow, bool) or not isinstance(slow, int) or slow < 0:
            raise ValueError("slow_ms: must be a non-negative integer")
        wrate = d.get("watch_rate", self.watch_rate)
        if wrate is not None and (isinstance(wrate, bool) or not isinstance(wrate, (int, float))
                                  or not 0 <= wrate <= 1):
            raise ValueError("watch_rate: must be a number from 0 to 1, or null")
        seed = d.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError("seed: must be an integer")
        methods = self.methods
        if "methods" in d:
            if not isinstance(d["methods"], str):
                raise ValueError("methods: must be a string")
            methods = set(m.strip().upper() for m in d["methods"].split(",") if m.strip()) or None
        users = self.users
        if "users" in d:
            if not isinstance(d["users"], str):
                raise ValueError("users: must be a string")
            users = set(u.strip() for u in d["users"].split(",") if u.strip()) or None
        left = d.get("count", self.left)
        if left is not None and (isinstance(left, bool) or not isinstance(left, int) or left < 0):
            raise ValueError("count: must be a non-negative integer")
        with self.lock:
            self.rate, self.mix, self.match, self.slow_ms = float(rate), mix, match, slow
            self.methods, self.left, self.users = methods, left, users
            self.watch_rate = wrate
            if seed is not None:
                self.seed = seed
                self.rng = random.Random(seed)

    def snapshot(self):
        with self.lock:
            return {"rate": self.rate, "watch_rate": self.watch_rate, "seed": self.seed,
                    "mix": ",".join("%s:%g" % kv for kv in self.mix.items()),
                    "match": self.match.pattern if self.match else "",
                    "methods": ",".join(sorted(self.methods or ())),
                    "users": ",".join(sorted(self.users or ())),
                    "count": self.left,
                    "slow_ms": self.slow_ms, "injected": dict(self.counts)}

    def pick(self, method, path, query, user=None):
        """The fault for this request, or None."""
        if not RESOURCE_PATH.match(path):
            return None
        watch = query.get("watch") in ("1", "true")
        rv = query.get("resourceVersion", "")
        with self.lock:
            rate = self.watch_rate if watch and self.watch_rate is not None else self.rate
            if rate <= 0 or (self.match and not self.match.search(path)) or \
                    (self.methods and method not in self.methods) or self.left == 0 or \
                    (self.users and not self._user_in(user)):
                return None
            if self.rng.random() >= rate:
                return None
            kinds = [k for k, w in self.mix.items() if w > 0 and self._applies(k, method, watch, rv)]
            if not kinds:
                return None
            total = sum(self.mix[k] for k in kinds)
            x = self.rng.random() * total
            for k in kinds:
                x -= self.mix[k]
                if x < 0:
                    break
            self.counts[k] += 1
            if self.left is not None:
                self.left -= 1
            return k

    def cut_after(self):
        """Seconds a cut watch stream runs before it is closed."""
        with self.lock:
            return self.rng.uniform(0.05, 2.0)

    def split_at(self, n):
        """How many of n answer bytes go out before a reset."""
        with self.lock:
            return self.rng.randint(0, max(n - 1, 0))

    def _user_in(self, user):
        return any(user == u or (u.endswith("*") and (user or "").startswith(u[:-1]))
                   for u in self.users)

    @staticmethod
    def _applies(kind, method, watch, rv):
        if kind in ("410", "cut"):
            return watch and (kind == "cut" or (rv.isdigit() and rv != "0"))
        if watch:
            return kind in ("500", "503", "429")
        if kind == "409":
            return method in ("PUT", "PATCH")
        return True
