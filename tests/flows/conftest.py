"""Fixtures for flow tests: one Prefect test server per session, and small inboxes.

Use ``prefect_harness`` in any flow test (batch repair, training): it starts Prefect's
temporary server with its own SQLite database once for the whole session, so flow runs,
task runs and artifacts are real but nothing touches the developer's Prefect setup.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# pytest puts tests/ on sys.path, where tests/flows/ (no __init__.py) passes for a namespace
# package ``flows``. A regular package anywhere on sys.path wins over that, so the project
# root must be on it even when the project is not installed with flows/ mapped.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))
if "flows" in sys.modules and getattr(sys.modules["flows"], "__file__", None) is None:
    del sys.modules["flows"]  # a namespace package picked up before this file ran

# The temporary server is a subprocess; on a busy 2-core machine it can take a while to answer.
HARNESS_STARTUP_TIMEOUT_S = 180


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect API (own database) for the whole test session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=HARNESS_STARTUP_TIMEOUT_S):
        yield


@pytest.fixture
def make_inbox(tmp_path: Path) -> Callable[..., Path]:
    """``make_inbox(good=("a", "b"), corrupt=("bad",))``: see :func:`flow_samples.build_inbox`."""
    from flow_samples import build_inbox

    return lambda good=("a", "b"), corrupt=("bad",): build_inbox(tmp_path / "inbox", good, corrupt)
