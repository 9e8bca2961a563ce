"""The demo company generator: what `truckroll demo` and `truckroll serve --demo` seed.

`seed` writes the company into an empty database; `world` builds it in memory from the other
modules (catalogue, company, sites, history, noise, state), so it is tested without I/O.
Only the CLI imports it, and an import-linter contract keeps it so: no code path a real company
runs depends on invented data.
"""

from dispatch.demo.seed import DemoLogin, DemoSummary, demo_logins, seed_demo, still_valid

__all__ = ["DemoLogin", "DemoSummary", "demo_logins", "seed_demo", "still_valid"]
