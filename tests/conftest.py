"""Session-wide test settings: offline, no telemetry, nothing written outside tmp folders."""

from __future__ import annotations

import os
import tempfile

# Set before any of the stack is imported by a test module.
_OFFLINE_ENV = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "False",
    "DVC_NO_ANALYTICS": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "HF_HUB_OFFLINE": "1",
}
for _key, _value in _OFFLINE_ENV.items():
    os.environ.setdefault(_key, _value)

# Prefect keeps results in ~/.prefect/storage across runs; a per-session folder keeps tests
# independent of each other and of the developer's own runs.
_PREFECT_HOME = tempfile.mkdtemp(prefix="seedvr-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ.setdefault("PREFECT_LOCAL_STORAGE_PATH", os.path.join(_PREFECT_HOME, "storage"))
