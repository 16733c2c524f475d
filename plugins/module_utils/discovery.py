# Copyright: otel.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which kinds the API server serves, and at which REST paths.

Only the group-versions that the input names are read (one request each), and the
answers are cached on disk per API server for a few minutes, like kubectl's discovery
cache. A kind missing from a cached answer triggers one fresh read before it is called
unknown, and a CRD applied during the run drops its group-version from the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass

from ansible_collections.otel.kubernetes.plugins.module_utils.errors import ApiError

CACHE_TTL = 600.0


@dataclass(frozen=True)
class Resource:
    api_version: str
    kind: str
    plural: str
    namespaced: bool


def _default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "otel-kubernetes", "discovery")


class Discovery:
    def __init__(self, client, cache_dir: str | None = None, ttl: float = CACHE_TTL):
        self.client = client
        self.ttl = ttl
        key = hashlib.sha256(client.conn.server.encode()).hexdigest()[:16]
        self.cache_file = os.path.join(cache_dir or _default_cache_dir(), key + ".json")
        self._cache = self._load()  # group-version -> {"at": epoch, "kinds": {kind: [plural, namespaced]}}
        self._fresh = set()  # group-versions read from the server during this run

    def _load(self) -> dict:
        try:
            with open(self.cache_file) as handle:
                data = json.load(handle)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save(self) -> None:
        try:
            os.makedirs(os.path.dirname(self.cache_file), mode=0o700, exist_ok=True)
            temp = self.cache_file + f".{os.getpid()}"
            with open(temp, "w") as handle:
                json.dump(self._cache, handle)
            os.replace(temp, self.cache_file)
        except OSError:
            pass  # a cache that cannot be written only costs requests

    def _read(self, api_version: str) -> dict:
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        try:
            data = self.client.request("GET", path).data
        except ApiError as error:
            if error.status == 404:
                kinds = {}
            else:
                raise
        else:
            kinds = {
                r["kind"]: [r["name"], bool(r.get("namespaced"))]
                for r in data.get("resources", [])
                if "/" not in r["name"]  # subresources such as deployments/status
            }
        self._cache[api_version] = {"at": time.time(), "kinds": kinds}
        self._fresh.add(api_version)
        self._save()
        return kinds

    def find(self, api_version: str, kind: str) -> Resource | None:
        """The served resource for apiVersion/kind, or None if the server does not serve it."""
        entry = self._cache.get(api_version)
        if entry is None or time.time() - entry.get("at", 0) > self.ttl:
            kinds = self._read(api_version)
        else:
            kinds = entry["kinds"]
            if kind not in kinds and api_version not in self._fresh:
                kinds = self._read(api_version)
        found = kinds.get(kind)
        return Resource(api_version, kind, found[0], found[1]) if found else None

    def invalidate(self, api_version: str) -> None:
        """Forget a group-version (a CRD for it was just applied or removed)."""
        self._cache.pop(api_version, None)
        self._fresh.discard(api_version)


def group_serves(client, api_version: str, kinds, deadline: float | None = None) -> bool:
    """Does the API server serve every one of these kinds in api_version now? One fresh request,
    no cache: asked once per run about an add-on (cert-manager, metrics-server) that may just have
    been installed or removed. ``deadline`` (time.monotonic()) ends the client's retries sooner."""
    try:
        data = client.request("GET", f"/apis/{api_version}", **({"deadline": deadline} if deadline else {})).data
    except ApiError as error:
        if error.status == 404:
            return False
        raise
    served = {r.get("kind") for r in data.get("resources") or []}
    return all(kind in served for kind in kinds)
