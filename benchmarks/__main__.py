"""``python -m benchmarks``: run every benchmark."""

from .verify import main

raise SystemExit(main())
