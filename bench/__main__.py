"""``python -m bench``: run the side-by-side benchmarks (see ``bench/run.py``)."""

from bench.run import main

raise SystemExit(main())
