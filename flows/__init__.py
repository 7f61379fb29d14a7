"""Prefect flows: thin orchestration over the ``seedvr`` library (tasks, retries, artifacts).

``flows.repair`` holds the scheduled batch repair, ``flows.training`` the training pipeline,
``flows.main`` what ``make run`` runs. ``prefect.yaml`` at the project root declares their
deployments; ``flows.deployments`` reads that declaration for ``seedvr serve``, a command of
``flows.cli`` (the ``seedvr`` console script), since the library never imports Prefect.
"""
