"""MLflow tracking, the model registry and promotion of ``seedvr-repair`` versions.

- :mod:`~seedvr.registry.tracking` — where runs go (SQLite by default), runs that log params,
  data version and git commit;
- :mod:`~seedvr.registry.models` — log a pipeline folder as a pyfunc model, register it;
- :mod:`~seedvr.registry.promotion` — the gates and the ``challenger`` / ``champion`` aliases;
- :mod:`~seedvr.registry.pyfunc_model` — the model code MLflow loads (never imported here).

Resolving and downloading a registered version (what loading a model needs) is
:mod:`seedvr.modelstore`, a lower layer; it is re-exported here for callers of the registry.
"""

from seedvr.modelstore.location import configure_tracking
from seedvr.modelstore.registered import (
    CHALLENGER,
    CHAMPION,
    DEFAULT_MODEL_NAME,
    current_champion,
    download_registered_pipeline,
    resolve_model_version,
)
from seedvr.registry.models import list_versions, log_pipeline_model, register_model
from seedvr.registry.promotion import (
    ChampionEvaluation,
    PromotionDecision,
    RegistrationResult,
    champion_metrics_on,
    decide_promotion,
    register_and_promote,
)
from seedvr.registry.tracking import run_url, start_run

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "ChampionEvaluation",
    "DEFAULT_MODEL_NAME",
    "PromotionDecision",
    "RegistrationResult",
    "champion_metrics_on",
    "configure_tracking",
    "current_champion",
    "decide_promotion",
    "download_registered_pipeline",
    "list_versions",
    "log_pipeline_model",
    "register_and_promote",
    "register_model",
    "resolve_model_version",
    "run_url",
    "start_run",
]
