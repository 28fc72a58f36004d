"""``python -m benchmarks [--quick]``: every benchmark, JSON reports in benchmarks/results/."""

import sys
from pathlib import Path

from benchmarks import degrade, gate, gate_loop, qr, registry, report, status, verify

results = Path(__file__).resolve().parent / "results"
quick = ["--quick"] if "--quick" in sys.argv[1:] else []
gate.main([*quick, "--json", str(results / "gate.json")])
print()
verify.main([*quick, "--json", str(results / "verify.json")])
print()
status.main([*quick, "--json", str(results / "status.json")])
print()
qr.main([*quick, "--json", str(results / "qr.json")])
print()
registry.main([*quick, "--json", str(results / "registry.json")])
print()
degrade.main([*quick, "--json", str(results / "degrade.json")])
print()
gate_loop.main([*quick, "--json", str(results / "gate_loop.json")])
report.main()
print(f"\nreport: {results / 'report.md'}, chart: {results / 'chart.png'}")
