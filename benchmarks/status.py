"""Status list benchmark: publishing a 1.2 M-entry, 2-bit list with 1 % revoked.

Reports the time to publish (snapshot -> zlib -> CBOR -> sign) as a ratio to bare zlib
compression of the same bytes measured in the same run (stdlib zlib and zlib-ng, level 9), and
the compressed size against the entropy bound of the list. Usage::

    .venv/bin/python -m benchmarks.status [--json PATH] [--quick]
"""

from __future__ import annotations

import math
import random
import time
import zlib
from typing import Any

from zlib_ng import zlib_ng

from benchmarks import _cli
from vcsdk import Ed25519PrivateKey
from vcsdk.revocation import StatusListBuilder, sign_token

ENTRIES = 1_200_000
REVOKED_SHARE = 0.01
NOW = 1_780_000_000


median_seconds = _cli.median_seconds


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 3 if quick else 7
    rng = random.Random(7)
    revoked = rng.sample(range(ENTRIES), int(ENTRIES * REVOKED_SHARE))
    key = Ed25519PrivateKey(bytes(range(32)))

    def snapshot() -> Any:
        builder = StatusListBuilder(ENTRIES, 2)
        builder.update((idx, 1) for idx in revoked)
        return builder.freeze()

    status_list = snapshot()
    data = status_list.data

    def publish() -> bytes:
        return sign_token(snapshot(), "https://id.mois.go.kr/sl/7", key, issued_at=NOW, expires_at=NOW + 86400)

    token = publish()
    compressed = status_list.compressed()
    p = REVOKED_SHARE
    entropy_bytes = ENTRIES * -(p * math.log2(p) + (1 - p) * math.log2(1 - p)) / 8
    seconds = {
        "publish": median_seconds(publish, rounds),
        "bare_zlib_level9": median_seconds(lambda: zlib.compress(data, 9), rounds),
        "bare_zlib_ng_level9": median_seconds(lambda: zlib_ng.compress(data, 9), rounds),
        "snapshot_only": median_seconds(snapshot, rounds),
    }
    return {
        "benchmark": "status-list publication",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "list": {"entries": ENTRIES, "bits": 2, "revoked": len(revoked), "raw_bytes": len(data)},
        "ms": {k: round(v * 1000, 2) for k, v in seconds.items()},
        "ratios": {
            "publish_vs_stdlib_zlib": round(seconds["publish"] / seconds["bare_zlib_level9"], 3),
            "publish_vs_zlib_ng": round(seconds["publish"] / seconds["bare_zlib_ng_level9"], 3),
        },
        "sizes": {
            "lst_bytes": len(compressed),
            "token_bytes": len(token),
            "stdlib_zlib_bytes": len(zlib.compress(data, 9)),
            "entropy_bound_bytes": round(entropy_bytes),
            "lst_vs_entropy_bound": round(len(compressed) / entropy_bytes, 3),
        },
        "targets": {"publish_vs_stdlib_zlib": "<= 1.2"},
    }


def main(argv: list[str] | None = None) -> int:
    args = _cli.parse("status list publication benchmark", argv)
    report = run(quick=args.quick)
    print(f"status list publication ({ENTRIES:,} entries, 2 bits, {REVOKED_SHARE:.0%} revoked)")
    for section in ("ms", "ratios", "sizes"):
        for name, value in report[section].items():
            print(f"  {section}.{name:<26} {value}")
    _cli.save(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
